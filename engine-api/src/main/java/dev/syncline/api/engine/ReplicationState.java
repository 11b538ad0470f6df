package dev.syncline.api.engine;

/** What an engine instance does for one rules version's replication. */
public enum ReplicationState {
  /** Not yet connected. */
  STARTING,
  /**
   * Another instance holds the version's replication lock and replicates; this one takes over if it
   * stops.
   */
  STANDBY,
  /** Copying the initial snapshot. */
  SNAPSHOT,
  /** Streaming changes. */
  STREAMING,
  /** Failed; retrying after a backoff ({@link EngineHealth#lastError()} says why). */
  RETRYING,
  /** Not replicating (engine closed, or the version was retired). */
  STOPPED
}
