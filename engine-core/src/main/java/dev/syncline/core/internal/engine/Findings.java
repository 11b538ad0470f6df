package dev.syncline.core.internal.engine;

import dev.syncline.api.engine.DetectorThresholds;
import dev.syncline.api.engine.Finding;
import dev.syncline.api.engine.ReplicationState;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What the engine's detectors find in one look at its state: stuck clients, stalled replication, a
 * slow storage, a slot that stays behind, retained WAL; at most one finding per detector (the first
 * version's). Pure: the engine passes what it observed and the time; any thread.
 */
public final class Findings {
  /**
   * What the engine knows of one replicated rules version.
   *
   * @param version the rules version
   * @param state its replication state
   * @param quietNanos how long replication has shown no sign of life
   * @param slowestWriteNanos the slowest storage write of the last minute (or one still running)
   * @param lagHighSince since when ({@link System#nanoTime()}) every report had the lag at or above
   *     the slot threshold; 0 when not
   * @param lagBytes WAL not yet confirmed, as last reported
   * @param retainedBytes WAL the source keeps for the version's slot ({@code -1}: not known)
   */
  public record Replication(
      long version,
      ReplicationState state,
      long quietNanos,
      long slowestWriteNanos,
      long lagHighSince,
      long lagBytes,
      long retainedBytes) {}

  private Findings() {}

  /**
   * The findings now.
   *
   * @param stuckStreams connected clients that completed no checkpoint for {@link
   *     DetectorThresholds#stuckClientAfter()} though newer data was there
   * @param replications the versions this instance replicates, in order
   * @param nowNanos {@link System#nanoTime()} now
   */
  public static List<Finding> of(
      DetectorThresholds detectors,
      int stuckStreams,
      List<Replication> replications,
      long nowNanos) {
    Map<Finding.Detector, Finding> found = new EnumMap<>(Finding.Detector.class);
    if (stuckStreams > 0) {
      found.put(
          Finding.Detector.STUCK_CLIENTS,
          new Finding(
              Finding.Detector.STUCK_CLIENTS,
              stuckStreams
                  + " connected client(s) completed no checkpoint for over "
                  + seconds(detectors.stuckClientAfter())
                  + " though newer data was there to send (stopped reading, or cannot keep up)"));
    }
    for (Replication r : replications) {
      if (r.state() != ReplicationState.STREAMING && r.state() != ReplicationState.SNAPSHOT) {
        continue; // only the instance replicating a version knows these
      }
      if (r.quietNanos() > detectors.replicationStalledAfter().toNanos()) {
        found.putIfAbsent(
            Finding.Detector.REPLICATION_STALLED,
            new Finding(
                Finding.Detector.REPLICATION_STALLED,
                "replication of rules version "
                    + r.version()
                    + " ("
                    + r.state()
                    + ") has shown no sign of life for "
                    + r.quietNanos() / 1_000_000_000
                    + " s without failing"));
      }
      if (r.slowestWriteNanos() > detectors.storageSlowAfter().toNanos()) {
        found.putIfAbsent(
            Finding.Detector.STORAGE_SLOW,
            new Finding(
                Finding.Detector.STORAGE_SLOW,
                "a storage write of rules version "
                    + r.version()
                    + "'s replication took "
                    + r.slowestWriteNanos() / 1_000_000
                    + " ms (or has been running that long) within the last minute"));
      }
      long high = r.lagHighSince();
      if (high != 0 && nowNanos - high > detectors.slotStalledAfter().toNanos()) {
        found.putIfAbsent(
            Finding.Detector.SLOT_STALLED,
            new Finding(
                Finding.Detector.SLOT_STALLED,
                "WAL not yet confirmed for rules version "
                    + r.version()
                    + " has stayed at or above "
                    + detectors.slotLagBytes()
                    + " bytes for over "
                    + seconds(detectors.slotStalledAfter())
                    + " (now "
                    + r.lagBytes()
                    + " bytes): the slot is not keeping up"));
      }
      if (r.retainedBytes() > detectors.walRetainedBytes()) {
        found.putIfAbsent(
            Finding.Detector.WAL_RETAINED,
            new Finding(
                Finding.Detector.WAL_RETAINED,
                "the source keeps "
                    + r.retainedBytes()
                    + " bytes of WAL for rules version "
                    + r.version()
                    + "'s slot (threshold "
                    + detectors.walRetainedBytes()
                    + ")"));
      }
    }
    return List.copyOf(found.values());
  }

  /** A duration as operators read it: {@code 30 s}, or {@code 250 ms} when not whole seconds. */
  static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
