package dev.syncline.testkit.time;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * A clock that stands still until a test moves it, for code that takes a {@link Clock} or an {@link
 * InstantSource} (token expiry, keepalives, detectors, stalled streams): the test decides when time
 * passes, so nothing depends on how fast the machine is. Time never goes backwards. {@link
 * ManualScheduler}s built on this clock run what falls due when it moves.
 *
 * <p>Thread-safe: any thread may read it; moves are atomic.
 */
public final class ManualClock extends Clock implements InstantSource {
  private final AtomicReference<Instant> now;
  private final ZoneId zone;
  private final List<Runnable> listeners;

  private ManualClock(AtomicReference<Instant> now, ZoneId zone, List<Runnable> listeners) {
    this.now = now;
    this.zone = zone;
    this.listeners = listeners;
  }

  /** A clock at {@code start}, in UTC. */
  public static ManualClock at(Instant start) {
    return new ManualClock(
        new AtomicReference<>(Objects.requireNonNull(start, "start")),
        ZoneOffset.UTC,
        new CopyOnWriteArrayList<>());
  }

  /** A clock at 2026-01-01T00:00:00Z. */
  public static ManualClock create() {
    return at(Instant.parse("2026-01-01T00:00:00Z"));
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public long millis() {
    return now.get().toEpochMilli();
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  /** The same clock (moving together) seen in another zone. */
  @Override
  public ManualClock withZone(ZoneId zone) {
    return new ManualClock(now, Objects.requireNonNull(zone, "zone"), listeners);
  }

  /**
   * Moves the clock forward by {@code amount}, then lets the schedulers on it run what fell due.
   *
   * @throws IllegalArgumentException when {@code amount} is negative
   */
  public void advance(Duration amount) {
    if (amount.isNegative()) {
      throw new IllegalArgumentException("time does not go backwards: " + amount);
    }
    now.updateAndGet(n -> n.plus(amount));
    listeners.forEach(Runnable::run);
  }

  /**
   * Sets the clock to {@code instant}, which must not lie before the current time.
   *
   * @throws IllegalArgumentException when it does
   */
  public void set(Instant instant) {
    Instant before = now.getAndUpdate(n -> instant.isBefore(n) ? n : instant);
    if (instant.isBefore(before)) {
      throw new IllegalArgumentException(
          "time does not go backwards: " + before + " -> " + instant);
    }
    listeners.forEach(Runnable::run);
  }

  void onAdvance(Runnable listener) {
    listeners.add(listener);
  }

  @Override
  @SuppressWarnings("ReferenceEquality") // the same underlying time: clocks that move together
  public boolean equals(@Nullable Object o) {
    return o instanceof ManualClock c && c.now == now && c.zone.equals(zone);
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(now) * 31 + zone.hashCode();
  }

  @Override
  public String toString() {
    return "ManualClock[" + now.get() + ", " + zone + "]";
  }
}
