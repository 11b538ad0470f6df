package dev.syncline.postgres.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Which replication position to confirm to Postgres, and when. A position is confirmed only once
 * storage reported everything up to it durable: the slot then lets go of the WAL before it, which a
 * crash could otherwise need again.
 *
 * <p>The replication thread hands positions to storage ({@link #submitted}) and confirms what
 * {@link #toConfirm()} gives; storage's thread reports positions durable ({@link #durable}, the
 * only method for any thread). While idle, a position received with nothing of ours before it may
 * be confirmed without writing storage, at most once an interval ({@link #due}, {@link
 * #confirmedUnstored}). Positions are unsigned 64-bit LSNs; {@code 0} is none.
 */
public final class AckTracker {
  private final AtomicLong durable = new AtomicLong();
  private long submitted;
  private long confirmed;
  private long lastDueMillis;

  /**
   * @param resumedFrom the position replication resumed from ({@code 0} for a new slot): durable
   *     and confirmed already
   */
  public AckTracker(long resumedFrom) {
    this.confirmed = resumedFrom;
    this.submitted = resumedFrom;
    this.durable.set(resumedFrom);
  }

  /** A commit at {@code position} was handed to storage. Replication thread. */
  public void submitted(long position) {
    submitted = max(submitted, position);
  }

  /** Storage made everything up to {@code position} durable. Any thread; never goes back. */
  public void durable(long position) {
    durable.accumulateAndGet(position, AckTracker::max);
  }

  /** Whether storage is still writing something handed to it. */
  public boolean storageBusy() {
    return Long.compareUnsigned(submitted, durable.get()) > 0;
  }

  /**
   * The durable position to confirm now, or {@code 0} when it has not moved past the last one
   * confirmed; the caller confirms it.
   */
  public long toConfirm() {
    long d = durable.get();
    if (Long.compareUnsigned(d, confirmed) <= 0) {
      return 0;
    }
    confirmed = d;
    return d;
  }

  /** The last position confirmed. */
  public long confirmed() {
    return confirmed;
  }

  /**
   * Whether {@code intervalMillis} passed since this last answered true (or ever); if so, the time
   * counts from {@code nowMillis}.
   */
  public boolean due(long nowMillis, long intervalMillis) {
    if (nowMillis - lastDueMillis < intervalMillis) {
      return false;
    }
    restartInterval(nowMillis);
    return true;
  }

  /** The interval of {@link #due} counts from {@code nowMillis} (something was confirmed now). */
  public void restartInterval(long nowMillis) {
    lastDueMillis = nowMillis;
  }

  /**
   * Records the confirmation of a position received with nothing of ours before it, which storage
   * does not hold (nothing to hold).
   */
  public void confirmedUnstored(long position) {
    confirmed = max(confirmed, position);
  }

  /** The greater of two unsigned positions. */
  public static long max(long a, long b) {
    return Long.compareUnsigned(a, b) >= 0 ? a : b;
  }
}
