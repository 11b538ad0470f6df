package dev.syncline.api.engine;

import org.jspecify.annotations.Nullable;

/**
 * An engine's state, for health checks and dashboards.
 *
 * @param state the engine's life-cycle state
 * @param activeVersion the rules version served to clients ({@code 0} before the first version exists)
 * @param pendingVersion a rules version being filled to replace the active one, if any
 * @param replication what this instance does for the active version's replication
 * @param pendingReplication what this instance does for the pending version ({@code STOPPED} when there is none)
 * @param lastErrorCode the stable code of the last replication failure while retrying, else {@code null}
 * @param lastError its message
 * @param lagBytes WAL (or the source's equivalent) not yet applied, as last reported ({@code -1}: not known)
 * @param lagMillis age of the newest applied source commit when it was applied ({@code -1}: idle or not known)
 * @param storageReachable whether the last storage read succeeded
 * @param openStreams sync streams this instance serves now
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
    int openStreams) {

  /** The engine's life cycle. */
  public enum State {
    /** Built, not started. */
    NEW,
    /** Started: serving (clients may wait for the first checkpoint while the initial snapshot runs). */
    RUNNING,
    /** Closed. */
    CLOSED
  }

  /**
   * Whether this instance is fit to serve: running, storage reachable, and the active version's replication is
   * streaming here or on another instance (standby), not failing.
   */
  public boolean ready() {
    return state == State.RUNNING && storageReachable
        && (replication == ReplicationState.STREAMING || replication == ReplicationState.STANDBY);
  }
}
