package dev.syncline.core.stream;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.zip.GZIPOutputStream;
import org.jspecify.annotations.Nullable;

/**
 * The sync endpoints as a Jakarta Servlet (6.0+) for any servlet container: {@code POST /sync/stream},
 * {@code GET /write-checkpoint2.json}, {@code POST /sync/checkpoint-request} and probes, relative to where the
 * servlet is mapped (map it to {@code /*} of a context, or {@code /powersync/*} and point clients there). Behaves
 * like {@link JdkHttpSyncServer}: NDJSON or BSON by {@code Accept}, gzip when accepted, a flush per line,
 * {@code X-Accel-Buffering: no}, JSON error envelopes, CORS for the configured origin.
 *
 * <p>Register it with async support ({@code asyncSupported=true}): a stream request puts its request into async
 * mode and returns the container thread at once; lines are written by the {@link SyncService}'s scheduler, so an
 * idle stream holds no thread. The servlet API is a {@code provided} dependency: the container supplies it.
 *
 * <p><em>Incubating</em>: writes are blocking (a slow reader holds one scheduler thread while its socket buffer is
 * full); non-blocking writes with {@code WriteListener} are planned.
 */
public final class SyncServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  private final transient SyncService service;
  private final transient SyncEndpoints endpoints;

  /**
   * @param allowedOrigin value of {@code Access-Control-Allow-Origin} (e.g. {@code *} for development)
   */
  public SyncServlet(SyncService service, String allowedOrigin) {
    this.service = Objects.requireNonNull(service);
    this.endpoints = new SyncEndpoints(service, Objects.requireNonNull(allowedOrigin));
  }

  /** The service behind this servlet. */
  public SyncService service() {
    return service;
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
    endpoints.handle(new ServletCall(request, response));
  }

  private static final class ServletCall implements SyncEndpoints.Call {
    private final HttpServletRequest request;
    private final HttpServletResponse response;

    ServletCall(HttpServletRequest request, HttpServletResponse response) {
      this.request = request;
      this.response = response;
    }

    @Override
    public String method() {
      return request.getMethod();
    }

    @Override
    public String path() {
      String path = request.getPathInfo();
      if (path == null) {
        path = request.getServletPath();
      }
      return path == null || path.isEmpty() ? "/" : path;
    }

    @Override
    public @Nullable String header(String name) {
      return request.getHeader(name);
    }

    @Override
    public @Nullable String rawQuery() {
      return request.getQueryString();
    }

    @Override
    public InputStream body() throws IOException {
      return request.getInputStream();
    }

    @Override
    public void responseHeader(String name, String value) {
      response.setHeader(name, value);
    }

    @Override
    public void empty(int status) {
      response.setStatus(status);
    }

    @Override
    public void json(int status, String body) throws IOException {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      response.setStatus(status);
      response.setContentType("application/json");
      response.setContentLength(bytes.length);
      response.getOutputStream().write(bytes);
    }

    @Override
    public SyncEndpoints.StreamSink stream(String contentType, boolean gzip) throws IOException {
      response.setStatus(200);
      response.setContentType(contentType);
      response.setHeader("X-Accel-Buffering", "no");
      response.setHeader("Cache-Control", "no-store");
      if (gzip) {
        response.setHeader("Content-Encoding", "gzip");
      }
      AsyncContext async = request.startAsync();
      async.setTimeout(0);
      return new AsyncSink(async, response.getOutputStream(), gzip);
    }
  }

  /** Writes lines to an async response from the service's scheduler; completes the async context on close. */
  private static final class AsyncSink implements SyncEndpoints.StreamSink, AsyncListener {
    private final AsyncContext async;
    private final OutputStream out;
    private boolean closed;

    AsyncSink(AsyncContext async, ServletOutputStream raw, boolean gzip) throws IOException {
      this.async = async;
      this.out = gzip ? new GZIPOutputStream(raw, 8192, true) : raw;
      async.addListener(this);
    }

    @Override
    public synchronized void begin() throws IOException {
      if (!closed) {
        out.flush();
      }
    }

    @Override
    public synchronized void send(byte[] line) throws IOException {
      write(line);
      out.flush();
    }

    @Override
    public synchronized void write(byte[] line) throws IOException {
      if (closed) {
        throw new IOException("stream closed");
      }
      out.write(line);
    }

    @Override
    public synchronized void flush() throws IOException {
      if (!closed) {
        out.flush();
      }
    }

    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        out.close();
      } catch (IOException | RuntimeException e) {
        // The client is gone; nothing to tell it.
      }
      try {
        async.complete();
      } catch (IllegalStateException e) {
        // The container already completed the request (client gone or shutdown).
      }
    }

    @Override
    public void onComplete(AsyncEvent event) {
      markClosed();
    }

    @Override
    public void onTimeout(AsyncEvent event) {
      close();
    }

    @Override
    public void onError(AsyncEvent event) {
      close();
    }

    @Override
    public void onStartAsync(AsyncEvent event) {}

    private synchronized void markClosed() {
      closed = true;
    }
  }
}
