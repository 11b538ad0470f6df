package dev.syncline.testkit.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

@SuppressWarnings("FutureReturnValueIgnored") // the tests look at what ran, not at the futures
class ManualSchedulerTest {
  private final ManualClock clock = ManualClock.at(Instant.parse("2026-01-01T00:00:00Z"));
  private final ManualScheduler scheduler = new ManualScheduler(clock);
  private final List<String> ran = new ArrayList<>();

  @Test
  void nothing_runs_until_the_test_says_so() {
    scheduler.execute(() -> ran.add("now"));
    assertThat(ran).isEmpty();
    assertThat(scheduler.pending()).isEqualTo(1);
    assertThat(scheduler.runDue()).isEqualTo(1);
    assertThat(ran).containsExactly("now");
  }

  @Test
  void moving_the_clock_runs_what_falls_due_in_due_order() {
    scheduler.schedule(() -> ran.add("b"), 2, TimeUnit.SECONDS);
    scheduler.schedule(() -> ran.add("a"), 1, TimeUnit.SECONDS);
    scheduler.schedule(() -> ran.add("a2"), 1, TimeUnit.SECONDS);
    scheduler.schedule(() -> ran.add("c"), 3, TimeUnit.SECONDS);
    clock.advance(Duration.ofMillis(999));
    assertThat(ran).isEmpty();
    clock.advance(Duration.ofSeconds(1));
    assertThat(ran).containsExactly("a", "a2");
    clock.advance(Duration.ofMillis(1001)); // now at exactly 3 s: b and c are due
    assertThat(ran).containsExactly("a", "a2", "b", "c");
    assertThat(scheduler.nextDue()).isEmpty();
  }

  @Test
  void periodic_tasks_repeat_fixed_rate_from_due_time_and_fixed_delay_from_the_run() {
    ScheduledFuture<?> rate =
        scheduler.scheduleAtFixedRate(() -> ran.add("rate"), 10, 10, TimeUnit.SECONDS);
    clock.advance(
        Duration.ofSeconds(
            25)); // due at 10 and, rescheduled from its due time, at 20: it catches up
    assertThat(ran).containsExactly("rate", "rate");
    assertThat(scheduler.nextDue()).contains(Instant.parse("2026-01-01T00:00:30Z"));
    rate.cancel(false);
    assertThat(scheduler.pending()).isZero();

    scheduler.scheduleWithFixedDelay(() -> ran.add("delay"), 0, 10, TimeUnit.SECONDS);
    scheduler.runDue();
    assertThat(scheduler.nextDue()).contains(clock.instant().plusSeconds(10));
  }

  @Test
  void a_task_that_throws_fails_its_future_and_a_periodic_one_stops() {
    ScheduledFuture<Integer> failing =
        scheduler.schedule(
            () -> {
              throw new IllegalStateException("boom");
            },
            0,
            TimeUnit.SECONDS);
    scheduler.scheduleAtFixedRate(
        () -> {
          throw new IllegalStateException("periodic boom");
        },
        0,
        1,
        TimeUnit.SECONDS);
    scheduler.runDue();
    assertThatThrownBy(failing::get)
        .isInstanceOf(ExecutionException.class)
        .hasRootCauseMessage("boom");
    clock.advance(Duration.ofSeconds(5));
    assertThat(scheduler.pending()).isZero();
  }

  @Test
  void tasks_scheduled_by_tasks_run_in_the_same_pass_when_due() throws Exception {
    ScheduledFuture<String> inner = scheduler.schedule(() -> "later", 1, TimeUnit.SECONDS);
    scheduler.execute(() -> scheduler.execute(() -> ran.add("nested")));
    scheduler.runDue();
    assertThat(ran).containsExactly("nested");
    assertThat(inner.isDone()).isFalse();
    clock.advance(Duration.ofSeconds(1));
    assertThat(inner.get()).isEqualTo("later");
  }

  @Test
  void shutdown_drops_periodic_tasks_keeps_delayed_ones_and_refuses_new_ones() {
    scheduler.scheduleAtFixedRate(() -> ran.add("periodic"), 1, 1, TimeUnit.SECONDS);
    scheduler.schedule(() -> ran.add("delayed"), 1, TimeUnit.SECONDS);
    scheduler.shutdown();
    assertThat(scheduler.isTerminated()).isFalse();
    assertThatThrownBy(() -> scheduler.execute(() -> ran.add("x")))
        .isInstanceOf(RejectedExecutionException.class);
    clock.advance(Duration.ofSeconds(1));
    assertThat(ran).containsExactly("delayed");
    assertThat(scheduler.isTerminated()).isTrue();
  }

  @Test
  void the_clock_never_goes_backwards() {
    assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> clock.set(Instant.parse("2025-01-01T00:00:00Z")))
        .isInstanceOf(IllegalArgumentException.class);
    clock.set(Instant.parse("2027-01-01T00:00:00Z"));
    assertThat(clock.instant()).isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
    assertThat(clock.millis()).isEqualTo(clock.instant().toEpochMilli());
  }
}
