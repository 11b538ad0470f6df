package dev.syncline.core.internal.http;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Reads a servlet request's body without holding a thread while the client sends it: the request goes into async
 * mode, bytes are taken as the container says they are available ({@link ReadListener}), at most {@code maxBytes}
 * of them, within a deadline. A client that sends its body one byte a second, or not at all, costs a buffer and a
 * timer, never a thread, and is answered when the deadline passes.
 *
 * <p>Exactly one of the callbacks runs, once, on a container thread (or on the caller's, for an empty or
 * over-long declared body). On success the async context stays open with the deadline still set: the caller
 * completes it, or resets its timeout (a stream). On failure it stays open too, so the caller can answer.
 * Internal: the sync and upload servlets use it.
 */
public final class AsyncBody implements ReadListener, AsyncListener {
  private final ServletInputStream in;
  private final int maxBytes;
  private final ByteArrayOutputStream buffer;
  private final Consumer<byte[]> onBody;
  private final Consumer<Exception> onError;
  private final AtomicBoolean done = new AtomicBoolean();
  private final byte[] chunk;

  private AsyncBody(ServletInputStream in, int maxBytes, long declared, Consumer<byte[]> onBody,
      Consumer<Exception> onError) {
    this.in = in;
    this.maxBytes = maxBytes;
    this.buffer = new ByteArrayOutputStream(declared > 0 ? (int) declared : 1024);
    this.chunk = new byte[Math.min(16 * 1024, maxBytes + 1)];
    this.onBody = onBody;
    this.onError = onError;
  }

  /**
   * Starts reading {@code request}'s body (putting it into async mode with {@code timeout}, unless it is already)
   * and returns its async context.
   *
   * @param onBody receives the whole body, at most {@code maxBytes}
   * @param onError receives {@code INVALID_REQUEST} for a larger body, {@code REQUEST_TIMEOUT} when the deadline
   *     passed first, or the container's {@link IOException} (the client went away)
   */
  public static AsyncContext read(HttpServletRequest request, int maxBytes, Duration timeout,
      Consumer<byte[]> onBody, Consumer<Exception> onError) throws IOException {
    AsyncContext async = request.isAsyncStarted() ? request.getAsyncContext() : request.startAsync();
    async.setTimeout(Math.max(1, timeout.toMillis()));
    long declared = request.getContentLengthLong();
    if (declared > maxBytes) {
      onError.accept(tooLarge(maxBytes)); // refused without reading a byte
      return async;
    }
    if (declared == 0) {
      onBody.accept(new byte[0]);
      return async;
    }
    AsyncBody reader = new AsyncBody(request.getInputStream(), maxBytes, declared, onBody, onError);
    async.addListener(reader);
    reader.in.setReadListener(reader);
    return async;
  }

  /** The error for a body larger than {@code maxBytes} ({@code INVALID_REQUEST}, HTTP 400). */
  public static SynclineException tooLarge(int maxBytes) {
    return new SynclineException(ErrorCode.INVALID_REQUEST, "Invalid request: request body is larger than "
        + maxBytes + " bytes");
  }

  /** The error for a body that did not arrive in time ({@code REQUEST_TIMEOUT}, HTTP 408). */
  public static SynclineException timedOut(Duration timeout) {
    return new SynclineException(ErrorCode.REQUEST_TIMEOUT, "the request body did not arrive within "
        + timeout.toSeconds() + " s");
  }

  @Override
  public void onDataAvailable() throws IOException {
    while (!done.get() && in.isReady()) {
      int n = in.read(chunk);
      if (n < 0) {
        return; // onAllDataRead follows
      }
      buffer.write(chunk, 0, n);
      if (buffer.size() > maxBytes) {
        fail(tooLarge(maxBytes));
        return;
      }
    }
  }

  @Override
  public void onAllDataRead() {
    if (done.compareAndSet(false, true)) {
      onBody.accept(buffer.toByteArray());
    }
  }

  @Override
  public void onError(Throwable t) {
    fail(t instanceof Exception e ? e : new IOException(t));
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    long millis = event.getAsyncContext().getTimeout();
    fail(timedOut(Duration.ofMillis(millis)));
  }

  @Override
  public void onComplete(AsyncEvent event) {
    done.set(true); // answered (or the client went away): nothing more to read for anyone
  }

  @Override
  public void onError(AsyncEvent event) {
    Throwable t = event.getThrowable();
    fail(t instanceof Exception e ? e : new IOException(String.valueOf(t)));
  }

  @Override
  public void onStartAsync(AsyncEvent event) {}

  private void fail(Exception error) {
    if (done.compareAndSet(false, true)) {
      onError.accept(error);
    }
  }
}
