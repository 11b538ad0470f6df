package dev.syncline.core.replicate;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.api.rules.EvaluationError;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.core.internal.Uninterruptibly;
import dev.syncline.core.internal.replicate.BatchBuilder;
import dev.syncline.core.internal.replicate.RowLimits;
import dev.syncline.spi.source.ChangeSink;
import dev.syncline.spi.source.SourceAdapter;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.source.SourceEvent;
import dev.syncline.spi.source.SourcePosition;
import dev.syncline.spi.source.SourceStart;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.SourceKey;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.SocketException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Replicates a source into bucket storage for one rules version: holds the version's replication
 * lock (so exactly one replicator runs across all engine instances sharing the storage; the others
 * wait as standbys), runs the source on a thread it owns and names, evaluates the sync rules for
 * every change, and commits batches durably before the source acknowledges their positions. After a
 * failure (connection lost, Postgres restarted, lock lost) it starts again from what storage
 * recorded, with exponential backoff.
 *
 * <p>Threads: one platform thread, {@code syncline-replication-<version>}; {@link #status()} and
 * {@link #close()} may be called from any thread. Listeners are called on the replication thread
 * and must not block.
 */
public final class Replicator implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Replicator.class.getName());

  /** Default of {@link Builder#storageTimeout}. */
  public static final Duration DEFAULT_STORAGE_TIMEOUT = Duration.ofSeconds(5);

  private final SyncRules rules;
  private final BucketStorage storage;
  private final long versionId;
  private final SourceAdapter source;
  private final String identity;
  private final Consumer<SourceEvent> events;
  private final Consumer<EvaluationError> evaluationErrors;
  private final RowLimits rowLimits;
  private final BiConsumer<SourceKey, String> refusals;
  private final Duration minBackoff;
  private final Duration maxBackoff;
  private final Duration storageTimeout;

  /**
   * Runs the storage watch of the running sink: checks that no storage call has been waited for
   * longer than {@link Builder#storageTimeout}. Its one thread exists only while a storage call is
   * under way or was lately.
   */
  private final ScheduledThreadPoolExecutor watchdog;

  /**
   * The last run ended because storage could not be reached; cleared once storage answers again.
   */
  private volatile boolean storageUnreachable;

  /** The last sign of life of the replication thread ({@link System#nanoTime()}). */
  private volatile long lastAlive = System.nanoTime();

  /**
   * The slowest storage write of replication lately: its duration and when it ended (nanoseconds).
   */
  private volatile long slowestWrite;

  private volatile long slowestWriteAt;

  /** The sink's committer: when its current write began, or 0. */
  private volatile long writingSince;

  /**
   * When the replication thread began opening storage for a run ({@link System#nanoTime()}), or 0.
   */
  private volatile long openingSince;

  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean closed;
  private volatile Status status = new Status(ReplicationState.STARTING, null, null);

  /** The sink of the running replication, while this replicator holds the lock. */
  private volatile @Nullable Sink current;

  /**
   * A snapshot of the replicator's state.
   *
   * @param lastError the last failure, while retrying
   * @param lastCheckpoint the last checkpoint this replicator committed
   */
  public record Status(
      ReplicationState state,
      @Nullable SynclineException lastError,
      @Nullable Checkpoint lastCheckpoint) {}

  private Replicator(Builder b) {
    this.rules = Objects.requireNonNull(b.rules, "rules");
    this.storage = Objects.requireNonNull(b.storage, "storage");
    this.versionId = b.versionId;
    this.source = Objects.requireNonNull(b.source, "source");
    this.identity = b.identity;
    this.events = b.events;
    this.evaluationErrors = b.evaluationErrors;
    this.rowLimits = b.rowLimits;
    this.refusals = b.refusals;
    this.minBackoff = b.minBackoff;
    this.maxBackoff = b.maxBackoff;
    this.storageTimeout = b.storageTimeout;
    this.watchdog =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "syncline-storage-watch-" + b.versionId);
              t.setDaemon(true);
              return t;
            });
    watchdog.setRemoveOnCancelPolicy(true);
    watchdog.setKeepAliveTime(30, TimeUnit.SECONDS);
    watchdog.allowCoreThreadTimeOut(true);
    this.thread = new Thread(this::loop, "syncline-replication-" + versionId);
    thread.setDaemon(true);
  }

  /** Starts configuring a replicator. */
  public static Builder builder() {
    return new Builder();
  }

  /** Configures a {@link Replicator}; rules, storage and source are required. */
  public static final class Builder {
    private @Nullable SyncRules rules;
    private @Nullable BucketStorage storage;
    private long versionId = -1;
    private @Nullable SourceAdapter source;
    private String identity = defaultIdentity();
    private Consumer<SourceEvent> events = e -> {};
    private Consumer<EvaluationError> evaluationErrors =
        e -> LOG.log(System.Logger.Level.WARNING, "row skipped by a query: {0}", e);
    private RowLimits rowLimits = RowLimits.DEFAULT;
    private BiConsumer<SourceKey, String> refusals =
        (key, reason) ->
            LOG.log(
                System.Logger.Level.WARNING,
                "row {0} {1} is not synced: {2}",
                key.table(),
                key.key(),
                reason);
    private Duration minBackoff = Duration.ofMillis(200);
    private Duration maxBackoff = Duration.ofSeconds(30);
    private Duration storageTimeout = DEFAULT_STORAGE_TIMEOUT;

    private Builder() {}

    /**
     * The longest replication waits for one storage call (a commit, or a read of stored rows,
     * including the wait for a pooled connection) while it holds the source's stream. Past it, or
     * at once when a storage write fails, the replicator ends the run: the source lets go of its
     * stream ({@link SourceAdapter#abortRun()}), so that a database restart or failover is not held
     * up by a connection waiting for storage, and the run is retried with backoff. Default 5 s,
     * whatever the host's pool waits. Set it above the longest storage call you expect when storage
     * is slow but well.
     */
    public Builder storageTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "storage timeout must be positive");
      }
      this.storageTimeout = timeout;
      return this;
    }

    /** The compiled rules of the version. */
    public Builder rules(SyncRules rules) {
      this.rules = Objects.requireNonNull(rules);
      return this;
    }

    /** The storage and the rules version written. */
    public Builder storage(BucketStorage storage, long versionId) {
      this.storage = Objects.requireNonNull(storage);
      this.versionId = versionId;
      return this;
    }

    /** The source database. */
    public Builder source(SourceAdapter source) {
      this.source = Objects.requireNonNull(source);
      return this;
    }

    /** Identifies this process in the storage lock (default host name and process id). */
    public Builder identity(String identity) {
      this.identity = Objects.requireNonNull(identity);
      return this;
    }

    /**
     * Receives the source's events (progress, lag, schema changes, warnings) on the replication
     * thread.
     */
    public Builder events(Consumer<SourceEvent> events) {
      this.events = Objects.requireNonNull(events);
      return this;
    }

    /** Receives rows a query could not evaluate (logged as warnings by default). */
    public Builder evaluationErrors(Consumer<EvaluationError> errors) {
      this.evaluationErrors = Objects.requireNonNull(errors);
      return this;
    }

    /**
     * Rows with a value larger than {@code maxValueBytes}, or larger than {@code maxRowBytes} in
     * all, are not synced (defaults 1 MiB and 4 MiB) and reported to {@link #refusedRows} (logged
     * as warnings by default).
     */
    public Builder rowLimits(long maxValueBytes, long maxRowBytes) {
      if (maxValueBytes < 1 || maxRowBytes < 1) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT,
            "row limits must be positive, got " + maxValueBytes + " and " + maxRowBytes);
      }
      this.rowLimits = new RowLimits(maxValueBytes, maxRowBytes);
      return this;
    }

    /**
     * Receives the rows not synced because they are larger than the {@link #rowLimits}, with the
     * reason, on the replication thread.
     */
    public Builder refusedRows(BiConsumer<SourceKey, String> refusals) {
      this.refusals = Objects.requireNonNull(refusals);
      return this;
    }

    /**
     * Retry delays after failures: doubling from {@code min} up to {@code max} (defaults 200 ms and
     * 30 s).
     */
    public Builder backoff(Duration min, Duration max) {
      if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
        throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "backoff needs 0 < min <= max");
      }
      this.minBackoff = min;
      this.maxBackoff = max;
      return this;
    }

    /** The replicator, not started. */
    public Replicator build() {
      return new Replicator(this);
    }

    private static String defaultIdentity() {
      String host;
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        host = "unknown-host";
      }
      return host + "/" + ProcessHandle.current().pid();
    }
  }

  /** Starts replicating on the replicator's thread; returns at once. */
  public Replicator start() {
    thread.start();
    return this;
  }

  /**
   * Tells the source that changes are on their way (a client asked for a write checkpoint), so that
   * a source polling an idle database looks at once. Any thread; never blocks.
   */
  public void changesExpected() {
    source.changesExpected();
  }

  /** The current state. */
  public Status status() {
    return status;
  }

  /**
   * Whether storage does not answer: the last run ended on a storage connection failure or a
   * storage call waited on for longer than the storage timeout (and storage has not answered
   * since), or opening storage for the next run has taken longer than that timeout so far. Any
   * thread; never blocks.
   */
  public boolean storageUnreachable() {
    long opening = openingSince;
    return storageUnreachable
        || (opening != 0 && System.nanoTime() - opening > storageTimeout.toNanos());
  }

  /**
   * How long ago the replication thread last showed a sign of life (any call of its sink, or {@link
   * ChangeSink#alive()}), in nanoseconds. Any thread.
   */
  public long quietNanos() {
    return System.nanoTime() - lastAlive;
  }

  /**
   * The longest a storage write of replication has taken within the last minute, or the one under
   * way has been running so far, in nanoseconds; 0 when none. Any thread.
   */
  public long slowestRecentWriteNanos() {
    long now = System.nanoTime();
    long running = writingSince;
    long slowest = now - slowestWriteAt <= TimeUnit.MINUTES.toNanos(1) ? slowestWrite : 0;
    return Math.max(slowest, running == 0 ? 0 : now - running);
  }

  private void loop() {
    long backoff = minBackoff.toMillis();
    try {
      while (!closed) {
        BucketStorageWriter writer;
        openingSince = nonZero(System.nanoTime());
        try {
          writer = storage.openWriter(versionId, identity);
        } catch (SynclineException e) {
          openingSince = 0;
          if (e.code() != ErrorCode.REPLICATION_LOCKED) {
            backoff = fail(e, backoff);
            continue;
          }
          status = new Status(ReplicationState.STANDBY, null, status.lastCheckpoint());
          sleep(Math.max(1000, minBackoff.toMillis()));
          continue;
        }
        storageUnreachable = false; // it just answered
        Sink running = null;
        try (writer) {
          BucketStorage.SnapshotState snapshot = storage.snapshotState(versionId);
          Optional<Checkpoint> latest = storage.latestCheckpoint(versionId);
          openingSince = 0;
          SourcePosition resumeFrom =
              latest
                  .map(Checkpoint::position)
                  .filter(p -> !p.isEmpty())
                  .map(source::parsePosition)
                  .orElse(null);
          var done = new HashSet<TableRef>(snapshot.done());
          status =
              new Status(
                  resumeFrom == null ? ReplicationState.SNAPSHOT : ReplicationState.STREAMING,
                  null,
                  latest.orElse(null));
          try (Sink sink = new Sink(writer)) {
            running = sink;
            current = sink;
            lastAlive = System.nanoTime();
            source.run(
                new SourceStart(
                    versionId, rules.sourceTables(), resumeFrom, done, snapshot.progress()),
                sink);
          } finally {
            current = null;
          }
          if (running.aborted != null) {
            backoff = fail(running.aborted, backoff);
          } else if (!closed) {
            // The source returned without being asked to (e.g. it was closed by someone else): do
            // not spin.
            backoff =
                fail(
                    new SynclineException(ErrorCode.SOURCE_UNAVAILABLE, "the source stopped"),
                    backoff);
          }
        } catch (SynclineException e) {
          backoff = fail(running != null && running.aborted != null ? running.aborted : e, backoff);
        } catch (InterruptedException e) {
          if (!closed) {
            Thread.currentThread().interrupt();
          }
          return;
        } catch (Exception e) {
          backoff =
              fail(
                  running != null && running.aborted != null
                      ? running.aborted
                      : new SynclineException(
                          ErrorCode.SOURCE_UNAVAILABLE, "replication failed: " + e, e),
                  backoff);
        }
      }
    } finally {
      watchdog.shutdownNow();
      status = new Status(ReplicationState.STOPPED, null, status.lastCheckpoint());
      stopped.countDown();
    }
  }

  private long fail(SynclineException e, long backoff) {
    if (openingSince != 0) {
      openingSince = 0;
      if (connectionFailure(e)) {
        storageUnreachable = true; // storage refused a connection before the run began
      }
    }
    if (closed) {
      return backoff;
    }
    status = new Status(ReplicationState.RETRYING, e, status.lastCheckpoint());
    LOG.log(
        System.Logger.Level.WARNING,
        "replication of version "
            + versionId
            + " failed (["
            + e.code().code()
            + "] "
            + e.getMessage()
            + "); retrying in "
            + backoff
            + " ms");
    events.accept(new SourceEvent.Warning(e.code().code(), e.getMessage(), null));
    sleep(backoff + ThreadLocalRandom.current().nextLong(backoff / 4 + 1));
    return Math.min(backoff * 2, maxBackoff.toMillis());
  }

  private void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
  }

  /**
   * Runs {@link BucketStorageWriter#adoptBuckets} with this replicator's writer, on its commit
   * thread between two batches, and waits for it. Callable from any thread while this replicator
   * holds the lock.
   *
   * @throws SynclineException {@code REPLICATION_LOCKED} when this replicator does not replicate
   *     now (standing by, retrying, stopped), or the storage's error
   */
  public Optional<Checkpoint> adoptBuckets(
      long fromVersion, Predicate<String> buckets, Duration timeout) {
    Sink sink = current;
    if (sink == null) {
      throw new SynclineException(
          ErrorCode.REPLICATION_LOCKED,
          "rules version " + versionId + " is not being replicated by this instance");
    }
    try {
      return sink.inOrder(() -> sink.writer.adoptBuckets(fromVersion, buckets), false)
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      throw new SynclineException(
          ErrorCode.REPLICATION_LOCKED, "replication of version " + versionId + " stopped");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof SynclineException se) {
        throw se;
      }
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "adopting buckets failed: " + e.getCause(), e);
    } catch (TimeoutException e) {
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "adopting buckets took longer than " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SynclineException(ErrorCode.STORAGE_FAILED, "interrupted while adopting buckets");
    }
  }

  /** Stops replication, waits up to 30 s for the thread to leave the source cleanly; idempotent. */
  @Override
  public void close() {
    closed = true;
    watchdog.shutdown();
    source.close();
    if (thread.isAlive()) {
      thread.interrupt();
    }
    try {
      if (thread.getState() != Thread.State.NEW && !stopped.await(30, TimeUnit.SECONDS)) {
        LOG.log(System.Logger.Level.WARNING, "replication thread did not stop within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Applies a source's changes through the rules into storage. Called by the replication thread;
   * storage writes run in order on a committer thread of the sink's own ({@code
   * syncline-storage-commit-<version>}) so that the next batch is built while the previous ones are
   * written. Up to {@link #MAX_IN_FLIGHT} batches are handed over at a time (one being written, one
   * waiting, while a third is built), so a slow commit does not stall the building and a quick one
   * does not wait for the next batch; the replication thread keeps reading stored rows meanwhile,
   * which the storage SPI allows during a commit, and finds the rows of batches not yet committed
   * in the builder.
   */
  private final class Sink implements ChangeSink, AutoCloseable {
    private static final int MAX_IN_FLIGHT = 2;
    private final BucketStorageWriter writer;
    private final BatchBuilder batch;

    /**
     * Changes not yet applied: applied in groups so that their stored rows are read with one query.
     */
    private final List<SourceChange> buffer = new ArrayList<>();

    private final ExecutorService committer;

    /**
     * Batches handed to the committer and not yet seen committed, oldest first; at most {@link
     * #MAX_IN_FLIGHT}.
     */
    private final ArrayDeque<Future<Optional<Checkpoint>>> inFlight = new ArrayDeque<>();

    private @Nullable Future<?> lastTask;

    /** The first storage write that failed; written and read on the committer thread only. */
    private @Nullable Throwable failed;

    /** The source said the rows it sends now are not in storage yet (a fresh initial copy). */
    private boolean onlyNewRows;

    /**
     * The source said the rows it inserts now are not in storage yet (streaming past what storage
     * holds).
     */
    private boolean newInserts;

    /**
     * When the replication thread began waiting for a storage call ({@link System#nanoTime()}), or
     * 0.
     */
    private volatile long waitingSince;

    /** When the committer began its current storage write, or 0. */
    private volatile long committingSince;

    /**
     * Why this run was ended by the storage watch; every later call of the source then fails with
     * it.
     */
    volatile @Nullable SynclineException aborted;

    private final AtomicBoolean checkPending = new AtomicBoolean();

    Sink(BucketStorageWriter writer) {
      this.writer = writer;
      this.batch =
          new BatchBuilder(rules, writer, evaluationErrors, source::needsRowImage)
              .rowLimits(rowLimits, refusals);
      this.committer =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "syncline-storage-commit-" + versionId);
                t.setDaemon(true);
                return t;
              });
    }

    @Override
    public void alive() {
      lastAlive = System.nanoTime();
    }

    @Override
    public void accept(SourceChange change) throws InterruptedException {
      checkAborted(); // no clock read per change: drain() notes the sign of life once per group
      buffer.add(change);
      if (buffer.size() >= 1000) {
        drain();
      }
    }

    private void drain() throws InterruptedException {
      lastAlive = System.nanoTime();
      reapCommitted();
      if (!buffer.isEmpty()) {
        if (buffer.stream().anyMatch(c -> c.kind() == SourceChange.Kind.TRUNCATE)) {
          awaitInFlight(); // a truncate lists the table's stored rows: let the batch being written
          // land first
        }
        beginWait();
        try {
          batch.applyAll(buffer, onlyNewRows, newInserts);
        } finally {
          waitingSince = 0;
        }
        buffer.clear();
      }
    }

    /** Waits for every batch being written; rethrows the first failure on this thread. */
    private void awaitInFlight() throws InterruptedException {
      while (!inFlight.isEmpty()) {
        awaitOldest();
      }
    }

    /**
     * Takes note of the batches already written, without waiting: their rows are then read from
     * storage again instead of the builder's memory, and the status shows their checkpoints.
     */
    private void reapCommitted() throws InterruptedException {
      while (!inFlight.isEmpty() && inFlight.getFirst().isDone()) {
        awaitOldest();
      }
    }

    /** Waits for the oldest batch being written; rethrows its failure on this thread. */
    private void awaitOldest() throws InterruptedException {
      checkAborted();
      try {
        Optional<Checkpoint> c = await(inFlight.getFirst());
        c.ifPresent(cp -> status = new Status(ReplicationState.STREAMING, null, cp));
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof SynclineException se) {
          throw se;
        }
        throw new SynclineException(
            ErrorCode.STORAGE_FAILED, "storage commit failed: " + cause, cause);
      } finally {
        inFlight.removeFirst();
      }
      batch.committed();
    }

    /**
     * Runs a storage write on the committer after the writes submitted before it, and only if all
     * of them succeeded: a snapshot's progress must never be recorded past rows whose batch failed
     * (the replication thread learns of a failure only when it next waits for the committer).
     */
    private <T> Future<T> inOrder(Callable<T> write) {
      return inOrder(write, true);
    }

    /**
     * As {@link #inOrder(java.util.concurrent.Callable)}; {@code watched} false leaves the write
     * out of the storage watch (a long bulk write the caller bounds itself).
     */
    private <T> Future<T> inOrder(Callable<T> write, boolean watched) {
      return committer.submit(
          () -> {
            Throwable earlier = failed;
            if (earlier != null) {
              throw new SynclineException(
                  ErrorCode.STORAGE_FAILED,
                  "not written: an earlier storage write failed (" + earlier + ")",
                  earlier);
            }
            long began = nonZero(System.nanoTime());
            writingSince = began;
            if (watched) {
              committingSince = began;
              scheduleCheck();
            }
            try {
              T result = write.call();
              storageUnreachable = false;
              return result;
            } catch (Throwable t) {
              failed = t;
              if (!closed) {
                abort(
                    t instanceof SynclineException se
                        ? se
                        : new SynclineException(
                            ErrorCode.STORAGE_FAILED, "storage write failed: " + t, t),
                    connectionFailure(t));
              }
              throw t;
            } finally {
              committingSince = 0;
              writingSince = 0;
              long took = System.nanoTime() - began;
              if (took > slowestWrite
                  || System.nanoTime() - slowestWriteAt > TimeUnit.MINUTES.toNanos(1)) {
                slowestWrite = took;
                slowestWriteAt = System.nanoTime();
              }
            }
          });
    }

    /** Fails the source's call when the storage watch ended this run. Replication thread. */
    private void checkAborted() {
      SynclineException a = aborted;
      if (a != null) {
        throw a;
      }
    }

    /**
     * Marks the start of a storage wait of the replication thread (ended by setting {@link
     * #waitingSince} to 0).
     */
    private void beginWait() {
      waitingSince = nonZero(System.nanoTime());
      scheduleCheck();
    }

    /**
     * Waits for a write handed to the committer, looking every 100 ms whether the storage watch
     * ended the run meanwhile (then fails with its reason instead of waiting for the host's pool to
     * give up).
     */
    private <T> T await(Future<T> f) throws InterruptedException, ExecutionException {
      while (true) {
        try {
          return f.get(100, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          checkAborted();
        }
      }
    }

    /**
     * Makes sure a check of the storage waits is scheduled; at most one is pending. Any thread;
     * never blocks.
     */
    private void scheduleCheck() {
      if (checkPending.compareAndSet(false, true)) {
        try {
          ScheduledFuture<?> unused =
              watchdog.schedule(this::check, storageTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
          checkPending.set(false); // closing
        }
      }
    }

    /**
     * On the watchdog: ends the run if a storage call has been waited for longer than the timeout;
     * else looks again when the oldest wait would reach it, as long as one is under way.
     */
    private void check() {
      checkPending.set(false);
      if (aborted != null || closed) {
        return;
      }
      long now = System.nanoTime();
      long oldest = 0;
      for (long since : new long[] {waitingSince, committingSince}) {
        if (since != 0 && (oldest == 0 || since - oldest < 0)) {
          oldest = since;
        }
      }
      if (oldest == 0) {
        return; // nothing waits; the next wait schedules a check
      }
      long waited = now - oldest;
      if (waited >= storageTimeout.toNanos()) {
        abort(
            new SynclineException(
                ErrorCode.STORAGE_FAILED,
                "storage did not answer within "
                    + storageTimeout.toMillis()
                    + " ms (a connection or a write still outstanding)"),
            true);
        return;
      }
      if (checkPending.compareAndSet(false, true)) {
        try {
          ScheduledFuture<?> unused =
              watchdog.schedule(
                  this::check, storageTimeout.toNanos() - waited, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
          checkPending.set(false);
        }
      }
    }

    /**
     * Ends this run because storage cannot take its changes: records why (health and status show it
     * at once) and has the source let go of its stream, so that nothing in the source database
     * waits for this process while storage is away. Any thread; the first reason wins.
     */
    private void abort(SynclineException reason, boolean unreachable) {
      synchronized (this) {
        if (aborted != null) {
          return;
        }
        aborted = reason;
      }
      if (unreachable) {
        storageUnreachable = true;
      }
      status = new Status(ReplicationState.RETRYING, reason, status.lastCheckpoint());
      LOG.log(
          System.Logger.Level.WARNING,
          "replication of version " + versionId + " lets go of the source: " + reason.getMessage());
      try {
        source.abortRun();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "the source could not end its run", e);
      }
    }

    /**
     * Hands the accumulated batch to the committer; {@code durable} runs there after the commit.
     */
    private void submit(@Nullable String position, @Nullable Runnable durable)
        throws InterruptedException {
      drain();
      if (batch.isEmpty() && position == null) {
        return; // nothing to write: the batch in flight (if any) keeps going
      }
      while (inFlight.size() >= MAX_IN_FLIGHT) {
        awaitOldest();
      }
      var b = batch.takeBatch(position);
      var task =
          inOrder(
              () -> {
                Optional<Checkpoint> c = writer.commit(b);
                if (durable != null) {
                  durable.run();
                }
                return c;
              });
      inFlight.addLast(task);
      lastTask = task;
    }

    @Override
    public void commit(SourcePosition position) throws InterruptedException {
      checkAborted();
      submit(position.serialize(), null);
      awaitInFlight();
    }

    @Override
    public void commitAsync(SourcePosition position, Runnable durable) throws InterruptedException {
      checkAborted();
      submit(position.serialize(), durable);
    }

    @Override
    public void sync() throws InterruptedException {
      checkAborted();
      awaitInFlight();
      awaitLastTask();
    }

    @Override
    public void flush() throws InterruptedException {
      checkAborted();
      submit(null, null);
    }

    private void awaitLastTask() throws InterruptedException {
      if (lastTask != null) {
        try {
          await(lastTask);
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          throw cause instanceof SynclineException se
              ? se
              : new SynclineException(
                  ErrorCode.STORAGE_FAILED, "storage write failed: " + cause, cause);
        }
      }
    }

    @Override
    public void snapshotProgress(TableRef table, String cursor) {
      afterRows(() -> writer.setSnapshotProgress(table, cursor));
    }

    @Override
    public void snapshotDone(TableRef table) {
      afterRows(() -> writer.setSnapshotDone(table, true));
    }

    /**
     * Writes snapshot state on the committer, after the rows accepted so far (the committer runs in
     * order).
     */
    private void afterRows(Runnable write) {
      try {
        flush();
        lastTask =
            inOrder(
                () -> {
                  write.run();
                  return null;
                });
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SynclineException(ErrorCode.SOURCE_UNAVAILABLE, "interrupted", e);
      }
    }

    @Override
    public void expectNewRows(boolean only) {
      drainUnderPreviousHints();
      this.onlyNewRows = only;
    }

    @Override
    public void expectNewInserts(boolean insertsAreNew) {
      drainUnderPreviousHints();
      this.newInserts = insertsAreNew;
    }

    /** Applies the changes accepted so far, before a hint about the next ones changes. */
    private void drainUnderPreviousHints() {
      try {
        drain();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SynclineException(ErrorCode.SOURCE_UNAVAILABLE, "interrupted", e);
      }
    }

    @Override
    public void event(SourceEvent event) {
      lastAlive = System.nanoTime();
      try {
        events.accept(event);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "event listener failed", e);
      }
    }

    /**
     * Lets the writes handed over finish (each is atomic), then stops the committer; only then may
     * the writer, and with it the lock, be let go. Waits even when this thread was interrupted
     * (closing interrupts it): a commit still on its way after the lock is gone would land beside
     * the next writer's (the storage's fence refuses it, but the batch is then lost to this writer
     * too). After 60 s it gives up on them.
     */
    @Override
    public void close() {
      committer.shutdown();
      if (!Uninterruptibly.awaitTermination(committer, Duration.ofSeconds(60))) {
        LOG.log(
            System.Logger.Level.WARNING,
            "a storage commit did not finish within 60 s; letting go of it");
        committer.shutdownNow();
      }
    }
  }

  private static long nonZero(long nanos) {
    return nanos == 0 ? 1 : nanos;
  }

  /**
   * Whether a storage failure means storage could not be reached (a connection refused, lost or not
   * obtained in time, the server shutting down), as opposed to a refused write.
   */
  static boolean connectionFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof SQLTransientConnectionException
          || c instanceof SQLNonTransientConnectionException
          || c instanceof ConnectException
          || c instanceof SocketException) {
        return true;
      }
      if (c instanceof SQLException e
          && e.getSQLState() != null
          && (e.getSQLState().startsWith("08") || e.getSQLState().startsWith("57P"))) {
        return true;
      }
    }
    return false;
  }
}
