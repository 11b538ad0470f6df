package dev.syncline.core.upload;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.auth.TokenVerifier;
import dev.syncline.core.internal.http.AsyncBody;
import dev.syncline.core.internal.stream.ErrorEnvelope;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * The upload endpoint as a Jakarta Servlet (6.0+): {@code POST} the SDK connector's {@code
 * uploadData} body, answered by an {@link UploadHandler}. What a hand-written endpoint easily gets
 * wrong, done once:
 *
 * <ul>
 *   <li>the token is verified first, with the same {@code Authorization} parsing as the sync
 *       endpoints ({@code Bearer}/{@code Token}, any case); without a valid one the body is never
 *       read (401);
 *   <li>the body is read asynchronously, at most {@link UploadHandler#maxBodyBytes()}, within a
 *       deadline ({@link #DEFAULT_BODY_TIMEOUT}): a client sending slowly, or not at all, holds no
 *       container thread and is answered 408 ({@code SYNCLINE_H0001}) when its time is up;
 *   <li>the answer is the handler's: 200, a 4xx the client discards, or 503 it retries; JSON
 *       envelopes, never a stack trace; every failure logged.
 * </ul>
 *
 * <pre>{@code
 * ServletRegistration.Dynamic upload = servletContext.addServlet("upload",
 *     new UploadServlet(uploads, tokenVerifier, "https://app.example.com"));
 * upload.setAsyncSupported(true);
 * upload.addMapping("/api/upload");
 * }</pre>
 *
 * <p>Threads: the container calls {@link #service}; the upload is applied (blocking JDBC) on the
 * container thread that completes reading the body. Register it with {@code asyncSupported=true}.
 * <em>Incubating</em>.
 */
public final class UploadServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  private static final System.Logger LOG = System.getLogger(UploadServlet.class.getName());

  /** How long a client may take to send its upload body, by default. */
  public static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(30);

  private final transient UploadHandler uploads;
  private final transient TokenVerifier verifier;
  private final String allowedOrigin;
  private final Duration bodyTimeout;

  /** Keeps request bodies' deadlines; stopped by {@link #destroy()}. */
  private final transient ScheduledExecutorService deadlines =
      AsyncBody.newTimer("syncline-upload-body-deadlines");

  /**
   * @param uploads applies the uploads
   * @param verifier verifies the clients' tokens: the one the engine verifies sync requests with
   * @param allowedOrigin value of {@code Access-Control-Allow-Origin} ({@code *} lets any page
   *     upload)
   */
  public UploadServlet(UploadHandler uploads, TokenVerifier verifier, String allowedOrigin) {
    this(uploads, verifier, allowedOrigin, DEFAULT_BODY_TIMEOUT);
  }

  /**
   * Like {@link #UploadServlet(UploadHandler, TokenVerifier, String)}, with the time a body may
   * take to arrive.
   */
  public UploadServlet(
      UploadHandler uploads, TokenVerifier verifier, String allowedOrigin, Duration bodyTimeout) {
    this.uploads = Objects.requireNonNull(uploads, "uploads");
    this.verifier = Objects.requireNonNull(verifier, "verifier");
    this.allowedOrigin = Objects.requireNonNull(allowedOrigin, "allowedOrigin");
    if (bodyTimeout.isNegative() || bodyTimeout.isZero()) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "the body timeout must be positive, got " + bodyTimeout);
    }
    this.bodyTimeout = bodyTimeout;
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    response.setHeader("Access-Control-Allow-Origin", allowedOrigin);
    response.setHeader("Access-Control-Allow-Headers", "Content-Type, Authorization");
    response.setHeader("Access-Control-Allow-Methods", "POST, OPTIONS");
    response.setHeader("Access-Control-Max-Age", "3600");
    if (request.getMethod().equals("OPTIONS")) {
      response.setStatus(204);
      return;
    }
    if (!request.getMethod().equals("POST")) {
      fail(
          request,
          response,
          null,
          new SynclineException(
              ErrorCode.NOT_FOUND, "Route not found for method " + clip(request.getMethod())),
          false);
      return;
    }
    if (!request.isAsyncSupported()) {
      fail(
          request,
          response,
          null,
          new SynclineException(
              ErrorCode.INTERNAL,
              "the upload servlet must be registered with asyncSupported=true (setAsyncSupported(true))"),
          false);
      return;
    }
    AuthContext user;
    try {
      user = verifier.verifyAuthorization(request.getHeader("Authorization"));
    } catch (SynclineException e) {
      fail(request, response, null, e, false);
      return;
    }
    AsyncBody[] reader = new AsyncBody[1];
    reader[0] =
        AsyncBody.read(
            request,
            uploads.maxBodyBytes(),
            bodyTimeout,
            deadlines,
            body -> {
              UploadHandler.Response r = uploads.handle(user, body); // logs what it refuses
              write(response, r.status(), r.json(), false);
              reader[0].complete();
            },
            error -> {
              fail(request, response, user, error, reader[0].draining());
              reader[0].complete(); // now, or once the rest of an over-long body is discarded
            });
    reader[0].start();
  }

  /** Called by the container when it takes the servlet out of service: stops the deadline timer. */
  @Override
  public void destroy() {
    deadlines.shutdownNow();
    super.destroy();
  }

  private static void fail(
      HttpServletRequest request,
      HttpServletResponse response,
      @Nullable AuthContext user,
      Exception error,
      boolean draining) {
    String who =
        request.getRemoteAddr()
            + ":"
            + request.getRemotePort()
            + (user == null ? "" : " (user " + clip(user.userId()) + ")");
    if (error instanceof SynclineException e) {
      int status = e.code().httpStatus();
      if (status >= 500) {
        LOG.log(
            System.Logger.Level.WARNING,
            () -> "upload from " + who + " -> " + status + " " + e.getMessage(),
            e);
      } else {
        LOG.log(
            System.Logger.Level.INFO,
            () -> "upload from " + who + " -> " + status + " " + e.getMessage());
      }
      write(response, status, ErrorEnvelope.of(e), status == 408 || draining);
    } else {
      // The container's read failed: the client went away. Nothing to tell it, but say so in the
      // log.
      LOG.log(System.Logger.Level.DEBUG, () -> "upload from " + who + ": body not read: " + error);
      write(
          response,
          400,
          ErrorEnvelope.of(ErrorCode.INVALID_REQUEST, "the request body could not be read"),
          true);
    }
  }

  private static void write(HttpServletResponse response, int status, String json, boolean close) {
    if (response.isCommitted()) {
      return;
    }
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    if (close) {
      response.setHeader(
          "Connection", "close"); // the rest of the body is not read: end the connection
    }
    response.setContentType("application/json");
    response.setContentLength(bytes.length);
    try {
      response.getOutputStream().write(bytes);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, () -> "could not answer an upload: " + e);
    }
  }

  private static String clip(String s) {
    return s.length() <= 100 ? s : s.substring(0, 100) + "...";
  }
}
