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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Reads a servlet request's body without holding a thread while the client sends it: the request
 * goes into async mode, bytes are taken as the container says they are available ({@link
 * ReadListener}), at most {@code maxBytes} of them, within a deadline. A client that sends its body
 * one byte a second, or not at all, costs a buffer and a timer, never a thread, and is answered
 * when the deadline passes.
 *
 * <p>A body larger than {@code maxBytes} is refused as soon as that is known (its declared length,
 * or the bytes read), and the rest of it is then read and discarded, up to {@link #DRAIN_FACTOR}
 * times {@code maxBytes} and within the same deadline, before the request is completed: a client
 * that writes its whole body before reading the answer (as most HTTP clients do) gets the answer
 * instead of a reset connection, so it can tell "too large, give up" from "network error, retry".
 * Whoever answers calls {@link #complete()}, which completes the request now or once the discarding
 * ends.
 *
 * <p>The deadline is kept by a timer of the servlet's ({@link #newTimer}), not by the container's
 * async timeout, which is set to none: Jetty arms that timeout when the first dispatch returns and
 * keeps it even when it is changed later, so a stream whose body arrived after the first dispatch
 * was ended when the body's deadline passed.
 *
 * <p>Exactly one of the callbacks runs, once, on a container thread, on the timer's thread (the
 * deadline), or on the caller's (an empty or over-long declared body, before {@link #start}
 * returns). On success the async context stays open, without a deadline: the caller answers and
 * completes it (or streams). Internal: the sync and upload servlets use it.
 */
public final class AsyncBody implements ReadListener, AsyncListener {
  /**
   * How much more than the limit is read and discarded so that a client gets its "too large"
   * answer.
   */
  public static final int DRAIN_FACTOR = 4;

  private final AsyncContext async;
  private final HttpServletRequest request;
  private final int maxBytes;
  private final Duration timeout;
  private final ScheduledExecutorService timer;
  private volatile @Nullable ScheduledFuture<?> deadline;
  private final Consumer<byte[]> onBody;
  private final Consumer<Exception> onError;
  private final AtomicBoolean done = new AtomicBoolean();
  private @Nullable ServletInputStream in;

  /**
   * The bytes read so far; dropped once done (the listener stays registered for the request's whole
   * life).
   */
  private volatile @Nullable ByteArrayOutputStream buffer;

  /** Set while the rest of an over-long body is read and discarded. */
  private volatile boolean draining;

  private long drained;

  /** The answer was written and the request is to be completed once draining ends. */
  private final AtomicBoolean completeWanted = new AtomicBoolean();

  private final AtomicBoolean completed = new AtomicBoolean();

  private AsyncBody(
      AsyncContext async,
      HttpServletRequest request,
      int maxBytes,
      Duration timeout,
      ScheduledExecutorService timer,
      Consumer<byte[]> onBody,
      Consumer<Exception> onError) {
    this.async = async;
    this.request = request;
    this.maxBytes = maxBytes;
    this.timeout = timeout;
    this.timer = timer;
    this.buffer = new ByteArrayOutputStream(1024);
    this.onBody = onBody;
    this.onError = onError;
  }

  /**
   * A timer for body deadlines: one daemon thread while deadlines are pending (it ends 30 s after
   * the last); cancelled deadlines are removed at once. A servlet makes one and shuts it down in
   * {@code destroy()}.
   */
  public static ScheduledExecutorService newTimer(String name) {
    ScheduledThreadPoolExecutor timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            });
    timer.setRemoveOnCancelPolicy(true);
    timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    timer.setKeepAliveTime(30, TimeUnit.SECONDS); // no thread while no body is awaited
    timer.allowCoreThreadTimeOut(true);
    return timer;
  }

  /**
   * Prepares to read {@code request}'s body, putting it into async mode without a container timeout
   * (unless it is already in async mode); {@link #start()} begins and sets the deadline.
   *
   * @param timeout how long the body may take, from {@link #start()}
   * @param timer keeps the deadline ({@link #newTimer})
   * @param onBody receives the whole body, at most {@code maxBytes}
   * @param onError receives {@code INVALID_REQUEST} for a larger body, {@code REQUEST_TIMEOUT} when
   *     the deadline passed first, or the container's {@link IOException} (the client went away)
   * @return the reader: {@link #start()} it, and call its {@link #complete()} once answered
   */
  public static AsyncBody read(
      HttpServletRequest request,
      int maxBytes,
      Duration timeout,
      ScheduledExecutorService timer,
      Consumer<byte[]> onBody,
      Consumer<Exception> onError) {
    AsyncContext async =
        request.isAsyncStarted() ? request.getAsyncContext() : request.startAsync();
    async.setTimeout(0); // the deadline is this reader's own (see the class comment)
    AsyncBody reader = new AsyncBody(async, request, maxBytes, timeout, timer, onBody, onError);
    async.addListener(reader);
    return reader;
  }

  /**
   * Starts reading. An empty or over-long declared body is answered before this returns (on this
   * thread); any other, on container threads as it arrives.
   */
  public void start() throws IOException {
    long declared = request.getContentLengthLong();
    if (declared == 0) {
      done.set(true);
      buffer = null;
      onBody.accept(new byte[0]);
      return;
    }
    if (declared > maxBytes) {
      buffer = null;
      if (declared <= (long) DRAIN_FACTOR * maxBytes) {
        draining = true; // answered at once; what the client still sends is read and dropped
        startDeadline();
        in = request.getInputStream();
        in.setReadListener(this);
      }
      fail(tooLarge(maxBytes));
      return;
    }
    if (declared > 0) {
      buffer = new ByteArrayOutputStream((int) declared);
    }
    startDeadline();
    in = request.getInputStream();
    in.setReadListener(this);
  }

  private void startDeadline() {
    try {
      deadline = timer.schedule(this::deadlinePassed, timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // The servlet was destroyed: the container is stopping and ends the request itself.
    }
  }

  private void cancelDeadline() {
    ScheduledFuture<?> d = deadline;
    if (d != null) {
      d.cancel(false);
    }
  }

  /** On the timer's thread: the body (or the rest of an over-long one) did not arrive in time. */
  private void deadlinePassed() {
    if (draining) {
      drainEnded();
      return;
    }
    fail(timedOut(timeout));
  }

  /** The error for a body larger than {@code maxBytes} ({@code INVALID_REQUEST}, HTTP 400). */
  public static SynclineException tooLarge(int maxBytes) {
    return new SynclineException(
        ErrorCode.INVALID_REQUEST,
        "Invalid request: request body is larger than " + maxBytes + " bytes");
  }

  /** The error for a body that did not arrive in time ({@code REQUEST_TIMEOUT}, HTTP 408). */
  public static SynclineException timedOut(Duration timeout) {
    return new SynclineException(
        ErrorCode.REQUEST_TIMEOUT,
        "the request body did not arrive within " + timeout.toSeconds() + " s");
  }

  /**
   * Completes the request once it was answered: now, or when the rest of an over-long body has been
   * discarded. Any thread; idempotent.
   */
  public void complete() {
    completeWanted.set(true);
    if (!draining) {
      completeNow();
    }
  }

  /**
   * Whether the rest of an over-long body is being read and discarded (the answer must close the
   * connection).
   */
  public boolean draining() {
    return draining;
  }

  private void completeNow() {
    if (completed.compareAndSet(false, true)) {
      try {
        async.complete();
      } catch (IllegalStateException e) {
        // Already completed: the client went away or the container timed it out.
      }
    }
  }

  /**
   * Discarding ended (all read, enough read, the deadline, an error): complete if the answer was
   * given.
   */
  private void drainEnded() {
    cancelDeadline();
    draining = false;
    if (completeWanted.get()) {
      completeNow();
    }
  }

  @Override
  public void onDataAvailable() throws IOException {
    ServletInputStream stream = in;
    if (stream == null) {
      return;
    }
    byte[] chunk = new byte[8 * 1024];
    while (stream.isReady()) {
      int n = stream.read(chunk);
      if (n < 0) {
        return; // onAllDataRead follows
      }
      if (draining) {
        drained += n;
        if (drained > (long) DRAIN_FACTOR * maxBytes) {
          drainEnded(); // enough: the connection closes with the rest unread
          return;
        }
        continue;
      }
      ByteArrayOutputStream b = buffer;
      if (done.get() || b == null) {
        return;
      }
      b.write(chunk, 0, n);
      if (b.size() > maxBytes) {
        buffer = null;
        drained = b.size();
        draining = true;
        fail(tooLarge(maxBytes));
      }
    }
  }

  @Override
  public void onAllDataRead() {
    if (draining) {
      drainEnded();
      return;
    }
    ByteArrayOutputStream b = buffer;
    if (b != null && done.compareAndSet(false, true)) {
      cancelDeadline(); // the body is in: from now on the caller answers, however long that takes
      buffer = null;
      onBody.accept(b.toByteArray());
    }
  }

  @Override
  public void onError(Throwable t) {
    if (draining) {
      drainEnded();
      return;
    }
    fail(t instanceof Exception e ? e : new IOException(t));
  }

  /** The container's own timeout, which is set to none; a container that has one anyway. */
  @Override
  public void onTimeout(AsyncEvent event) {
    deadlinePassed();
  }

  @Override
  public void onComplete(AsyncEvent event) {
    cancelDeadline();
    done.set(true); // answered (or the client went away): nothing more to read for anyone
    draining = false;
    completed.set(true);
    buffer = null;
    in = null;
  }

  @Override
  public void onError(AsyncEvent event) {
    Throwable t = event.getThrowable();
    onError(t == null ? new IOException("request failed") : t);
  }

  @Override
  public void onStartAsync(AsyncEvent event) {}

  private void fail(Exception error) {
    if (done.compareAndSet(false, true)) {
      if (!draining) {
        cancelDeadline();
      }
      buffer = null;
      onError.accept(error);
    }
  }
}
