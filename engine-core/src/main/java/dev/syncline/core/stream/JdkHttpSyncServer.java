package dev.syncline.core.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.core.internal.stream.ErrorEnvelope;
import dev.syncline.core.internal.stream.SyncRequestParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.zip.GZIPOutputStream;
import org.jspecify.annotations.Nullable;

/**
 * The sync endpoints on the JDK's built-in HTTP server, with no dependencies: {@code POST /sync/stream} (NDJSON,
 * gzip when accepted), {@code GET /write-checkpoint2.json}, {@code POST /sync/checkpoint-request}, probes, and the
 * protocol's JSON error envelope for every failure (never a stack trace). CORS headers allow browser clients from
 * the configured origin.
 *
 * <p>Request handling runs on the given executor and returns at once for streams; stream lines are written by the
 * {@link SyncService}'s scheduler. <em>Incubating</em>.
 */
public final class JdkHttpSyncServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final SyncService service;
  private final String allowedOrigin;

  private JdkHttpSyncServer(HttpServer server, SyncService service, String allowedOrigin) {
    this.server = server;
    this.service = service;
    this.allowedOrigin = allowedOrigin;
  }

  /**
   * Starts serving on {@code address}.
   *
   * @param allowedOrigin value of {@code Access-Control-Allow-Origin} (e.g. {@code *} for development)
   * @param executor runs request handling (not streams)
   */
  public static JdkHttpSyncServer start(InetSocketAddress address, SyncService service, String allowedOrigin,
      Executor executor) throws IOException {
    HttpServer server = HttpServer.create(address, 0);
    JdkHttpSyncServer s = new JdkHttpSyncServer(server, Objects.requireNonNull(service), allowedOrigin);
    server.createContext("/", s::handle);
    server.setExecutor(executor);
    server.start();
    return s;
  }

  /** The base URL clients connect to. */
  public URI baseUri() {
    return URI.create("http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort());
  }

  private void handle(HttpExchange exchange) throws IOException {
    try {
      Headers h = exchange.getResponseHeaders();
      h.set("Access-Control-Allow-Origin", allowedOrigin);
      h.set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-User-Agent");
      h.set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getPath();
      if (method.equals("OPTIONS")) {
        exchange.sendResponseHeaders(204, -1);
        exchange.close();
        return;
      }
      switch (path) {
        case "/sync/stream" -> {
          requireMethod(method, "POST");
          stream(exchange);
        }
        case "/write-checkpoint2.json" -> {
          requireMethod(method, "GET");
          long id = service.writeCheckpoint(exchange.getRequestHeaders().getFirst("Authorization"),
              query(exchange.getRequestURI(), "client_id"));
          json(exchange, 200, "{\"data\":{\"write_checkpoint\":\"" + id + "\"}}");
        }
        case "/sync/checkpoint-request" -> {
          requireMethod(method, "POST");
          checkpointRequest(exchange);
        }
        case "/probes/liveness", "/probes/readiness", "/probes/startup" -> json(exchange, 200, "{\"ready\":true}");
        default -> throw new SynclineException(ErrorCode.NOT_FOUND, "Route not found: " + method + " " + path);
      }
    } catch (SynclineException e) {
      json(exchange, e.code().httpStatus(), ErrorEnvelope.of(e));
    } catch (RuntimeException e) {
      json(exchange, 500, ErrorEnvelope.of(e));
    }
  }

  private static void requireMethod(String actual, String expected) {
    if (!actual.equals(expected)) {
      throw new SynclineException(ErrorCode.NOT_FOUND, "Route not found for method " + actual);
    }
  }

  private static byte[] body(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
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

  private void stream(HttpExchange exchange) throws IOException {
    byte[] body = body(exchange);
    boolean gzip = accepts(exchange.getRequestHeaders().getFirst("Accept-Encoding"), "gzip");
    boolean bson = StreamFormats.prefersBson(exchange.getRequestHeaders().getFirst("Accept"));
    ExchangeSink sink = new ExchangeSink(exchange, gzip, bson);
    // Authentication and validation happen before any byte of the response; failures become the envelope.
    service.openStream(exchange.getRequestHeaders().getFirst("Authorization"), body, sink, bson);
    sink.begin();
  }

  private void checkpointRequest(HttpExchange exchange) throws IOException {
    JsonNode node;
    try {
      node = JSON.readTree(body(exchange));
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
    long stored = service.checkpointRequest(exchange.getRequestHeaders().getFirst("Authorization"),
        clientId != null && clientId.isTextual() ? clientId.asText() : null, requested);
    json(exchange, 200, "{\"data\":{\"checkpoint_request_id\":\"" + stored + "\"}}");
  }

  private static boolean accepts(@Nullable String header, String encoding) {
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

  private static @Nullable String query(URI uri, String name) {
    String q = uri.getRawQuery();
    if (q == null) {
      return null;
    }
    for (String pair : q.split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      if (key.equals(name)) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private static void json(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** Writes stream lines to an exchange: headers on the first line, then chunks, flushed line by line. */
  private static final class ExchangeSink implements LineSink {
    private final HttpExchange exchange;
    private final boolean gzip;
    private final boolean bson;
    private @Nullable OutputStream out;
    private boolean closed;

    ExchangeSink(HttpExchange exchange, boolean gzip, boolean bson) {
      this.exchange = exchange;
      this.gzip = gzip;
      this.bson = bson;
    }

    /** Sends the response headers now, so the client knows the stream is open before the first line. */
    synchronized void begin() throws IOException {
      if (out == null && !closed) {
        open();
        out.flush();
      }
    }

    @Override
    public synchronized void send(byte[] line) throws IOException {
      if (closed) {
        throw new IOException("stream closed");
      }
      if (out == null) {
        open();
      }
      out.write(line);
      out.flush();
    }

    private void open() throws IOException {
      Headers h = exchange.getResponseHeaders();
      h.set("Content-Type", bson ? StreamFormats.BSON : StreamFormats.NDJSON);
      h.set("X-Accel-Buffering", "no");
      h.set("Cache-Control", "no-store");
      if (gzip) {
        h.set("Content-Encoding", "gzip");
      }
      exchange.sendResponseHeaders(200, 0);
      OutputStream raw = exchange.getResponseBody();
      out = gzip ? new GZIPOutputStream(raw, 8192, true) : raw;
    }

    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        if (out == null) {
          open();
        }
        out.close();
      } catch (IOException e) {
        // The client is gone; nothing to tell it.
      } finally {
        exchange.close();
      }
    }
  }

  /** Stops accepting requests and ends open streams. */
  @Override
  public void close() {
    service.close();
    server.stop(0);
  }
}
