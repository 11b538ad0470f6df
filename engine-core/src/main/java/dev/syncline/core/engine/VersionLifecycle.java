package dev.syncline.core.engine;

import dev.syncline.api.engine.EngineEvent;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.api.engine.RulesDeployment;
import dev.syncline.core.stream.SyncService;
import dev.syncline.spi.source.SourceAdapter;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.RulesVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Keeps this instance in line with the rules versions in storage: stores deployed rules as
 * versions, runs a replicator for each live version (the active one and the one being filled),
 * serves the active one, activates a filled version (its unchanged buckets adopting the old logs)
 * and drops retired ones with their slots; and compacts the active version where this instance
 * replicates it.
 *
 * <p>Threads: {@link #deploy}, {@link #refresh}, {@link #maintain} and {@link #close} are called
 * under the engine's lock (by the maintenance thread, or by {@code start}, {@code deployRules} and
 * {@code close}); the accessors read volatile state and may be called from any thread.
 */
final class VersionLifecycle {
  private static final System.Logger LOG = System.getLogger(VersionLifecycle.class.getName());

  /**
   * In a steady state (see {@link #steady()}), the versions in storage are read only every this
   * many maintenance ticks: with the default poll interval, a version deployed by another instance
   * is seen within 5 s.
   */
  static final int STEADY_REFRESH_TICKS = 5;

  /** The active version and the service that serves it. */
  record Served(long version, SyncService service) {}

  private final BucketStorage storage;
  private final SourceAdapter headSource;
  private final boolean keepUnchangedBuckets;
  private final Duration storageTimeout;
  private final Duration compactInterval;
  private final Function<RulesVersion, VersionRun> startRun;
  private final Function<VersionRun, SyncService> serve;
  private final Consumer<EngineEvent> events;

  /** Versions this instance runs a replicator for: the active one and the one being filled. */
  private final Map<Long, VersionRun> runs = new ConcurrentHashMap<>();

  private volatile @Nullable Served served;
  private volatile @Nullable Long pendingVersion;
  private volatile boolean storageAnswered = true;

  /** When the last read of the versions in storage began ({@link System#nanoTime()}, odd), or 0. */
  private volatile long refreshingSince;

  /** Maintenance ticks since the versions in storage were last read. */
  private int ticksSinceRefresh;

  /** A retired version could not be dropped yet (its slot still in use): refresh every tick. */
  private boolean dropsPending;

  private long lastCompaction = System.nanoTime();

  /**
   * @param headSource the source adapter used to drop retired versions' slots (never run)
   * @param startRun compiles a version's rules and starts its replicator
   * @param serve builds the sync service of a version about to become the served one
   * @param events where life-cycle events go (listeners must not block)
   */
  VersionLifecycle(
      BucketStorage storage,
      SourceAdapter headSource,
      boolean keepUnchangedBuckets,
      Duration storageTimeout,
      Duration compactInterval,
      Function<RulesVersion, VersionRun> startRun,
      Function<VersionRun, SyncService> serve,
      Consumer<EngineEvent> events) {
    this.storage = storage;
    this.headSource = headSource;
    this.keepUnchangedBuckets = keepUnchangedBuckets;
    this.storageTimeout = storageTimeout;
    this.compactInterval = compactInterval;
    this.startRun = startRun;
    this.serve = serve;
    this.events = events;
  }

  // ---- read from any thread ----

  /** The served version, or null before the first version is active (and after close). */
  @Nullable Served served() {
    return served;
  }

  /** The version being filled to replace the active one, or null. */
  @Nullable Long pendingVersion() {
    return pendingVersion;
  }

  /** This instance's run of {@code version}, or null. */
  @Nullable VersionRun run(long version) {
    return runs.get(version);
  }

  /** Every run of this instance. */
  Collection<VersionRun> runs() {
    return runs.values();
  }

  /**
   * Storage answered the last read of the versions, that read has not been waiting longer than the
   * storage timeout, and no replicator finds storage unreachable: a storage outage shows here
   * within the storage timeout, whatever the host pool's connection timeout.
   */
  boolean storageReachable() {
    long refreshing = refreshingSince;
    return storageAnswered
        && (refreshing == 0 || System.nanoTime() - refreshing <= storageTimeout.toNanos())
        && runs.values().stream().noneMatch(r -> r.replicator.storageUnreachable());
  }

  /** Tells every replication that a client expects its writes soon (a write checkpoint). */
  void changesExpected() {
    runs.values().forEach(r -> r.replicator.changesExpected());
  }

  // ---- under the engine's lock ----

  /** Stores {@code yaml} as a new version unless it is active or being filled already. */
  RulesDeployment deploy(String yaml) {
    DeploymentPlan plan =
        DeploymentPlan.of(
            storage.rulesVersions(),
            yaml,
            keepUnchangedBuckets && storage.supportsBucketAdoption());
    plan.drop().forEach(this::dropVersion);
    RulesVersion target = plan.target();
    if (target == null) {
      target = storage.addRulesVersion(Objects.requireNonNull(plan.newVersion()));
      events.accept(new EngineEvent.RulesDeployed(target.id()));
    }
    if (plan.activate()) {
      storage.activate(target.id());
    }
    return new RulesDeployment(target.id(), plan.unchanged());
  }

  /**
   * One maintenance tick: reads the versions in storage unless nothing is in motion here (then only
   * every {@link #STEADY_REFRESH_TICKS}th tick), and returns the compaction to run now, if one is
   * due, for the caller to run outside the lock.
   */
  @Nullable Runnable maintain() {
    if (steady() && ++ticksSinceRefresh < STEADY_REFRESH_TICKS) {
      runs.values().forEach(this::announceState); // no storage read: nothing here is changing
    } else {
      refresh();
    }
    return compactionDue();
  }

  /**
   * Brings this instance in line with the versions in storage: replicators for the live versions,
   * the service of the active one, activation of a filled version, dropping of retired ones.
   */
  void refresh() {
    ticksSinceRefresh = 0;
    List<RulesVersion> versions;
    refreshingSince = System.nanoTime() | 1;
    try {
      versions = storage.rulesVersions();
      storageAnswered = true;
    } catch (RuntimeException e) {
      storageAnswered = false;
      throw e;
    } finally {
      refreshingSince = 0;
    }
    RulesVersion active = null;
    RulesVersion pending = null;
    for (RulesVersion v : versions) {
      if (v.state() == RulesVersion.State.ACTIVE) {
        active = v;
      } else if (v.state() == RulesVersion.State.PROCESSING
          && (pending == null || v.id() > pending.id())) {
        pending = v;
      }
    }
    // A filled pending version replaces the active one; only the instance that replicates it
    // decides.
    if (pending != null && activateIfFilled(pending, active)) {
      active = pending;
      pending = null;
    }
    List<Long> live = new ArrayList<>();
    if (active != null) {
      live.add(active.id());
    }
    if (pending != null) {
      live.add(pending.id());
    }
    // Published before the service: a reader of health() that sees the new active version sees no
    // stale pending.
    pendingVersion = pending == null ? null : pending.id();
    Served current = served;
    if (active != null && (current == null || current.version() != active.id())) {
      VersionRun run = ensureRun(active);
      served = new Served(active.id(), serve.apply(run));
      if (current != null) {
        current.service().close(); // its streams end; clients reconnect to the new version
      }
      events.accept(
          new EngineEvent.RulesActivated(active.id(), current == null ? 0 : current.version()));
    }
    if (pending != null) {
      ensureRun(pending);
    }
    // Stop replicating versions that are no longer live; drop retired ones.
    for (VersionRun run : List.copyOf(runs.values())) {
      if (!live.contains(run.version)) {
        runs.remove(run.version);
        run.replicator.close();
        announceState(run);
      }
    }
    dropsPending = false;
    for (RulesVersion v : versions) {
      // Retired versions, and processing ones superseded by a newer deployment (e.g. two instances
      // that deployed the same new rules at the same moment), are dropped with their slots.
      boolean superseded =
          v.state() == RulesVersion.State.PROCESSING
              && ((pending != null && v.id() < pending.id())
                  || (active != null && v.id() < active.id()));
      if (v.state() == RulesVersion.State.RETIRED || superseded) {
        dropVersion(v.id());
      }
    }
    for (VersionRun run : runs.values()) {
      announceState(run);
    }
  }

  /** Stops serving and replicating. */
  void close() {
    Served s = served;
    served = null;
    if (s != null) {
      s.service().close();
    }
    for (VersionRun run : runs.values()) {
      run.replicator.close();
    }
    runs.clear();
  }

  /**
   * Activates {@code pending} when this instance replicates it, its replication streams and it has
   * a checkpoint (its snapshot is complete and its stream passed the snapshot's position); the
   * buckets of unchanged definitions first adopt the active version's logs, so clients keep them.
   */
  private boolean activateIfFilled(RulesVersion pending, @Nullable RulesVersion active) {
    VersionRun run = runs.get(pending.id());
    if (run == null
        || run.state() != ReplicationState.STREAMING
        || storage.latestCheckpoint(pending.id()).isEmpty()) {
      return false;
    }
    Map<String, Integer> kept = StoredRules.keptVersions(pending.content());
    if (!kept.isEmpty() && active != null) {
      List<String> prefixes =
          kept.entrySet().stream().map(e -> e.getValue() + "#" + e.getKey() + "[").toList();
      run.replicator.adoptBuckets(
          active.id(), b -> prefixes.stream().anyMatch(b::startsWith), Duration.ofMinutes(10));
    }
    storage.activate(pending.id());
    LOG.log(
        System.Logger.Level.INFO, "rules version " + pending.id() + " caught up and is now active");
    return true;
  }

  /**
   * Whether nothing is in motion here: storage answered, no version is being filled, and every
   * replication of this instance streams or stands by, as last reported. Then an idle engine makes
   * no query a second.
   */
  private boolean steady() {
    if (!storageAnswered || pendingVersion != null || served == null || dropsPending) {
      return false;
    }
    for (VersionRun run : runs.values()) {
      ReplicationState now = run.state();
      if (now != run.reported
          || (now != ReplicationState.STREAMING && now != ReplicationState.STANDBY)) {
        return false;
      }
    }
    return true;
  }

  private VersionRun ensureRun(RulesVersion version) {
    VersionRun existing = runs.get(version.id());
    if (existing != null) {
      return existing;
    }
    VersionRun run = startRun.apply(version);
    runs.put(version.id(), run);
    return run;
  }

  /** Announces a run's replication state when it changed since last announced. */
  private void announceState(VersionRun run) {
    ReplicationState now = run.state();
    if (now != run.reported) {
      run.reported = now;
      events.accept(
          new EngineEvent.ReplicationChanged(
              run.version, now, run.replicator.status().lastError()));
    }
  }

  /**
   * Drops a version that no longer serves; failures (e.g. its slot still in use elsewhere) retry
   * next tick.
   */
  private void dropVersion(long version) {
    VersionRun run = runs.remove(version);
    if (run != null) {
      run.replicator.close();
    }
    try {
      headSource.dropVersion(version);
      storage.drop(version);
      events.accept(new EngineEvent.RulesDropped(version));
    } catch (RuntimeException e) {
      dropsPending = true;
      LOG.log(
          System.Logger.Level.DEBUG,
          "dropping rules version " + version + " failed, will retry: " + e);
    }
  }

  /** The compaction to run now, if one is due and this instance replicates the active version. */
  private @Nullable Runnable compactionDue() {
    Served s = served;
    if (compactInterval.isZero()
        || s == null
        || System.nanoTime() - lastCompaction < compactInterval.toNanos()) {
      return null;
    }
    VersionRun run = runs.get(s.version());
    if (run == null || run.state() != ReplicationState.STREAMING) {
      return null; // the replicating instance compacts
    }
    lastCompaction = System.nanoTime();
    long version = s.version();
    List<Long> live = new ArrayList<>(runs.keySet());
    return () -> {
      storage
          .latestCheckpoint(version)
          .map(Checkpoint::opId)
          .ifPresent(upTo -> storage.compact(version, upTo));
      // Write checkpoints below the lowest position any live version serves are answered by newer
      // ones.
      String lowest = null;
      for (long v : live) {
        String p = storage.latestCheckpoint(v).map(Checkpoint::position).orElse(null);
        if (p == null) {
          return; // a version without a checkpoint yet: keep everything for now
        }
        lowest = lowest == null || p.compareTo(lowest) < 0 ? p : lowest;
      }
      if (lowest != null) {
        long removed = storage.pruneWriteCheckpoints(lowest);
        LOG.log(
            System.Logger.Level.DEBUG,
            () -> "compaction removed " + removed + " write checkpoints");
      }
    };
  }
}
