package dev.syncline.api.engine;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.time.Duration;

/**
 * When the engine's detectors report a {@link Finding}. Immutable; {@link #defaults()} or {@link
 * #builder()}.
 *
 * @param stuckClientAfter a stream without a completed checkpoint for this long, while newer data
 *     exists, is stuck (default 5 min)
 * @param replicationStalledAfter replication without a sign of life for this long is stalled
 *     (default 2 min)
 * @param slotLagBytes WAL not yet confirmed above which the slot counts as behind (default 64 MiB)
 * @param slotStalledAfter how long it must stay behind to be reported (default 5 min)
 * @param walRetainedBytes WAL kept for the slot above which it is reported (default 1 GiB)
 * @param storageSlowAfter a replication storage write slower than this is reported (default 1 s)
 */
public record DetectorThresholds(
    Duration stuckClientAfter,
    Duration replicationStalledAfter,
    long slotLagBytes,
    Duration slotStalledAfter,
    long walRetainedBytes,
    Duration storageSlowAfter) {
  /** Validates: durations and sizes must be positive. */
  public DetectorThresholds {
    for (Duration d :
        new Duration[] {
          stuckClientAfter, replicationStalledAfter, slotStalledAfter, storageSlowAfter
        }) {
      if (d.isNegative() || d.isZero()) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "detector durations must be positive, got " + d);
      }
    }
    if (slotLagBytes < 1 || walRetainedBytes < 1) {
      throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "detector sizes must be positive");
    }
  }

  /** The defaults. */
  public static DetectorThresholds defaults() {
    return new DetectorThresholds(
        Duration.ofMinutes(5),
        Duration.ofMinutes(2),
        64L << 20,
        Duration.ofMinutes(5),
        1L << 30,
        Duration.ofSeconds(1));
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** Builds {@link DetectorThresholds}; every value starts at its default. */
  public static final class Builder {
    private Duration stuckClientAfter;
    private Duration replicationStalledAfter;
    private long slotLagBytes;
    private Duration slotStalledAfter;
    private long walRetainedBytes;
    private Duration storageSlowAfter;

    private Builder(DetectorThresholds d) {
      this.stuckClientAfter = d.stuckClientAfter;
      this.replicationStalledAfter = d.replicationStalledAfter;
      this.slotLagBytes = d.slotLagBytes;
      this.slotStalledAfter = d.slotStalledAfter;
      this.walRetainedBytes = d.walRetainedBytes;
      this.storageSlowAfter = d.storageSlowAfter;
    }

    /** See {@link DetectorThresholds#stuckClientAfter()}. */
    public Builder stuckClientAfter(Duration after) {
      this.stuckClientAfter = after;
      return this;
    }

    /** See {@link DetectorThresholds#replicationStalledAfter()}. */
    public Builder replicationStalledAfter(Duration after) {
      this.replicationStalledAfter = after;
      return this;
    }

    /**
     * See {@link DetectorThresholds#slotLagBytes()} and {@link
     * DetectorThresholds#slotStalledAfter()}.
     */
    public Builder slotStalled(long lagBytes, Duration after) {
      this.slotLagBytes = lagBytes;
      this.slotStalledAfter = after;
      return this;
    }

    /** See {@link DetectorThresholds#walRetainedBytes()}. */
    public Builder walRetainedBytes(long bytes) {
      this.walRetainedBytes = bytes;
      return this;
    }

    /** See {@link DetectorThresholds#storageSlowAfter()}. */
    public Builder storageSlowAfter(Duration after) {
      this.storageSlowAfter = after;
      return this;
    }

    /** The thresholds. */
    public DetectorThresholds build() {
      return new DetectorThresholds(
          stuckClientAfter,
          replicationStalledAfter,
          slotLagBytes,
          slotStalledAfter,
          walRetainedBytes,
          storageSlowAfter);
    }
  }
}
