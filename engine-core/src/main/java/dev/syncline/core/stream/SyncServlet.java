package dev.syncline.core.stream;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.engine.EngineHealth;
import dev.syncline.core.internal.http.AsyncBody;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.zip.GZIPOutputStream;
import org.jspecify.annotations.Nullable;

/**
 * The sync endpoints as a Jakarta Servlet (6.0+) for any servlet container: {@code POST
 * /sync/stream}, {@code GET /write-checkpoint2.json}, {@code POST /sync/checkpoint-request} and
 * probes, relative to where the servlet is mapped (map it to {@code /*} of a context, or {@code
 * /powersync/*} and point clients there). Behaves like {@link JdkHttpSyncServer}: NDJSON or BSON by
 * {@code Accept}, gzip when accepted, a flush per line, {@code X-Accel-Buffering: no}, JSON error
 * envelopes, CORS for the configured origin.
 *
 * <p>Register it with async support ({@code asyncSupported=true}): a stream request puts its
 * request into async mode and returns the container thread at once; lines are written by the {@link
 * SyncService}'s scheduler, so an idle stream holds no thread. The servlet API is a {@code
 * provided} dependency: the container supplies it.
 *
 * <p>Writes are non-blocking ({@code WriteListener}): a client that reads slowly holds no thread;
 * the stream produces its next page only once the response took the previous one. Reads are too:
 * every endpoint verifies the token first, then reads the request body asynchronously ({@code
 * ReadListener}), at most 1 MiB within {@link #DEFAULT_BODY_TIMEOUT} (configurable), so a client
 * that sends its body slowly or not at all holds no thread either and is answered 408 ({@code
 * SYNCLINE_H0001}) when its time is up. <em>Incubating</em>.
 */
public final class SyncServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** How long a client may take to send a request body, by default. */
  public static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(30);

  private final transient SyncEndpoints endpoints;
  private final Duration bodyTimeout;

  /** Keeps request bodies' deadlines; stopped by {@link #destroy()}. */
  private final transient ScheduledExecutorService deadlines =
      AsyncBody.newTimer("syncline-sync-body-deadlines");

  /**
   * @param allowedOrigin value of {@code Access-Control-Allow-Origin} (e.g. {@code *} for
   *     development)
   */
  public SyncServlet(SyncService service, String allowedOrigin) {
    this(() -> Objects.requireNonNull(service), allowedOrigin);
  }

  /**
   * Serves whichever service {@code services} gives at each request (an engine switches services
   * when it activates new rules); {@code null} answers 503 {@code ENGINE_NOT_RUNNING}.
   *
   * @param allowedOrigin value of {@code Access-Control-Allow-Origin} (e.g. {@code *} for
   *     development)
   */
  public SyncServlet(Supplier<@Nullable SyncService> services, String allowedOrigin) {
    this(services, allowedOrigin, DEFAULT_BODY_TIMEOUT);
  }

  /**
   * Like {@link #SyncServlet(java.util.function.Supplier, String)}, with the time a client may take
   * to send a request body ({@link #DEFAULT_BODY_TIMEOUT} by default); a slower one is answered 408
   * ({@code SYNCLINE_H0001}).
   */
  public SyncServlet(
      Supplier<@Nullable SyncService> services, String allowedOrigin, Duration bodyTimeout) {
    this(services, allowedOrigin, bodyTimeout, null);
  }

  /**
   * The endpoints of an engine: like {@link #SyncServlet(java.util.function.Supplier, String,
   * Duration)}, with {@code /probes/readiness} answering from the engine's health ({@link
   * EngineHealth#ready()}).
   */
  public SyncServlet(
      Supplier<@Nullable SyncService> services,
      String allowedOrigin,
      Duration bodyTimeout,
      @Nullable Supplier<EngineHealth> health) {
    this.endpoints =
        new SyncEndpoints(
            Objects.requireNonNull(services), Objects.requireNonNull(allowedOrigin), health);
    if (bodyTimeout.isNegative() || bodyTimeout.isZero()) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "the body timeout must be positive, got " + bodyTimeout);
    }
    this.bodyTimeout = bodyTimeout;
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    endpoints.handle(new ServletCall(request, response, bodyTimeout, deadlines));
  }

  /** Called by the container when it takes the servlet out of service: stops the deadline timer. */
  @Override
  public void destroy() {
    deadlines.shutdownNow();
    super.destroy();
  }

  private static final class ServletCall implements SyncEndpoints.Call {
    private final HttpServletRequest request;
    private final HttpServletResponse response;
    private final Duration bodyTimeout;
    private final ScheduledExecutorService deadlines;

    /**
     * Whether a stream's sink owns the response (and completes it); answers before that complete it
     * here.
     */
    private volatile boolean streaming;

    /**
     * The body's reader, once reading started: it completes the request (after discarding an
     * over-long body).
     */
    private volatile @Nullable AsyncBody body;

    ServletCall(
        HttpServletRequest request,
        HttpServletResponse response,
        Duration bodyTimeout,
        ScheduledExecutorService deadlines) {
      this.request = request;
      this.response = response;
      this.bodyTimeout = bodyTimeout;
      this.deadlines = deadlines;
    }

    @Override
    public String remote() {
      return request.getRemoteAddr() + ":" + request.getRemotePort();
    }

    @Override
    public void readBody(int maxBytes, Consumer<byte[]> onBody, Consumer<Exception> onError) {
      if (!request.isAsyncSupported()) {
        // A deployment mistake, told to the developer instead of a thread held by every slow
        // client.
        onError.accept(
            new SynclineException(
                ErrorCode.INTERNAL,
                "the sync servlet must be registered with asyncSupported=true (setAsyncSupported(true))"));
        return;
      }
      try {
        AsyncBody reader =
            AsyncBody.read(request, maxBytes, bodyTimeout, deadlines, onBody, onError);
        body = reader; // before it starts: an answer given at once completes through it
        reader.start();
      } catch (IOException | RuntimeException e) {
        onError.accept(e);
      }
    }

    @Override
    public String method() {
      return request.getMethod();
    }

    @Override
    public String path() {
      // The path inside the web application, whichever way the servlet is mapped: "/*" (servlet
      // path empty),
      // "/sync/*" (servlet path "/sync", path info "/stream") or exactly "/write-checkpoint2.json".
      String servletPath = request.getServletPath();
      String pathInfo = request.getPathInfo();
      String path = (servletPath == null ? "" : servletPath) + (pathInfo == null ? "" : pathInfo);
      return path.isEmpty() ? "/" : path;
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
    public void responseHeader(String name, String value) {
      response.setHeader(name, value);
    }

    @Override
    public void empty(int status) {
      response.setStatus(status);
      complete();
    }

    @Override
    public void json(int status, String json) throws IOException {
      byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
      try {
        if (response.isCommitted()) {
          return; // a stream already answered; nothing more can be said on this response
        }
        response.setStatus(status);
        AsyncBody b = body;
        if (status == 408 || (b != null && b.draining())) {
          response.setHeader(
              "Connection", "close"); // the rest of the body is not used: end the connection
        }
        response.setContentType("application/json");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
        response.flushBuffer(); // the answer leaves now, also while the rest of a body is still
        // discarded
      } finally {
        complete();
      }
    }

    private void complete() {
      if (streaming || !request.isAsyncStarted()) {
        return;
      }
      AsyncBody b = body;
      if (b != null) {
        b.complete(); // now, or once the rest of an over-long body is discarded
        return;
      }
      try {
        request.getAsyncContext().complete();
      } catch (IllegalStateException e) {
        // Already completed (the client went away, or the container timed it out).
      }
    }

    @Override
    public SyncEndpoints.StreamSink stream(String contentType, boolean gzip) throws IOException {
      if (!request.isAsyncSupported()) {
        // A deployment mistake, told to the developer instead of a bare 500.
        throw new SynclineException(
            ErrorCode.INTERNAL,
            "the sync servlet must be registered with asyncSupported=true (setAsyncSupported(true))");
      }
      response.setStatus(200);
      response.setContentType(contentType);
      response.setHeader("X-Accel-Buffering", "no");
      response.setHeader("Cache-Control", "no-store");
      if (gzip) {
        response.setHeader("Content-Encoding", "gzip");
      }
      AsyncContext a = request.isAsyncStarted() ? request.getAsyncContext() : request.startAsync();
      // A stream lives until it ends or its client goes away: no container timeout (AsyncBody set
      // none already; this covers an async cycle started here).
      a.setTimeout(0);
      streaming = true; // from now on the sink completes it
      return new AsyncSink(a, response.getOutputStream(), gzip);
    }
  }

  /**
   * Non-blocking writes to an async response: lines are written only while the container says the
   * response can take them ({@code isReady}); otherwise they wait in a short queue (at most one
   * page of data and a few small lines, because the service stops producing while {@link
   * #saturated()}) and the container's {@code onWritePossible} drains them and wakes the stream.
   * All methods synchronize on the sink: the scheduler and the container's threads both call it.
   */
  private static final class AsyncSink
      implements SyncEndpoints.StreamSink, AsyncListener, WriteListener {
    private final AsyncContext async;
    private final ServletOutputStream out;
    private final @Nullable ByteArrayOutputStream compressed;
    private final @Nullable GZIPOutputStream gzip;
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private volatile Runnable drained = () -> {};
    private boolean flushWanted;
    private boolean ending;
    private boolean closed;

    AsyncSink(AsyncContext async, ServletOutputStream out, boolean gzip) throws IOException {
      this.async = async;
      this.out = out;
      this.compressed = gzip ? new ByteArrayOutputStream() : null;
      this.gzip = gzip ? new GZIPOutputStream(compressed, 8192, true) : null;
      async.addListener(this);
      out.setWriteListener(this);
    }

    @Override
    public synchronized void begin() throws IOException {
      flush();
    }

    @Override
    public synchronized void send(byte[] line) throws IOException {
      write(line);
      flush();
    }

    @Override
    public synchronized void write(byte[] line) throws IOException {
      if (closed || ending) {
        throw new IOException("stream closed");
      }
      queue.add(encode(line));
      drain();
    }

    private byte[] encode(byte[] line) throws IOException {
      if (gzip == null || compressed == null) {
        return line;
      }
      gzip.write(line);
      gzip.flush();
      byte[] bytes = compressed.toByteArray();
      compressed.reset();
      return bytes;
    }

    @Override
    public synchronized void flush() throws IOException {
      if (!closed) {
        flushWanted = true;
        drain();
      }
    }

    @Override
    public synchronized boolean saturated() {
      try {
        return !closed && (!queue.isEmpty() || !out.isReady());
      } catch (IllegalStateException e) {
        return false;
      }
    }

    @Override
    public void onDrained(Runnable callback) {
      drained = callback;
    }

    /**
     * Writes what the container can take now; completes the response once an ended stream is fully
     * written.
     */
    private void drain() throws IOException {
      while (!closed && !queue.isEmpty() && out.isReady()) {
        out.write(queue.poll());
      }
      if (closed || !queue.isEmpty()) {
        return;
      }
      if (flushWanted && out.isReady()) {
        flushWanted = false;
        out.flush();
      }
      if (ending && !flushWanted && out.isReady()) {
        complete();
      }
    }

    @Override
    public void onWritePossible() throws IOException {
      boolean wake;
      synchronized (this) {
        drain();
        wake = !closed && !ending && queue.isEmpty();
      }
      if (wake) {
        drained.run();
      }
    }

    @Override
    public synchronized void close() {
      if (closed || ending) {
        return;
      }
      ending = true;
      try {
        if (gzip != null && compressed != null) {
          gzip.finish();
          queue.add(compressed.toByteArray());
          compressed.reset();
        }
        flushWanted = true;
        drain();
      } catch (IOException | RuntimeException e) {
        complete();
      }
    }

    private void complete() {
      if (closed) {
        return;
      }
      closed = true;
      queue.clear();
      try {
        async.complete();
      } catch (IllegalStateException e) {
        // The container already completed the request (client gone or shutdown).
      }
    }

    @Override
    public synchronized void onError(Throwable failure) {
      complete();
    }

    @Override
    public synchronized void onComplete(AsyncEvent event) {
      closed = true;
      queue.clear();
    }

    @Override
    public synchronized void onTimeout(AsyncEvent event) {
      complete();
    }

    @Override
    public synchronized void onError(AsyncEvent event) {
      complete();
    }

    @Override
    public void onStartAsync(AsyncEvent event) {}
  }
}
