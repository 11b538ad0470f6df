package dev.syncline.core.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.core.internal.stream.ErrorEnvelope;
import dev.syncline.core.internal.stream.SyncRequestParser;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The transport-neutral part of the HTTP adapters: routing, CORS headers, body limits, content negotiation and
 * error envelopes. Each adapter supplies a {@link Call} over its own request and response types.
 *
 * <p>{@link #handle} runs on the transport's request thread; stream lines are written later by the
 * {@link SyncService}'s scheduler through the sink the call opens.
 */
final class SyncEndpoints {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One HTTP request and its response, as seen by the endpoints. */
  interface Call {
    String method();

    String path();

    @Nullable String header(String name);

    @Nullable String rawQuery();

    InputStream body() throws IOException;

    void responseHeader(String name, String value);

    /** Ends the exchange with a status and no body. */
    void empty(int status) throws IOException;

    /** Ends the exchange with a JSON body. */
    void json(int status, String body) throws IOException;

    /** Opens the streaming response; headers are sent with {@link StreamSink#begin()} or the first line. */
    StreamSink stream(String contentType, boolean gzip) throws IOException;
  }

  /** A {@link LineSink} whose response headers can be sent before the first line. */
  interface StreamSink extends LineSink {
    void begin() throws IOException;
  }

  private final java.util.function.Supplier<@Nullable SyncService> services;
  private final String allowedOrigin;

  /** @param services the service to use for each request; {@code null} while the engine is not running */
  SyncEndpoints(java.util.function.Supplier<@Nullable SyncService> services, String allowedOrigin) {
    this.services = services;
    this.allowedOrigin = allowedOrigin;
  }

  void handle(Call call) throws IOException {
    try {
      // What the PowerSync service answers, so that browsers' preflights pass the same way.
      call.responseHeader("Access-Control-Allow-Origin", allowedOrigin);
      call.responseHeader("Access-Control-Allow-Headers", "Content-Type, Authorization, User-Agent, X-User-Agent");
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
      SyncService service = services.get();
      if (service == null) {
        throw new SynclineException(ErrorCode.ENGINE_NOT_RUNNING, "The sync engine is not running");
      }
      switch (path) {
        case "/sync/stream" -> {
          requireMethod(method, "POST");
          stream(service, call);
        }
        case "/write-checkpoint2.json" -> {
          requireMethod(method, "GET");
          long id = service.writeCheckpoint(call.header("Authorization"), query(call.rawQuery(), "client_id"));
          call.json(200, "{\"data\":{\"write_checkpoint\":\"" + id + "\"}}");
        }
        case "/sync/checkpoint-request" -> {
          requireMethod(method, "POST");
          checkpointRequest(service, call);
        }
        default -> throw new SynclineException(ErrorCode.NOT_FOUND, "Route not found: " + method + " " + path);
      }
    } catch (SynclineException e) {
      call.json(e.code().httpStatus(), ErrorEnvelope.of(e));
    } catch (RuntimeException e) {
      call.json(500, ErrorEnvelope.of(e));
    }
  }

  private static void requireMethod(String actual, String expected) {
    if (!actual.equals(expected)) {
      throw new SynclineException(ErrorCode.NOT_FOUND, "Route not found for method " + actual);
    }
  }

  private static byte[] body(Call call) throws IOException {
    try (InputStream in = call.body()) {
      byte[] body = in.readNBytes(SyncRequestParser.MAX_BODY_BYTES + 1);
      if (body.length > SyncRequestParser.MAX_BODY_BYTES) {
        // Read the rest (up to a bound) so the error response is not lost to a connection reset.
        long drained = 0;
        byte[] scratch = new byte[64 * 1024];
        int n;
        while (drained < 64L * SyncRequestParser.MAX_BODY_BYTES && (n = in.read(scratch)) > 0) {
          drained += n;
        }
        throw new SynclineException(ErrorCode.INVALID_REQUEST, "Invalid request: request body is larger than "
            + SyncRequestParser.MAX_BODY_BYTES + " bytes");
      }
      return body;
    }
  }

  private void probe(Call call, String path) throws IOException {
    switch (path) {
      case "/probes/liveness" -> call.json(200, "{\"alive\":true}");
      case "/probes/readiness", "/probes/startup" -> {
        boolean ready = services.get() != null;
        call.json(ready ? 200 : 503, "{\"ready\":" + ready + "}");
      }
      default -> throw new SynclineException(ErrorCode.NOT_FOUND, "Route not found: " + call.method() + " " + path);
    }
  }

  private void stream(SyncService service, Call call) throws IOException {
    byte[] body = body(call);
    boolean gzip = accepts(call.header("Accept-Encoding"), "gzip");
    boolean bson = StreamFormats.prefersBson(call.header("Accept"));
    String authorization = call.header("Authorization");
    // Authentication and validation happen before any byte of the response; failures become the envelope.
    StreamSink[] sink = new StreamSink[1];
    service.openStream(authorization, body, () -> sink[0] = call.stream(bson ? StreamFormats.BSON
        : StreamFormats.NDJSON, gzip), bson);
    sink[0].begin();
  }

  private void checkpointRequest(SyncService service, Call call) throws IOException {
    JsonNode node;
    try {
      node = JSON.readTree(body(call));
    } catch (IOException e) {
      throw new SynclineException(ErrorCode.INVALID_REQUEST, "Invalid request: body is not valid JSON");
    }
    JsonNode id = node == null ? null : node.get("checkpoint_request_id");
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
    if (requested < 1) {
      throw new SynclineException(ErrorCode.INVALID_REQUEST,
          "Invalid request: checkpoint_request_id must be an integer from 1 to 9223372036854775807");
    }
    JsonNode clientId = node.get("client_id");
    long stored = service.checkpointRequest(call.header("Authorization"),
        clientId != null && clientId.isTextual() ? clientId.asText() : null, requested);
    call.json(200, "{\"data\":{\"checkpoint_request_id\":\"" + stored + "\"}}");
  }

  static boolean accepts(@Nullable String header, String encoding) {
    if (header == null) {
      return false;
    }
    for (String part : header.split(",")) {
      String[] p = part.trim().split(";");
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
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      if (key.equals(name)) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
