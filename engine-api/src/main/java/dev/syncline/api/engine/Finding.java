package dev.syncline.api.engine;

import java.util.Objects;

/**
 * Something an engine's detectors found wrong while nothing failed outright: a state an operator
 * should look at. Findings are in {@link EngineHealth#findings()}, announced as {@link
 * EngineEvent.DetectorChanged} when they appear and clear, and counted per detector in the metrics.
 * They do not change readiness.
 *
 * @param detector which detector, with its stable code
 * @param message what it found, with figures, in plain words
 */
public record Finding(Detector detector, String message) {
  /** Validates. */
  public Finding {
    Objects.requireNonNull(detector, "detector");
    Objects.requireNonNull(message, "message");
  }

  /** The detectors, each with a stable code; thresholds in {@link DetectorThresholds}. */
  public enum Detector {
    /**
     * A connected client's stream has not completed a checkpoint for {@link
     * DetectorThresholds#stuckClientAfter()} though newer data was there to send (a client that
     * stopped reading, or cannot keep up).
     */
    STUCK_CLIENTS("SYNCLINE_D0001"),
    /**
     * This instance replicates, but its replication thread has shown no sign of life for {@link
     * DetectorThresholds#replicationStalledAfter()} without failing.
     */
    REPLICATION_STALLED("SYNCLINE_D0002"),
    /**
     * The source's WAL not yet confirmed by this instance has stayed above {@link
     * DetectorThresholds#slotLagBytes()} for {@link DetectorThresholds#slotStalledAfter()}: the
     * slot's position is not keeping up with the source.
     */
    SLOT_STALLED("SYNCLINE_D0003"),
    /**
     * The source keeps more than {@link DetectorThresholds#walRetainedBytes()} of WAL for this
     * instance's slot.
     */
    WAL_RETAINED("SYNCLINE_D0004"),
    /**
     * A storage write of replication took, or has been running for, longer than {@link
     * DetectorThresholds#storageSlowAfter()} (within the last minute).
     */
    STORAGE_SLOW("SYNCLINE_D0005");

    private final String code;

    Detector(String code) {
      this.code = code;
    }

    /** The stable code, as in logs, health JSON and metrics tags. */
    public String code() {
      return code;
    }
  }
}
