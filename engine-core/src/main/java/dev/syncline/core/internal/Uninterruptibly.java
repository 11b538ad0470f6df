package dev.syncline.core.internal;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Waits that an interrupt does not cut short: the wait goes on, and the thread's interrupt status
 * is set again when it ends, so the caller's caller still sees it. For waits whose outcome the
 * caller must know before it may return (a commit that lands or not, a pool that stops).
 */
public final class Uninterruptibly {
  private Uninterruptibly() {}

  /** {@link Future#get()}, waiting through interrupts. */
  public static <T> T get(Future<T> future) throws ExecutionException {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return future.get();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * {@link ExecutorService#awaitTermination}, waiting through interrupts for at most {@code
   * timeout} in all.
   *
   * @return whether the executor terminated in time
   */
  public static boolean awaitTermination(ExecutorService executor, Duration timeout) {
    boolean interrupted = false;
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        try {
          return executor.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
