package dev.syncline.api.engine;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An engine's state, for health checks and dashboards.
 *
 * @param state the engine's life-cycle state
 * @param activeVersion the rules version served to clients ({@code 0} before the first version
 *     exists)
 * @param pendingVersion a rules version being filled to replace the active one, if any
 * @param replication what this instance does for the active version's replication
 * @param pendingReplication what this instance does for the pending version ({@code STOPPED} when
 *     there is none)
 * @param lastErrorCode the stable code of the last replication failure while retrying, else {@code
 *     null}
 * @param lastError its message
 * @param lagBytes WAL (or the source's equivalent) not yet applied, as last reported ({@code -1}:
 *     not known)
 * @param lagMillis age of the newest applied source commit when it was applied ({@code -1}: idle or
 *     not known)
 * @param storageReachable whether the last storage read succeeded
 * @param openStreams sync streams this instance serves now
 * @param activeCheckpoint whether the active version has a checkpoint to serve: its initial
 *     snapshot is complete (on whichever instance replicates it); before that, clients would
 *     connect and wait
 * @param findings what the engine's detectors find wrong now (stuck clients, stalled replication or
 *     slot, retained WAL, slow storage); empty when all is well. They do not change {@link
 *     #ready()}
 */
public record EngineHealth(
    State state,
    long activeVersion,
    @Nullable Long pendingVersion,
    ReplicationState replication,
    ReplicationState pendingReplication,
    @Nullable String lastErrorCode,
    @Nullable String lastError,
    long lagBytes,
    long lagMillis,
    boolean storageReachable,
    int openStreams,
    boolean activeCheckpoint,
    List<Finding> findings) {

  /** Copies the findings. */
  public EngineHealth {
    findings = List.copyOf(findings);
  }

  /** The engine's life cycle. */
  public enum State {
    /** Built, not started. */
    NEW,
    /**
     * Started: serving (clients may wait for the first checkpoint while the initial snapshot runs).
     */
    RUNNING,
    /** Closed. */
    CLOSED
  }

  /**
   * Whether this instance can serve current data: running, storage reachable, the active version's
   * initial snapshot complete, and its replication streaming here or on another instance (standby),
   * not failing. What a load balancer's readiness probe should ask ({@code /probes/readiness}
   * does).
   */
  public boolean ready() {
    return notReadyReason() == null;
  }

  /**
   * Why {@link #ready()} is false, as a stable code, or {@code null} when ready: {@code
   * NOT_STARTED}, {@code CLOSED}, {@code STORAGE_UNREACHABLE}, {@code NO_RULES} (no version yet),
   * {@code SNAPSHOT} (the initial snapshot is still being copied), or {@code REPLICATION_STARTING},
   * {@code REPLICATION_RETRYING}, {@code REPLICATION_STOPPED}.
   */
  public @Nullable String notReadyReason() {
    if (state == State.NEW) {
      return "NOT_STARTED";
    } else if (state == State.CLOSED) {
      return "CLOSED";
    } else if (!storageReachable) {
      return "STORAGE_UNREACHABLE";
    } else if (activeVersion == 0) {
      return "NO_RULES";
    } else if (replication == ReplicationState.SNAPSHOT || !activeCheckpoint) {
      return "SNAPSHOT";
    } else if (replication != ReplicationState.STREAMING
        && replication != ReplicationState.STANDBY) {
      return "REPLICATION_" + replication.name();
    }
    return null;
  }
}
