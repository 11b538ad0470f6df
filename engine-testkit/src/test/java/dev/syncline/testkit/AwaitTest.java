package dev.syncline.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AwaitTest {
  @Test
  void returns_as_soon_as_the_condition_holds() throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    Thread t =
        new Thread(
            () -> {
              try {
                go.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    t.start();
    go.countDown();
    Await.until(() -> !t.isAlive(), "the thread to end");
    assertThat(t.isAlive()).isFalse();
  }

  @Test
  void fails_naming_what_it_waited_for_with_the_last_assertion_as_cause() {
    AtomicInteger checks = new AtomicInteger();
    assertThatThrownBy(
            () ->
                Await.untilAsserted(
                    Duration.ofMillis(50),
                    () -> assertThat(checks.incrementAndGet()).as("checks").isNegative(),
                    "a negative count"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("a negative count")
        .cause()
        .hasMessageContaining("checks");
    assertThat(checks.get()).isGreaterThan(1);
  }

  @Test
  void an_exception_from_the_condition_is_not_waited_out() {
    AtomicInteger checks = new AtomicInteger();
    assertThatThrownBy(
            () ->
                Await.until(
                    Duration.ofSeconds(30),
                    () -> {
                      checks.incrementAndGet();
                      throw new IllegalStateException("broken");
                    },
                    "never"))
        .isInstanceOf(AssertionError.class)
        .hasRootCauseMessage("broken");
    assertThat(checks.get()).isEqualTo(1);
  }

  @Test
  void an_interrupt_ends_the_wait_and_stays_set() {
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> Await.until(() -> false, "nothing"))
          .hasMessageContaining("interrupted");
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void refuses_non_positive_timeouts() {
    assertThatThrownBy(() -> Await.until(Duration.ZERO, () -> true, "anything"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Await.untilAsserted(Duration.ofMillis(-1), () -> {}, "anything"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
