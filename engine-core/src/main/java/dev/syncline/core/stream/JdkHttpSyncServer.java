package dev.syncline.core.stream;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.syncline.api.engine.EngineHealth;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.zip.GZIPOutputStream;
import org.jspecify.annotations.Nullable;

/**
 * The sync endpoints on the JDK's built-in HTTP server, with no dependencies: {@code POST
 * /sync/stream} (NDJSON, gzip when accepted), {@code GET /write-checkpoint2.json}, {@code POST
 * /sync/checkpoint-request}, probes, and the protocol's JSON error envelope for every failure
 * (never a stack trace). CORS headers allow browser clients from the configured origin. Every
 * endpoint verifies the token before it reads a request body.
 *
 * <p><b>A development transport.</b> The JDK's server reads request headers and bodies with
 * blocking I/O on its executor's threads: each client still sending its request holds one thread,
 * so a few clients that send slowly can occupy a small executor. Its only defense is a JVM-wide
 * limit on the time to read a request, {@code -Dsun.net.httpserver.maxReqTime=<seconds>} (off
 * unless set), read once when the JVM creates its first server: {@link #start} sets it to {@value
 * #MAX_REQUEST_SECONDS} seconds when nothing set it before; set it yourself ({@code -D} on the
 * command line) when you mount {@link #handler} on your own server. In production, serve the
 * endpoints from a servlet container with asynchronous reads and timeouts ({@link SyncServlet} on
 * Jetty or Tomcat, as the examples do).
 *
 * <p>Request handling runs on the given executor and returns at once for streams; stream lines are
 * written by the {@link SyncService}'s scheduler. <em>Incubating</em>.
 */
public final class JdkHttpSyncServer implements AutoCloseable {
  private final HttpServer server;
  private final SyncService service;
  private final SyncEndpoints endpoints;

  /**
   * The request-read limit {@link #start} sets when nothing set one ({@code
   * sun.net.httpserver.maxReqTime}).
   */
  public static final int MAX_REQUEST_SECONDS = 30;

  private static final String MAX_REQ_TIME = "sun.net.httpserver.maxReqTime";

  private JdkHttpSyncServer(HttpServer server, SyncService service, String allowedOrigin) {
    this.server = server;
    this.service = service;
    this.endpoints = new SyncEndpoints(() -> service, allowedOrigin);
  }

  /**
   * The sync endpoints as a handler to mount on the application's own {@link HttpServer}, at {@code
   * /} or at each of {@code /sync/}, {@code /write-checkpoint2.json} and {@code /probes/} (routes
   * match the full request path). Each request is served by whichever service {@code services}
   * gives then ({@code null}: 503 {@code ENGINE_NOT_RUNNING}); an engine switches services when it
   * activates new rules.
   *
   * @param allowedOrigin value of {@code Access-Control-Allow-Origin} (e.g. {@code *} for
   *     development)
   */
  public static HttpHandler handler(
      Supplier<@Nullable SyncService> services, String allowedOrigin) {
    return handler(services, allowedOrigin, null);
  }

  /**
   * Like {@link #handler(java.util.function.Supplier, String)}, with {@code /probes/readiness}
   * answering from an engine's health ({@link dev.syncline.api.engine.EngineHealth#ready()}).
   */
  public static HttpHandler handler(
      Supplier<@Nullable SyncService> services,
      String allowedOrigin,
      @Nullable Supplier<EngineHealth> health) {
    SyncEndpoints endpoints =
        new SyncEndpoints(
            Objects.requireNonNull(services), Objects.requireNonNull(allowedOrigin), health);
    return exchange -> handle(endpoints, exchange);
  }

  /**
   * Starts serving on {@code address}. Sets {@code sun.net.httpserver.maxReqTime} to {@value
   * #MAX_REQUEST_SECONDS} seconds when the system property is not set (see the class
   * documentation).
   *
   * @param allowedOrigin value of {@code Access-Control-Allow-Origin} (e.g. {@code *} for
   *     development)
   * @param executor runs request handling (not streams)
   */
  public static JdkHttpSyncServer start(
      InetSocketAddress address, SyncService service, String allowedOrigin, Executor executor)
      throws IOException {
    if (System.getProperty(MAX_REQ_TIME) == null) {
      System.setProperty(MAX_REQ_TIME, Integer.toString(MAX_REQUEST_SECONDS));
    }
    HttpServer server = HttpServer.create(address, 1024); // backlog for reconnect bursts
    JdkHttpSyncServer s =
        new JdkHttpSyncServer(server, Objects.requireNonNull(service), allowedOrigin);
    server.createContext("/", s::handle);
    server.setExecutor(executor);
    server.start();
    return s;
  }

  /** The base URL clients connect to. */
  public URI baseUri() {
    return URI.create(
        "http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort());
  }

  private void handle(HttpExchange exchange) throws IOException {
    handle(endpoints, exchange);
  }

  private static void handle(SyncEndpoints endpoints, HttpExchange exchange) throws IOException {
    endpoints.handle(
        new SyncEndpoints.Call() {
          @Override
          public String method() {
            return exchange.getRequestMethod();
          }

          @Override
          public String path() {
            return exchange.getRequestURI().getPath();
          }

          @Override
          public @Nullable String header(String name) {
            return exchange.getRequestHeaders().getFirst(name);
          }

          @Override
          public @Nullable String rawQuery() {
            return exchange.getRequestURI().getRawQuery();
          }

          @Override
          public String remote() {
            return String.valueOf(exchange.getRemoteAddress());
          }

          @Override
          public void readBody(int maxBytes, Consumer<byte[]> onBody, Consumer<Exception> onError) {
            if (declaredLength(exchange) > 4L * maxBytes) {
              // Refused before reading a byte. (A body up to four times too large is read and
              // dropped first, so that a
              // client writing all of it before it reads gets the answer, not a reset connection.)
              onError.accept(SyncEndpoints.tooLarge(maxBytes));
              return;
            }
            byte[] body;
            try {
              body = SyncEndpoints.readBlocking(exchange.getRequestBody(), maxBytes);
            } catch (IOException | RuntimeException e) {
              onError.accept(e);
              return;
            }
            onBody.accept(body);
          }

          @Override
          public void responseHeader(String name, String value) {
            exchange.getResponseHeaders().set(name, value);
          }

          @Override
          public void empty(int status) throws IOException {
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
          }

          @Override
          public void json(int status, String body) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(bytes);
            }
          }

          @Override
          public SyncEndpoints.StreamSink stream(String contentType, boolean gzip) {
            return new ExchangeSink(exchange, contentType, gzip);
          }
        });
  }

  /** The request's {@code Content-Length}, or -1 when it has none (or none that is a number). */
  private static long declaredLength(HttpExchange exchange) {
    String value = exchange.getRequestHeaders().getFirst("Content-Length");
    try {
      return value == null ? -1 : Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Writes stream lines to an exchange: headers on the first line, then chunks, flushed line by
   * line.
   */
  private static final class ExchangeSink implements SyncEndpoints.StreamSink {
    private final HttpExchange exchange;
    private final String contentType;
    private final boolean gzip;
    private @Nullable OutputStream out;
    private boolean closed;

    ExchangeSink(HttpExchange exchange, String contentType, boolean gzip) {
      this.exchange = exchange;
      this.contentType = contentType;
      this.gzip = gzip;
    }

    /**
     * Sends the response headers now, so the client knows the stream is open before the first line.
     */
    @Override
    public synchronized void begin() throws IOException {
      if (out == null && !closed) {
        open().flush();
      }
    }

    @Override
    public synchronized void send(byte[] line) throws IOException {
      write(line);
      opened().flush();
    }

    @Override
    public synchronized void write(byte[] line) throws IOException {
      if (closed) {
        throw new IOException("stream closed");
      }
      opened().write(line);
    }

    @Override
    public synchronized void flush() throws IOException {
      if (out != null && !closed) {
        out.flush();
      }
    }

    /** The response body, opening the response first if that has not happened yet. */
    private OutputStream opened() throws IOException {
      OutputStream o = out;
      return o != null ? o : open();
    }

    private OutputStream open() throws IOException {
      Headers h = exchange.getResponseHeaders();
      h.set("Content-Type", contentType);
      h.set("X-Accel-Buffering", "no");
      h.set("Cache-Control", "no-store");
      if (gzip) {
        h.set("Content-Encoding", "gzip");
      }
      exchange.sendResponseHeaders(200, 0);
      OutputStream raw = exchange.getResponseBody();
      OutputStream o = gzip ? new GZIPOutputStream(raw, 8192, true) : raw;
      out = o;
      return o;
    }

    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        opened().close();
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
