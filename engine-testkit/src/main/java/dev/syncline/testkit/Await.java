package dev.syncline.testkit;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Waits in tests for something another thread makes true, instead of sleeping for a guessed time:
 * the condition is polled until it holds, and the test fails with a message naming what it waited
 * for when it does not hold within the timeout (30 seconds unless set). A condition that throws an
 * {@link AssertionError} counts as not holding yet; on timeout the last such error is the failure's
 * cause, so the test reports what was still wrong.
 *
 * <pre>{@code
 * Await.until(() -> replicator.status().lastPosition() != null, "replication to start");
 * Await.atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(rows()).hasSize(3), "three rows");
 * }</pre>
 *
 * <p>Immutable and thread-safe. Waits on the calling thread; an interrupt ends the wait with an
 * {@link AssertionError} and leaves the thread's interrupt status set.
 */
public final class Await {
  /** How long {@link #until(BooleanSupplier, String)} waits. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private static final Await DEFAULT = new Await(DEFAULT_TIMEOUT, Duration.ofMillis(10));

  private final Duration timeout;
  private final Duration pollInterval;

  private Await(Duration timeout, Duration pollInterval) {
    this.timeout = timeout;
    this.pollInterval = pollInterval;
  }

  /** A wait of at most {@code timeout}, polling every 10 ms. */
  public static Await atMost(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    return new Await(timeout, DEFAULT.pollInterval);
  }

  /** This wait, polling every {@code interval} (for conditions that are costly to check). */
  public Await pollingEvery(Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive: " + interval);
    }
    return new Await(timeout, interval);
  }

  /** Waits up to 30 seconds for {@code condition}. */
  public static void until(BooleanSupplier condition, String what) {
    DEFAULT.until(what, condition);
  }

  /**
   * Waits for {@code condition}.
   *
   * @throws AssertionError naming {@code what} when it does not hold in time
   */
  public void until(String what, BooleanSupplier condition) {
    Objects.requireNonNull(condition, "condition");
    untilAsserted(
        () -> {
          if (!condition.getAsBoolean()) {
            throw new AssertionError(what + " has not happened yet");
          }
        },
        what);
  }

  /** Assertions to wait for, in a lambda that may throw. */
  @FunctionalInterface
  public interface Assertion {
    /** Throws an {@link AssertionError} while the awaited state is not reached. */
    void check() throws Exception;
  }

  /**
   * Waits until {@code assertion} passes.
   *
   * @throws AssertionError naming {@code what}, caused by the assertion's last failure, when it
   *     does not pass in time
   */
  public void untilAsserted(Assertion assertion, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    @Nullable Throwable last = null;
    while (true) {
      try {
        assertion.check();
        return;
      } catch (AssertionError e) {
        last = e;
      } catch (Exception e) {
        throw new AssertionError("checking for " + what + " failed", e);
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what, last);
      }
      LockSupport.parkNanos(Math.min(left, pollInterval.toNanos()));
      if (Thread.currentThread().isInterrupted()) {
        throw new AssertionError("interrupted while waiting for " + what, last);
      }
    }
  }
}
