package dev.syncline.core.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.engine.EngineHealth;
import dev.syncline.core.internal.stream.ErrorEnvelope;
import dev.syncline.core.internal.stream.SyncRequestParser;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The transport-neutral part of the HTTP adapters: routing, CORS headers, authentication, body
 * limits, content negotiation, error envelopes and logging. Each adapter supplies a {@link Call}
 * over its own request and response types.
 *
 * <p>Every endpoint verifies the token before it reads a request body: a client without a valid
 * token never makes the server read, buffer or wait for its body. Client mistakes answer a 4xx with
 * a stable code (logged at {@code INFO}, one line); server faults a 5xx (logged at {@code WARNING}
 * or {@code ERROR} with the cause). No response body carries a stack trace or internals.
 *
 * <p>Threads: {@link #handle} runs on the transport's request thread. A transport that reads bodies
 * asynchronously continues the request on whichever of its threads completes the read; stream lines
 * are written later by the {@link SyncService}'s scheduler through the sink the call opens.
 */
final class SyncEndpoints {
  private static final System.Logger LOG = System.getLogger(SyncEndpoints.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Largest body of {@code POST /sync/checkpoint-request} (a client id and a number). */
  static final int MAX_CHECKPOINT_REQUEST_BYTES = 4 * 1024;

  /** One HTTP request and its response, as seen by the endpoints. */
  interface Call {
    String method();

    String path();

    @Nullable String header(String name);

    @Nullable String rawQuery();

    /** The peer, for logs; never sent to anyone. */
    String remote();

    /**
     * Reads the whole request body, at most {@code maxBytes}, then calls {@code onBody} with it, or
     * {@code onError} with a {@link SynclineException} (too large: {@code INVALID_REQUEST}; too
     * slow: {@code REQUEST_TIMEOUT}) or the {@link IOException} of a client gone. Exactly one of
     * them is called, once, on this thread or on one of the transport's threads.
     */
    void readBody(int maxBytes, Consumer<byte[]> onBody, Consumer<Exception> onError);

    void responseHeader(String name, String value);

    /** Ends the exchange with a status and no body. */
    void empty(int status) throws IOException;

    /** Ends the exchange with a JSON body. */
    void json(int status, String body) throws IOException;

    /**
     * Opens the streaming response; headers are sent with {@link StreamSink#begin()} or the first
     * line.
     */
    StreamSink stream(String contentType, boolean gzip) throws IOException;
  }

  /** A {@link LineSink} whose response headers can be sent before the first line. */
  interface StreamSink extends LineSink {
    void begin() throws IOException;
  }

  /** A step of a request that may fail with an answer for the client. */
  private interface Step {
    void run() throws IOException;
  }

  private final Supplier<@Nullable SyncService> services;
  private final String allowedOrigin;
  private final @Nullable Supplier<EngineHealth> health;

  /**
   * @param services the service to use for each request; {@code null} while the engine is not
   *     running
   */
  SyncEndpoints(Supplier<@Nullable SyncService> services, String allowedOrigin) {
    this(services, allowedOrigin, null);
  }

  /**
   * @param services the service to use for each request; {@code null} while the engine is not
   *     running
   * @param health the engine's health, which {@code /probes/readiness} answers from; null: ready
   *     while a service runs
   */
  SyncEndpoints(
      Supplier<@Nullable SyncService> services,
      String allowedOrigin,
      @Nullable Supplier<EngineHealth> health) {
    this.services = services;
    this.allowedOrigin = allowedOrigin;
    this.health = health;
  }

  void handle(Call call) {
    run(
        call,
        () -> {
          // What the PowerSync service answers, so that browsers' preflights pass the same way.
          call.responseHeader("Access-Control-Allow-Origin", allowedOrigin);
          call.responseHeader(
              "Access-Control-Allow-Headers",
              "Content-Type, Authorization, User-Agent, X-User-Agent");
          call.responseHeader("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
          call.responseHeader("Access-Control-Expose-Headers", "Content-Type");
          call.responseHeader("Access-Control-Max-Age", "3600");
          String method = call.method();
          String path = call.path();
          if (method.equals("OPTIONS")) {
            call.empty(204);
            return;
          }
          if (path.startsWith("/probes/")) {
            probe(call, path);
            return;
          }
          SyncService service = service();
          switch (path) {
            case "/sync/stream" -> {
              requireMethod(method, "POST");
              AuthContext auth = service.authenticate(call.header("Authorization"));
              call.readBody(
                  SyncRequestParser.MAX_BODY_BYTES,
                  body -> run(call, () -> stream(auth, body, call)),
                  error -> run(call, () -> failed(error)));
            }
            case "/write-checkpoint2.json" -> {
              requireMethod(method, "GET");
              AuthContext auth = service.authenticate(call.header("Authorization"));
              long id = service.writeCheckpoint(auth, query(call.rawQuery(), "client_id"));
              call.json(200, "{\"data\":{\"write_checkpoint\":\"" + id + "\"}}");
            }
            case "/sync/checkpoint-request" -> {
              requireMethod(method, "POST");
              AuthContext auth = service.authenticate(call.header("Authorization"));
              call.readBody(
                  MAX_CHECKPOINT_REQUEST_BYTES,
                  body -> run(call, () -> checkpointRequest(auth, body, call)),
                  error -> run(call, () -> failed(error)));
            }
            default ->
                throw new SynclineException(
                    ErrorCode.NOT_FOUND, "Route not found: " + method + " " + clip(path));
          }
        });
  }

  /**
   * Runs a step, answering a failure with the protocol's envelope and logging it: 4xx are the
   * client's mistakes (one line at {@code INFO}), 5xx are faults (with their cause at {@code
   * WARNING}, or {@code ERROR} when unexpected).
   */
  private void run(Call call, Step step) {
    try {
      step.run();
    } catch (SynclineException e) {
      int status = e.code().httpStatus();
      if (status >= 500) {
        LOG.log(System.Logger.Level.WARNING, () -> line(call, status, e), e);
      } else {
        LOG.log(System.Logger.Level.INFO, () -> line(call, status, e));
      }
      respond(call, status, ErrorEnvelope.of(e));
    } catch (IOException e) {
      // The client went away while we answered it: nothing to tell anyone.
      LOG.log(
          System.Logger.Level.DEBUG,
          () ->
              call.method()
                  + " "
                  + clip(call.path())
                  + " from "
                  + call.remote()
                  + ": client gone ("
                  + e
                  + ")");
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.ERROR,
          () ->
              call.method()
                  + " "
                  + clip(call.path())
                  + " from "
                  + call.remote()
                  + " -> 500 "
                  + ErrorCode.INTERNAL.code()
                  + ": unexpected failure",
          e);
      respond(call, 500, ErrorEnvelope.of(e));
    }
  }

  private static void respond(Call call, int status, String json) {
    try {
      call.json(status, json);
    } catch (IOException | RuntimeException e) {
      LOG.log(
          System.Logger.Level.DEBUG,
          () ->
              "could not answer "
                  + call.method()
                  + " "
                  + clip(call.path())
                  + " from "
                  + call.remote()
                  + ": "
                  + e);
    }
  }

  private static String line(Call call, int status, SynclineException e) {
    return call.method()
        + " "
        + clip(call.path())
        + " from "
        + call.remote()
        + " -> "
        + status
        + " "
        + e.code().code()
        + ": "
        + clip(message(e));
  }

  /** The exception's message without its {@code [CODE] } prefix. */
  static String message(SynclineException e) {
    String m = String.valueOf(e.getMessage());
    String prefix = "[" + e.code().code() + "] ";
    return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
  }

  /** A value a client chose, cut short for a log line or an answer. */
  static String clip(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  private static void failed(Exception error) throws IOException {
    if (error instanceof SynclineException s) {
      throw s;
    } else if (error instanceof IOException io) {
      throw io;
    }
    throw new IllegalStateException("reading the request body failed", error);
  }

  private SyncService service() {
    SyncService service = services.get();
    if (service == null) {
      throw new SynclineException(ErrorCode.ENGINE_NOT_RUNNING, "The sync engine is not running");
    }
    return service;
  }

  private static void requireMethod(String actual, String expected) {
    if (!actual.equals(expected)) {
      throw new SynclineException(
          ErrorCode.NOT_FOUND, "Route not found for method " + clip(actual));
    }
  }

  /**
   * {@code /probes/liveness}: the process answers. {@code /probes/startup}: the engine runs. {@code
   * /probes/readiness}: it can serve current data ({@link EngineHealth#ready()}: the initial
   * snapshot done, replication streaming here or elsewhere, storage reachable), else 503 with the
   * reason's stable code. Nothing more: details are for the host's own health endpoint, not for
   * anyone who can reach the sync endpoints.
   */
  private void probe(Call call, String path) throws IOException {
    switch (path) {
      case "/probes/liveness" -> call.json(200, "{\"alive\":true}");
      case "/probes/startup" -> {
        boolean started = services.get() != null;
        call.json(started ? 200 : 503, "{\"started\":" + started + "}");
      }
      case "/probes/readiness" -> {
        String reason =
            health == null
                ? (services.get() != null ? null : "NOT_RUNNING")
                : health.get().notReadyReason();
        call.json(
            reason == null ? 200 : 503,
            reason == null
                ? "{\"ready\":true}"
                : "{\"ready\":false,\"reason\":\"" + reason + "\"}");
      }
      default ->
          throw new SynclineException(
              ErrorCode.NOT_FOUND, "Route not found: " + call.method() + " " + clip(path));
    }
  }

  private void stream(AuthContext auth, byte[] body, Call call) throws IOException {
    boolean gzip = accepts(call.header("Accept-Encoding"), "gzip");
    boolean bson = StreamFormats.prefersBson(call.header("Accept"));
    // Validation happens before any byte of the response; failures become the envelope. The service
    // is looked up
    // again: the engine may have switched rules versions while the body arrived.
    StreamSink[] sink = new StreamSink[1];
    service()
        .openStream(
            auth,
            body,
            () -> sink[0] = call.stream(bson ? StreamFormats.BSON : StreamFormats.NDJSON, gzip),
            bson);
    sink[0].begin();
  }

  private void checkpointRequest(AuthContext auth, byte[] body, Call call) throws IOException {
    JsonNode node;
    try {
      node = JSON.readTree(body);
    } catch (IOException e) {
      throw new SynclineException(
          ErrorCode.INVALID_REQUEST, "Invalid request: body is not valid JSON");
    }
    if (node == null || !node.isObject()) {
      throw new SynclineException(
          ErrorCode.INVALID_REQUEST, "Invalid request: body must be a JSON object");
    }
    JsonNode id = node.get("checkpoint_request_id");
    long requested;
    if (id != null && id.isTextual() && id.asText().matches("[0-9]{1,19}")) {
      try {
        requested = Long.parseLong(id.asText());
      } catch (NumberFormatException e) {
        requested = -1;
      }
    } else if (id != null && id.isIntegralNumber() && id.canConvertToLong()) {
      requested = id.asLong();
    } else {
      requested = -1;
    }
    WriteCheckpointKey.checkRequestedId(requested);
    JsonNode clientId = node.get("client_id");
    if (clientId != null && !clientId.isNull() && !clientId.isTextual()) {
      throw new SynclineException(
          ErrorCode.INVALID_REQUEST, "Invalid request: client_id must be a string");
    }
    long stored =
        service()
            .checkpointRequest(
                auth,
                clientId != null && clientId.isTextual() ? clientId.asText() : null,
                requested);
    call.json(200, "{\"data\":{\"checkpoint_request_id\":\"" + stored + "\"}}");
  }

  /**
   * Reads a blocking body of at most {@code maxBytes}: the body, or {@code INVALID_REQUEST} when
   * larger (the rest is drained, up to a bound, so that the answer is not lost to a connection
   * reset).
   */
  static byte[] readBlocking(InputStream in, int maxBytes) throws IOException {
    try (in) {
      byte[] body = in.readNBytes(maxBytes + 1);
      if (body.length > maxBytes) {
        long drained = 0;
        byte[] scratch = new byte[64 * 1024];
        int n;
        while (drained < 4L * maxBytes && (n = in.read(scratch)) > 0) {
          drained += n;
        }
        throw tooLarge(maxBytes);
      }
      return body;
    }
  }

  /** The error for a body larger than {@code maxBytes}. */
  static SynclineException tooLarge(int maxBytes) {
    return new SynclineException(
        ErrorCode.INVALID_REQUEST,
        "Invalid request: request body is larger than " + maxBytes + " bytes");
  }

  static boolean accepts(@Nullable String header, String encoding) {
    if (header == null) {
      return false;
    }
    for (String part : header.split(",", -1)) {
      String[] p = part.trim().split(";", -1);
      if (p[0].trim().equalsIgnoreCase(encoding)) {
        return !(p.length > 1 && p[1].trim().replace(" ", "").equals("q=0"));
      }
    }
    return false;
  }

  static @Nullable String query(@Nullable String rawQuery, String name) {
    if (rawQuery == null) {
      return null;
    }
    for (String pair : rawQuery.split("&", -1)) {
      int eq = pair.indexOf('=');
      String key = decode(eq < 0 ? pair : pair.substring(0, eq));
      if (key.equals(name)) {
        return eq < 0 ? "" : decode(pair.substring(eq + 1));
      }
    }
    return null;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new SynclineException(
          ErrorCode.INVALID_REQUEST, "Invalid request: malformed query string");
    }
  }
}
