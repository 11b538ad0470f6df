package dev.syncline.api.engine;

import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.rules.SyncRulesSource;

/**
 * A running sync engine: replicates the source into bucket storage through the sync rules and
 * serves sync streams.
 *
 * <p>Life cycle: built, then {@link #start()}ed once, then {@link #close()}d once; a closed engine
 * cannot be restarted. Several engines may run in one JVM (each with its own storage tables or
 * rules), and several engine instances in different processes may share one storage: exactly one of
 * them replicates each rules version (the storage's replication lock), all of them serve streams.
 *
 * <p>Threads: every method may be called from any thread. The engine runs its work on threads it
 * owns and names ({@code syncline-engine-*}, {@code syncline-replication-*}, {@code
 * syncline-storage-commit-*}) or on a scheduler the host supplied; listeners are called on those
 * threads and must not block.
 */
public interface SyncEngine extends AutoCloseable {
  /**
   * Starts replication and serving: compiles the configured rules, deploys them when they differ
   * from the active version in storage (the active version keeps serving until the new one is
   * filled), and starts replicating. Returns at once; replication connects in the background and
   * {@link #health()} says how far it got.
   *
   * @return this engine
   * @throws dev.syncline.api.rules.SyncRulesException when the configured rules are invalid (every
   *     problem listed)
   * @throws dev.syncline.api.SynclineException with {@code ENGINE_NOT_RUNNING} when the engine was
   *     closed, or a storage error code when storage cannot be reached
   */
  SyncEngine start();

  /** The engine's state now: cheap, never blocks on the network. */
  EngineHealth health();

  /** The engine's counters and gauges now: cheap, never blocks. */
  EngineMetrics metrics();

  /**
   * Deploys new sync rules at runtime: validates them, then stores them as a new version that is
   * filled (initial snapshot, then streaming) while the active version keeps serving; once the new
   * version caught up, it becomes active, clients' streams move to it and the old version is
   * dropped. Progress is visible in {@link #health()} and as {@link EngineEvent}s.
   *
   * @return the deployment; {@link RulesDeployment#unchanged()} when the rules equal those being
   *     served or filled
   * @throws dev.syncline.api.rules.SyncRulesException when the rules are invalid; nothing is
   *     deployed then
   */
  RulesDeployment deployRules(SyncRulesSource rules);

  /**
   * Creates the next write checkpoint of a user's client (PowerSync protocol §7): its stream
   * reports it once every change committed to the source before this call has been replicated. Call
   * it after the transaction that applied the client's upload committed.
   *
   * @return the new write checkpoint id
   */
  long createWriteCheckpoint(AuthContext user, String clientId);

  /**
   * Stops serving (open streams end; clients reconnect elsewhere) and replicating, leaving storage
   * and the source consistent; waits for the engine's threads to finish. Idempotent.
   */
  @Override
  void close();
}
