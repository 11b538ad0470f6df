package dev.syncline.testkit;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Waits in tests for something another thread makes true, instead of sleeping for a guessed time:
 * the condition is polled (every 10 ms) until it holds, and the test fails with a message naming
 * what it waited for when it does not hold in time (30 seconds unless given). An assertion that
 * fails counts as not holding yet; on timeout its last failure is the cause, so the test reports
 * what was still wrong. Any other exception ends the wait at once.
 *
 * <pre>{@code
 * Await.until(() -> engine.health().ready(), "the engine to be ready");
 * Await.untilAsserted(Duration.ofSeconds(60), () -> assertThat(rows()).hasSize(3), "three rows");
 * }</pre>
 *
 * <p>Waits on the calling thread; an interrupt ends the wait with an {@link AssertionError} and
 * leaves the thread's interrupt status set.
 */
public final class Await {
  /** How long a wait without a timeout lasts. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private static final long POLL_NANOS = Duration.ofMillis(10).toNanos();

  private Await() {}

  /** Assertions to wait for, in a lambda that may throw. */
  @FunctionalInterface
  public interface Assertion {
    /** Throws an {@link AssertionError} while the awaited state is not reached. */
    void check() throws Exception;
  }

  /**
   * Waits up to {@link #DEFAULT_TIMEOUT} for {@code condition}.
   *
   * @throws AssertionError naming {@code what} when it does not hold in time
   */
  public static void until(BooleanSupplier condition, String what) {
    until(DEFAULT_TIMEOUT, condition, what);
  }

  /**
   * Waits up to {@code timeout} for {@code condition}.
   *
   * @throws AssertionError naming {@code what} when it does not hold in time
   */
  public static void until(Duration timeout, BooleanSupplier condition, String what) {
    Objects.requireNonNull(condition, "condition");
    untilAsserted(
        timeout,
        () -> {
          if (!condition.getAsBoolean()) {
            throw new AssertionError(what + " has not happened yet");
          }
        },
        what);
  }

  /**
   * Waits up to {@link #DEFAULT_TIMEOUT} until {@code assertion} passes.
   *
   * @throws AssertionError naming {@code what}, caused by the assertion's last failure
   */
  public static void untilAsserted(Assertion assertion, String what) {
    untilAsserted(DEFAULT_TIMEOUT, assertion, what);
  }

  /**
   * Waits up to {@code timeout} until {@code assertion} passes.
   *
   * @throws AssertionError naming {@code what}, caused by the assertion's last failure
   * @throws IllegalArgumentException when {@code timeout} is not positive
   */
  public static void untilAsserted(Duration timeout, Assertion assertion, String what) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
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
      LockSupport.parkNanos(Math.min(left, POLL_NANOS));
      if (Thread.currentThread().isInterrupted()) {
        throw new AssertionError("interrupted while waiting for " + what, last);
      }
    }
  }
}
