package dev.syncline.postgres;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.postgres.internal.AckTracker;
import dev.syncline.postgres.internal.PgCatalog;
import dev.syncline.postgres.internal.PgCatalog.TableInfo;
import dev.syncline.postgres.internal.PgOutputMessage;
import dev.syncline.postgres.internal.PgValues;
import dev.syncline.postgres.internal.RelationTracker;
import dev.syncline.postgres.internal.RowImages;
import dev.syncline.postgres.internal.StreamedTransactions;
import dev.syncline.postgres.internal.TransactionAssembler;
import dev.syncline.postgres.internal.TransactionSpool;
import dev.syncline.spi.source.ChangeSink;
import dev.syncline.spi.source.SourceAdapter;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.source.SourceEvent;
import dev.syncline.spi.source.SourcePosition;
import dev.syncline.spi.source.SourceStart;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.postgresql.Driver;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * The Postgres source: a consistent initial snapshot, then {@code pgoutput} logical replication.
 *
 * <pre>{@code
 * PostgresSource source = PostgresSource.builder()
 *     .jdbcUrl("jdbc:postgresql://db:5432/app").user("syncline").password(secret)
 *     .build();
 * }</pre>
 *
 * <p><b>Snapshot.</b> A new rules version gets its own replication slot ({@code
 * <slotPrefix>_<versionId>}), created with an exported snapshot; every table is copied inside that
 * snapshot, ordered by its key, with progress recorded every {@link Builder#snapshotChunkRows
 * chunk}. The stream then starts exactly where the snapshot ends, so nothing is missed or applied
 * twice. If the process dies mid-snapshot the slot survives: the remaining rows are copied from the
 * recorded key on (at READ COMMITTED), and no checkpoint becomes visible until the stream has
 * passed the WAL position read after that copy; replaying the overlap is harmless because applying
 * is idempotent.
 *
 * <p><b>Streaming.</b> Changes of a source transaction are buffered until its commit and committed
 * to storage as one batch; while storage writes a batch, the transactions that arrive meanwhile
 * form the next (group commit). A transaction larger than {@link Builder#flushEveryChanges} is
 * written in durable, invisible parts. A position is acknowledged to Postgres only after storage
 * has committed it (pgjdbc's automatic flush is off); on a quiet database the keepalive position is
 * committed and acknowledged about once a second so WAL does not pile up and write checkpoints
 * resolve.
 *
 * <p><b>Threads.</b> {@link #run} is called by the engine on a thread it owns; it polls the
 * replication connection and applies on that same thread. {@link #writeCheckpointHead()} and {@link
 * #close()} may be called from any thread.
 */
public final class PostgresSource implements SourceAdapter {
  private static final System.Logger LOG = System.getLogger(PostgresSource.class.getName());

  /** Prefix of the logical messages Syncline emits for write checkpoints. */
  public static final String MESSAGE_PREFIX = "syncline";

  private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;

  /**
   * The longest the replication connection goes unread within {@link #QUIET} of the last change.
   */
  static final long ACTIVE_POLL_MILLIS = 50;

  /**
   * After this long without changes, the connection is read only every {@link
   * Builder#idlePollInterval}.
   */
  static final Duration QUIET = Duration.ofSeconds(10);

  private final String jdbcUrl;
  private final Properties properties;
  private final String publication;
  private final boolean managePublication;
  private final String slotPrefix;
  private final int snapshotChunkRows;
  private final int flushEveryChanges;
  private final Duration statusInterval;
  private final InstantSource clock;
  private final boolean streamLargeTransactions;
  private final long spoolMemoryBytes;

  /** Large transactions received as protocol-2 streams and committed (for tests and metrics). */
  final AtomicLong streamedTransactions = new AtomicLong();

  private volatile boolean closed;

  /**
   * How to size each table's rows for {@link #needsRowImage}; written and read by the replication
   * thread.
   */
  private final Map<TableRef, RowImages> rowImages = new ConcurrentHashMap<>();

  private volatile @Nullable Connection replicationConnection;
  private final long idlePollMillis;
  private final long quietNanos;

  /** Set by {@link #changesExpected()} (any thread), taken by the replication thread. */
  private final AtomicBoolean changesExpected = new AtomicBoolean();

  /**
   * The thread reading the replication stream, while it does: woken by {@link #changesExpected()}.
   */
  private volatile @Nullable Thread streamingThread;

  private final ReentrantLock headLock = new ReentrantLock();
  private @Nullable Connection headConnection;

  /**
   * Calls of {@link #writeCheckpointHead()} so far, and how many of them the last head read served.
   */
  private final AtomicLong headCalls = new AtomicLong();

  private long headServed;
  private @Nullable Lsn lastHead;

  private PostgresSource(Builder b) {
    this.jdbcUrl = Objects.requireNonNull(b.jdbcUrl, "jdbcUrl");
    this.properties = new Properties();
    properties.putAll(b.properties);
    if (b.user != null) {
      PGProperty.USER.set(properties, b.user);
    }
    if (b.password != null) {
      PGProperty.PASSWORD.set(properties, b.password);
    }
    this.publication = b.publication;
    this.managePublication = b.managePublication;
    this.slotPrefix = b.slotPrefix;
    this.snapshotChunkRows = b.snapshotChunkRows;
    this.flushEveryChanges = b.flushEveryChanges;
    this.statusInterval = b.statusInterval;
    this.clock = b.clock;
    this.streamLargeTransactions = b.streamLargeTransactions;
    this.spoolMemoryBytes = b.spoolMemoryBytes;
    this.idlePollMillis = b.idlePollInterval.toMillis();
    this.quietNanos = b.quiet.toNanos();
  }

  /** Starts configuring a source. */
  public static Builder builder() {
    return new Builder();
  }

  /** Configures a {@link PostgresSource}; only the JDBC URL is required. */
  public static final class Builder {
    private @Nullable String jdbcUrl;
    private @Nullable String user;
    private @Nullable String password;
    private final Properties properties = new Properties();
    private String publication = "syncline";
    private boolean managePublication = true;
    private String slotPrefix = "syncline";
    private int snapshotChunkRows = 10_000;
    private int flushEveryChanges = 10_000;
    private Duration statusInterval = Duration.ofSeconds(10);
    private InstantSource clock = InstantSource.system();
    private boolean streamLargeTransactions = true;
    private long spoolMemoryBytes = 64L * 1024 * 1024;
    private Duration idlePollInterval = Duration.ofMillis(200);
    private Duration quiet = QUIET;

    private Builder() {}

    /**
     * How often replication reads its connection after 10 s without changes (default 200 ms).
     * pgjdbc has no blocking read that leaves the replication thread free to acknowledge what
     * storage made durable, so the connection is polled: within 10 s of a change at most every 50
     * ms, after that at this interval. It bounds the delay of the first change after a quiet spell,
     * unless the change is announced: a write checkpoint (a client's write through the engine)
     * wakes replication at once. Shorter intervals cost more CPU while idle (each look costs about
     * 0.1–0.2 ms of CPU on a small virtual machine); see docs/benchmarks.md, "Idle cost".
     */
    public Builder idlePollInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero() || interval.toMillis() < 1) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "idle poll interval must be at least 1 ms");
      }
      this.idlePollInterval = interval;
      return this;
    }

    /** For tests: how long without changes before the connection is polled at the idle interval. */
    Builder quietAfter(Duration quiet) {
      this.quiet = quiet;
      return this;
    }

    /**
     * Whether Postgres streams large transactions before they commit (pgoutput protocol 2, default
     * on): the server then neither holds them in memory nor spills them to its disk, and the first
     * rows arrive sooner. Syncline keeps each such transaction (in memory up to {@code
     * spoolMemoryBytes}, then in a temporary file) until it commits, and drops it if it aborts.
     */
    public Builder streamLargeTransactions(boolean stream, long spoolMemoryBytes) {
      if (spoolMemoryBytes < 0) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "spool memory must not be negative");
      }
      this.streamLargeTransactions = stream;
      this.spoolMemoryBytes = spoolMemoryBytes;
      return this;
    }

    /** The database, e.g. {@code jdbc:postgresql://host:5432/app}. */
    public Builder jdbcUrl(String jdbcUrl) {
      if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "not a Postgres JDBC URL: " + jdbcUrl);
      }
      this.jdbcUrl = jdbcUrl;
      return this;
    }

    /**
     * The role to connect as; it needs the REPLICATION right and SELECT on the tables the rules
     * read.
     */
    public Builder user(String user) {
      this.user = Objects.requireNonNull(user);
      return this;
    }

    /** The role's password. */
    public Builder password(String password) {
      this.password = Objects.requireNonNull(password);
      return this;
    }

    /** A further pgjdbc connection property (e.g. {@code sslmode}). */
    public Builder property(String name, String value) {
      properties.setProperty(name, value);
      return this;
    }

    /**
     * The publication to replicate from (default {@code syncline}). With {@code manage} (the
     * default) Syncline creates it for the rules' tables and adds tables the rules read later;
     * without, it must exist and cover them.
     */
    public Builder publication(String name, boolean manage) {
      this.publication = Objects.requireNonNull(name);
      this.managePublication = manage;
      return this;
    }

    /**
     * Prefix of the replication slots, one per rules version (default {@code syncline}); {@code
     * [a-z0-9_]}.
     */
    public Builder slotPrefix(String prefix) {
      if (!prefix.matches("[a-z0-9_]{1,40}")) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "slot prefix must match [a-z0-9_]{1,40}: " + prefix);
      }
      this.slotPrefix = prefix;
      return this;
    }

    /** Rows copied between two recorded snapshot progress points (default 10,000). */
    public Builder snapshotChunkRows(int rows) {
      this.snapshotChunkRows = positive(rows, "snapshot chunk rows");
      return this;
    }

    /**
     * Changes of one transaction buffered before they are written in an invisible part (default
     * 10,000).
     */
    public Builder flushEveryChanges(int changes) {
      this.flushEveryChanges = positive(changes, "flush every changes");
      return this;
    }

    /** How often the replication connection reports its status to Postgres (default 10 s). */
    public Builder statusInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero()) {
        throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "status interval must be positive");
      }
      this.statusInterval = interval;
      return this;
    }

    /** The clock for lag figures; default the system clock. */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock);
      return this;
    }

    private static int positive(int v, String what) {
      if (v < 1) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, what + " must be positive, got " + v);
      }
      return v;
    }

    /** The source. */
    public PostgresSource build() {
      if (jdbcUrl == null) {
        throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "PostgresSource needs a jdbcUrl");
      }
      return new PostgresSource(this);
    }
  }

  /** The slot of a rules version. */
  public String slotName(long versionId) {
    return slotPrefix + "_" + versionId;
  }

  @Override
  public SourcePosition parsePosition(String serialized) {
    return Lsn.parse(serialized);
  }

  @Override
  public boolean needsRowImages() {
    return true;
  }

  /**
   * Only for rows that may hold values Postgres stored out of line (TOAST): those are the values a
   * later update leaves out when it does not change them. A row whose stored size (bounded from its
   * values and the table's column types) is below the table's TOAST threshold cannot hold any; most
   * rows of most tables are such rows, and storing no image for them halves what the initial copy
   * writes per row. See {@link RowImages}.
   */
  @Override
  public boolean needsRowImage(TableRef table, SourceRow row) {
    RowImages images = rowImages.get(table);
    return images == null || images.needed(row);
  }

  /** Records how to size a table's rows; called whenever the catalog describes a table. */
  private void describe(TableInfo t) {
    rowImages.put(t.ref(), t.images());
  }

  @Override
  public void run(SourceStart start, ChangeSink sink) throws Exception {
    if (closed) {
      return; // closing is final: a close() racing with a retry must not be lost
    }
    try (Connection sql = connect(false)) {
      PgCatalog.pinSessionSettings(sql);
      PgCatalog catalog = new PgCatalog(sql);
      catalog.checkServer();
      List<TableInfo> tables = catalog.tables(start.tables());
      tables.forEach(PostgresSource.this::describe);
      reportMissingTables(start.tables(), tables, sink);
      catalog.ensurePublication(publication, managePublication, tables);
      String slot = slotName(start.versionId());
      PgCatalog.SlotState state = catalog.slot(slot);
      if (state != null && "lost".equals(state.walStatus())) {
        throw slotLost(slot, "it was invalidated (max_slot_wal_keep_size exceeded)");
      }
      boolean fresh = state == null;
      if (fresh
          && (start.resumeFrom() != null
              || !start.snapshotDone().isEmpty()
              || !start.snapshotProgress().isEmpty())) {
        throw slotLost(slot, "it no longer exists");
      }
      catalog.checkCapacity(fresh);
      PgValues values = new PgValues(catalog::type);
      Connection repl = connect(true);
      replicationConnection = repl;
      try (repl) {
        PgCatalog.pinSessionSettings(repl);
        Lsn resumeFrom = (Lsn) start.resumeFrom();
        Lsn catchUp = null;
        Set<TableRef> catchUpTables = new LinkedHashSet<>();
        if (fresh) {
          Lsn consistent = copier(values, sink).initial(repl, slot, tables);
          if (consistent == null) {
            return; // closed while copying
          }
          sink.commit(consistent);
          resumeFrom = consistent;
        } else {
          for (Map.Entry<TableRef, String> e : start.snapshotProgress().entrySet()) {
            if (e.getValue().startsWith(SnapshotCopier.CATCH_UP)) {
              Lsn l = Lsn.parse(e.getValue().substring(SnapshotCopier.CATCH_UP.length()));
              catchUp = catchUp == null || l.compareTo(catchUp) > 0 ? l : catchUp;
              catchUpTables.add(e.getKey());
            }
          }
          List<TableInfo> todo =
              tables.stream()
                  .filter(
                      t ->
                          !start.snapshotDone().contains(t.ref())
                              && !catchUpTables.contains(t.ref()))
                  .toList();
          if (!todo.isEmpty()) {
            Lsn l = copier(values, sink).resume(todo, start.snapshotProgress());
            if (l == null) {
              return;
            }
            catchUp = catchUp == null || l.compareTo(catchUp) > 0 ? l : catchUp;
            todo.forEach(t -> catchUpTables.add(t.ref()));
          }
        }
        new Streamer(
                repl,
                catalog,
                values,
                sink,
                tables,
                start.tables(),
                resumeFrom,
                catchUp,
                catchUpTables)
            .stream(slot);
      }
    } catch (SQLException e) {
      if (closed) {
        return;
      }
      throw translate(e);
    } finally {
      replicationConnection = null;
    }
  }

  private static long maxUnsigned(long a, long b) {
    return Long.compareUnsigned(a, b) >= 0 ? a : b;
  }

  private static SynclineException slotLost(String slot, String why) {
    return new SynclineException(
        ErrorCode.SLOT_INVALIDATED,
        "replication slot "
            + slot
            + " cannot be used: "
            + why
            + ". Changes made meanwhile are gone from the WAL; deploy the sync rules again as a new version to take a "
            + "new snapshot (see engine-postgres/README.md, \"Recovering from a lost slot\")");
  }

  private SynclineException translate(SQLException e) {
    String m = String.valueOf(e.getMessage());
    if (m.contains("invalidated")
        || m.contains("can no longer get changes from replication slot")
        || m.contains("can no longer access replication slot")
        || m.contains("exceeded the maximum reserved size")) {
      return slotLost("?", m);
    }
    if (m.contains("is active for PID")) {
      return new SynclineException(
          ErrorCode.REPLICATION_LOCKED, "another process is streaming from the slot: " + m, e);
    }
    return new SynclineException(
        ErrorCode.SOURCE_UNAVAILABLE, "Postgres replication failed: " + m, e);
  }

  private static void reportMissingTables(
      List<TablePattern> patterns, List<TableInfo> found, ChangeSink sink) {
    for (TablePattern p : patterns) {
      if (found.stream().noneMatch(t -> p.matches(t.ref()))) {
        sink.event(
            new SourceEvent.Warning(
                "SYNCLINE_P1001",
                "no table matches "
                    + p
                    + " yet; its rows sync once "
                    + "it exists and is in the publication",
                null));
      }
    }
  }

  /** A copier of table rows into {@code sink}, reading on connections of its own. */
  private SnapshotCopier copier(PgValues values, ChangeSink sink) {
    return new SnapshotCopier(() -> connect(false), snapshotChunkRows, () -> closed, values, sink);
  }

  /**
   * The replication loop: reads the stream, hands its transactions to storage in groups, confirms
   * what storage made durable, and between transactions looks for new and dropped tables. The pure
   * parts are separate: {@link StreamedTransactions} routes protocol-2 blocks, {@link
   * TransactionAssembler} turns messages into transactions, {@link RelationTracker} knows the
   * tables, {@link AckTracker} decides what to confirm. One instance per {@link #run}, on its
   * thread.
   */
  private final class Streamer implements TransactionAssembler.Output {
    private final Connection repl;
    private final PgCatalog catalog;
    private final PgValues values;
    private final ChangeSink sink;
    private final List<TablePattern> patterns;
    private final RelationTracker relations;
    private final TransactionAssembler assembler;
    private final AckTracker acks;
    private @Nullable Lsn catchUp;
    private final Set<TableRef> catchUpTables;
    private @Nullable PGReplicationStream stream;
    private long pendingCommit = -1;
    private int pendingRows;
    private long lastReportMillis;
    private long transactions;
    private long rows;
    private long lastLagMillis = -1;

    /**
     * A transaction was applied since this streamer started (the first may have been partly stored
     * before).
     */
    private boolean appliedSinceStart;

    /** Transactions committed before this position may have been seen by a copy of a new table. */
    private long copiedUpTo;

    /** A new table's rows were copied and no checkpoint has made them visible yet. */
    private boolean copiedUncommitted;

    /** What the sink was last told by {@link ChangeSink#expectNewInserts}. */
    private boolean insertsAreNew;

    Streamer(
        Connection repl,
        PgCatalog catalog,
        PgValues values,
        ChangeSink sink,
        List<TableInfo> tables,
        List<TablePattern> patterns,
        @Nullable Lsn resumeFrom,
        @Nullable Lsn catchUp,
        Set<TableRef> catchUpTables) {
      this.repl = repl;
      this.catalog = catalog;
      this.values = values;
      this.sink = sink;
      this.patterns = patterns;
      this.relations =
          new RelationTracker(
              patterns,
              tables,
              values,
              (id, ref, identity, problems) -> catalog.describe(id, ref, identity, -1, problems));
      long resumed = resumeFrom == null ? 0 : resumeFrom.value();
      this.assembler = new TransactionAssembler(relations, flushEveryChanges, resumed);
      this.acks = new AckTracker(resumed);
      this.catchUp = catchUp;
      this.catchUpTables = catchUpTables;
    }

    void stream(String slot) throws Exception {
      PGReplicationStream stream =
          repl.unwrap(PGConnection.class)
              .getReplicationAPI()
              .replicationStream()
              .logical()
              .withSlotName(slot)
              .withStartPosition(LogSequenceNumber.INVALID_LSN)
              .withSlotOption("proto_version", streamLargeTransactions ? "2" : "1")
              .withSlotOptions(streamingOption())
              .withSlotOption("publication_names", publication)
              .withSlotOption("messages", "true")
              .withStatusInterval((int) statusInterval.toMillis(), TimeUnit.MILLISECONDS)
              .withAutomaticFlush(false)
              .start();
      this.stream = stream;
      currentSlot = slot;
      LOG.log(System.Logger.Level.INFO, "streaming from slot {0}", slot);
      PollBackoff poll =
          new PollBackoff(ACTIVE_POLL_MILLIS, idlePollMillis, quietNanos, System.nanoTime());
      lastReportMillis = clock.millis();
      streamingThread = Thread.currentThread();
      try {
        while (!closed) {
          sink.alive();
          confirmDurable();
          report();
          if (pendingCommit >= 0 && !acks.storageBusy()) {
            commitGroup(); // storage is free: everything that arrived meanwhile goes in one batch
          }
          ByteBuffer buffer = stream.readPending();
          if (buffer == null) {
            if (pendingCommit < 0 && !assembler.inTransaction()) {
              keepalive();
            }
            if (pendingCommit >= 0) {
              Thread.sleep(1); // waiting for storage: look again soon
            } else {
              // Idle: back off (see Builder.idlePollInterval); changesExpected() cuts the wait
              // short.
              if (changesExpected.getAndSet(false)) {
                poll.expect(System.nanoTime());
              }
              LockSupport.parkNanos(
                  PostgresSource.this,
                  TimeUnit.MILLISECONDS.toNanos(poll.nextSleepMillis(System.nanoTime())));
              if (Thread.interrupted()) {
                throw new InterruptedException();
              }
            }
            continue;
          }
          poll.activity(System.nanoTime());
          receive(buffer);
        }
        if (pendingCommit >= 0) {
          commitGroup();
        }
        sink.sync(); // a clean stop leaves nothing applied but unacknowledged
        confirmDurable();
      } finally {
        streamingThread = null;
        streamed.close();
        try {
          stream.close();
        } catch (SQLException e) {
          // The connection is closing anyway.
        }
      }
    }

    private PGReplicationStream stream() {
      return Objects.requireNonNull(stream, "streaming");
    }

    // ---- what the assembler hands on ----

    @Override
    public void begin(long finalLsn, boolean skipped) {
      // Inserts are of rows storage does not hold, except in the first transaction after a start
      // (parts of it may have been stored before a stop), while catching up with a resumed copy,
      // and in transactions a copy of a new table may have seen.
      boolean newInserts =
          !skipped
              && appliedSinceStart
              && catchUp == null
              && Long.compareUnsigned(finalLsn, copiedUpTo) > 0;
      if (newInserts != insertsAreNew) {
        sink.expectNewInserts(newInserts);
        insertsAreNew = newInserts;
      }
    }

    @Override
    public void spill(List<SourceChange> changes) throws Exception {
      if (pendingCommit >= 0) {
        commitGroup();
      }
      for (SourceChange c : changes) {
        sink.accept(c);
      }
      rows += changes.size();
      sink.flush(); // durable but invisible: the transaction's commit makes it visible
    }

    @Override
    public void commit(List<SourceChange> changes, long endLsn, long commitTimeMicros)
        throws Exception {
      appliedSinceStart = true;
      if (pendingCommit >= 0
          && !changes.isEmpty()
          && pendingRows + changes.size() > flushEveryChanges) {
        commitGroup();
      }
      for (SourceChange change : changes) {
        sink.accept(change);
      }
      pendingRows += changes.size();
      rows += changes.size();
      transactions++;
      pendingCommit = endLsn;
      lastLagMillis = Math.max(0, clock.millis() - (commitTimeMicros + PG_EPOCH_MICROS) / 1000);
      // Group commit: a transaction is committed at once when storage is free; while storage
      // writes the previous batch, the transactions that arrive meanwhile gather into the next
      // one (bounded by flushEveryChanges).
      if (pendingRows >= flushEveryChanges || !acks.storageBusy()) {
        commitGroup();
      }
    }

    @Override
    public void relation(RelationTracker.Outcome outcome) {
      if (outcome instanceof RelationTracker.Outcome.Added a) {
        describe(a.table());
        sink.event(
            new SourceEvent.SchemaChanged(
                a.table().ref(),
                "new table in the stream; its rows sync from their next change on (rows that"
                    + " existed before are not copied until the rules are deployed again)"));
      } else if (outcome instanceof RelationTracker.Outcome.Changed c) {
        describe(c.after());
        sink.event(new SourceEvent.SchemaChanged(c.after().ref(), c.description()));
      } else if (outcome instanceof RelationTracker.Outcome.Refused r) {
        sink.event(new SourceEvent.Warning("SYNCLINE_P1003", r.problem(), r.ref()));
      }
    }

    @Override
    public void typeChanged(int typeOid) {
      catalog.forgetType(typeOid);
    }

    @Override
    public void between() throws Exception {
      keepalive();
    }

    // ---- storage and confirmations ----

    /**
     * Commits the transactions accepted so far; their end position is confirmed once storage
     * reports them durable (the storage write overlaps with reading the next transactions).
     */
    private void commitGroup() throws Exception {
      long end = pendingCommit;
      pendingCommit = -1;
      pendingRows = 0;
      commitAt(new Lsn(end));
      confirmDurable();
    }

    private void commitAt(Lsn position) throws Exception {
      if (catchUp != null && position.compareTo(catchUp) < 0) {
        // Replayed before the resumed copy's position: not consistent yet, so not visible.
        sink.flush();
        sink.sync();
        acks.durable(position.value());
        return;
      }
      if (catchUp != null) {
        sink.flush();
        catchUpTables.forEach(sink::snapshotDone);
        LOG.log(
            System.Logger.Level.INFO,
            "the stream passed {0}: the resumed snapshot is consistent",
            catchUp);
        catchUp = null;
      }
      acks.submitted(position.value());
      copiedUncommitted = false; // a commit makes everything applied so far visible
      sink.commitAsync(position, () -> acks.durable(position.value()));
    }

    /** Confirms what storage has made durable, if that moved. Only on the polling thread. */
    private void confirmDurable() throws SQLException {
      long durable = acks.toConfirm();
      if (durable != 0) {
        confirm(durable);
      }
    }

    private void confirm(long position) throws SQLException {
      PGReplicationStream s = stream();
      LogSequenceNumber lsn = LogSequenceNumber.valueOf(position);
      s.setAppliedLSN(lsn);
      s.setFlushedLSN(lsn);
      s.forceUpdateStatus();
    }

    /**
     * While idle, lets the slot follow the server's WAL: a position received with nothing of ours
     * before it (the server's keepalives, other tables' and databases' transactions) is confirmed
     * at most once a status interval, without writing storage. (Writing a checkpoint for it would
     * itself make WAL; with storage on the same cluster, the server would answer with a newer
     * position, and the engine would write once a second forever.) Write checkpoints do not need
     * it: their head's logical message is a transaction of ours. While a resumed copy waits for the
     * stream to pass its position, that passing is stored, once a second at most; after a new
     * table's rows were copied, a checkpoint makes them visible at once.
     */
    private void keepalive() throws Exception {
      if (assembler.holdsChanges() || pendingCommit >= 0 || acks.storageBusy()) {
        return;
      }
      long received = stream().getLastReceiveLSN().asLong();
      long now = clock.millis();
      if (copiedUncommitted && catchUp == null) {
        // A new table's rows were copied: make them visible now, not with the next change of some
        // table.
        long at = AckTracker.max(received, acks.confirmed());
        if (at != 0) {
          acks.due(now, 0);
          commitAt(new Lsn(at));
        }
        return;
      }
      if (Long.compareUnsigned(received, acks.confirmed()) <= 0) {
        return;
      }
      if (catchUp != null) {
        if (acks.due(now, 1000)) {
          commitAt(new Lsn(received));
        }
        return;
      }
      if (acks.due(now, statusInterval.toMillis())) {
        acks.confirmedUnstored(received);
        confirm(received);
      }
    }

    // ---- tables appearing and disappearing ----

    /**
     * Tables matching the rules that appeared after replication started: added to a managed
     * publication, their existing rows copied (at READ COMMITTED; changes the stream replays over
     * the copy are idempotent), then streamed. Runs between transactions; keeps the replication
     * connection alive while copying.
     */
    private void discoverTables() throws Exception {
      if (assembler.inTransaction() || assembler.holdsChanges() || streamed.inStreamBlock()) {
        return;
      }
      List<TableInfo> found;
      try {
        found = catalog.tables(patterns);
      } catch (SynclineException e) {
        sink.event(
            new SourceEvent.Warning(
                e.code().code(), e.getMessage(), null)); // e.g. a new table without a key
        return;
      }
      List<TableInfo> fresh = found.stream().filter(t -> !relations.knows(t.relationId())).toList();
      if (fresh.isEmpty()) {
        return;
      }
      try {
        catalog.ensurePublication(publication, managePublication, fresh);
      } catch (SynclineException e) {
        sink.event(new SourceEvent.Warning(e.code().code(), e.getMessage(), fresh.get(0).ref()));
        return;
      }
      if (pendingCommit >= 0) {
        commitGroup();
      }
      if (insertsAreNew) {
        // The copy's rows are inserts too, of a table whose rows storage may hold (dropped and
        // created again).
        sink.expectNewInserts(false);
        insertsAreNew = false;
      }
      PGReplicationStream s = stream();
      try (Connection reader = connect(false)) {
        PgCatalog.pinSessionSettings(reader);
        reader.setAutoCommit(false);
        for (TableInfo t : fresh) {
          relations.add(t);
          describe(t);
          LOG.log(
              System.Logger.Level.INFO,
              "new table {0}: copying its rows, then streaming it",
              t.ref());
          if (!copier(values, sink)
              .copy(
                  reader,
                  t,
                  null,
                  () -> {
                    confirmDurable();
                    s.forceUpdateStatus(); // a long copy must not let the walsender time out
                  })) {
            return;
          }
          reader.commit();
          sink.snapshotDone(t.ref());
          copiedUncommitted = true;
          sink.event(
              new SourceEvent.SchemaChanged(
                  t.ref(),
                  "new table: its existing rows were copied and its "
                      + "changes stream from now on"));
        }
        // The copy may have seen rows of transactions the stream has yet to send.
        try (Statement st = reader.createStatement();
            ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
          rs.next();
          copiedUpTo = maxUnsigned(copiedUpTo, Lsn.parse(rs.getString(1)).value());
        }
        reader.commit();
      }
    }

    private void report() throws Exception {
      long now = clock.millis();
      if (now - lastReportMillis < statusInterval.toMillis()) {
        return;
      }
      sink.event(new SourceEvent.Throughput(transactions, rows, now - lastReportMillis));
      transactions = 0;
      rows = 0;
      lastReportMillis = now;
      discoverTables();
      Set<Integer> existing = catalog.existingRelations(relations.relationIds());
      for (int id : relations.relationIds()) {
        if (existing.contains(id)) {
          continue;
        }
        TableInfo gone = relations.forget(id);
        if (gone == null) {
          continue;
        }
        TableRef t = gone.ref();
        LOG.log(
            System.Logger.Level.WARNING,
            "table {0} was dropped; its rows stay in storage until the sync rules "
                + "are deployed again",
            t);
        sink.event(
            new SourceEvent.SchemaChanged(
                t,
                "dropped; its rows stay in storage until the sync rules are "
                    + "deployed again (a table created under the same name later is streamed from its first change)"));
        sink.event(new SourceEvent.Warning("SYNCLINE_P1004", "table " + t + " was dropped", t));
      }
      PgCatalog.SlotState s = catalog.slot(slotNameOf());
      if (s == null) {
        return;
      }
      sink.event(
          new SourceEvent.Lag(
              s.lagBytes(), lastLagMillis, s.retainedBytes(), s.walStatus(), s.safeWalSize()));
      if ("lost".equals(s.walStatus())) {
        throw slotLost(slotNameOf(), "it was invalidated (max_slot_wal_keep_size exceeded)");
      }
      if ("unreserved".equals(s.walStatus())
          || (s.safeWalSize() >= 0 && s.safeWalSize() < 64L * 1024 * 1024)) {
        sink.event(
            new SourceEvent.Warning(
                "SYNCLINE_P1002",
                "replication slot "
                    + slotNameOf()
                    + " is close to "
                    + "invalidation (wal_status="
                    + s.walStatus()
                    + ", safe_wal_size="
                    + s.safeWalSize()
                    + " bytes): "
                    + "replication is not keeping up, or max_slot_wal_keep_size is too small",
                null));
      }
    }

    private String currentSlot = "";

    private Properties streamingOption() {
      Properties p = new Properties();
      if (streamLargeTransactions) {
        p.setProperty("streaming", "on");
      }
      return p;
    }

    /** Protocol 2: the blocks of large transactions streamed before they commit. */
    private final StreamedTransactions streamed = new StreamedTransactions(spoolMemoryBytes);

    /**
     * Routes a message: streamed blocks are spooled until their transaction commits, the rest is
     * assembled.
     */
    private void receive(ByteBuffer buffer) throws Exception {
      streamed.receive(
          buffer,
          new StreamedTransactions.Target() {
            @Override
            public void message(PgOutputMessage message) throws Exception {
              assembler.accept(message, Streamer.this);
            }

            @Override
            public void committed(PgOutputMessage.StreamCommit commit, TransactionSpool spool)
                throws Exception {
              LOG.log(
                  System.Logger.Level.DEBUG,
                  "applying streamed transaction {0} ({1} bytes{2})",
                  Integer.toUnsignedString(commit.xid()),
                  spool.bytes(),
                  spool.onDisk() ? ", spooled to disk" : "");
              assembler.applyStreamed(commit, spool, Streamer.this);
              streamedTransactions.incrementAndGet();
            }
          });
    }

    private String slotNameOf() {
      return currentSlot;
    }
  }

  /**
   * Wakes the replication thread if it is waiting between looks at an idle connection, and keeps it
   * looking often for the next 10 s. Called by the engine when a client asks for a write
   * checkpoint; {@link #writeCheckpointHead} calls it too. Any thread; never blocks.
   */
  @Override
  public void changesExpected() {
    changesExpected.set(true);
    Thread t = streamingThread;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  /** For tests: whether the replication thread now waits between looks at an idle connection. */
  boolean idleWaiting() {
    Thread t = streamingThread;
    return t != null && LockSupport.getBlocker(t) == this;
  }

  @Override
  public SourcePosition writeCheckpointHead() {
    changesExpected();
    // Callers that arrive while a head is being read wait for the next read, which serves them all
    // at once: it
    // starts after each of their calls, so every change committed before a call is at or below the
    // head it gets.
    long ticket = headCalls.incrementAndGet();
    headLock.lock();
    try {
      if (headServed >= ticket && lastHead != null) {
        return lastHead;
      }
      long covering = headCalls.get();
      for (int attempt = 0; ; attempt++) {
        try {
          if (headConnection == null || headConnection.isClosed()) {
            headConnection = connect(false);
          }
          Lsn head;
          try (Statement s = headConnection.createStatement();
              ResultSet rs = s.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
            rs.next();
            head = Lsn.parse(rs.getString(1));
          }
          // A transactional message: its commit is flushed at once, so the stream passes the head
          // promptly even
          // when nothing else changes.
          try (Statement s = headConnection.createStatement()) {
            s.execute(
                "SELECT pg_logical_emit_message(true, '" + MESSAGE_PREFIX + "', 'checkpoint')");
          }
          lastHead = head;
          headServed = covering;
          return head;
        } catch (SQLException e) {
          closeQuietly(headConnection);
          headConnection = null;
          if (attempt >= 1) {
            throw new SynclineException(
                ErrorCode.SOURCE_UNAVAILABLE,
                "cannot read the Postgres WAL position: " + e.getMessage(),
                e);
          }
        }
      }
    } finally {
      headLock.unlock();
    }
  }

  @Override
  public void dropVersion(long versionId) {
    try (Connection c = connect(false)) {
      new PgCatalog(c).dropSlot(slotName(versionId));
    } catch (SQLException e) {
      throw new SynclineException(
          ErrorCode.SOURCE_UNAVAILABLE,
          "cannot drop replication slot " + slotName(versionId) + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * Closes the replication connection of the running {@link #run} at once (its walsender ends, so a
   * Postgres shutdown does not wait for this engine to confirm WAL it cannot store); the run then
   * fails. Any thread.
   */
  @Override
  public void abortRun() {
    Connection c = replicationConnection;
    if (c != null) {
      try {
        c.abort(
            Runnable
                ::run); // closes the socket; safe from another thread, never blocks on the server
      } catch (SQLException | RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "could not close the replication connection: " + e);
      }
    }
  }

  /**
   * Stops replication for good: a running {@link #run} returns soon, later calls return at once.
   */
  @Override
  public void close() {
    closed = true;
    headLock.lock();
    try {
      closeQuietly(headConnection);
      headConnection = null;
    } finally {
      headLock.unlock();
    }
  }

  private static void closeQuietly(@Nullable Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        // Nothing to do.
      }
    }
  }

  private Connection connect(boolean replication) throws SQLException {
    Properties p = new Properties();
    p.putAll(properties);
    PGProperty.BINARY_TRANSFER.set(p, false); // text values, exactly as pgoutput sends them
    PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "14");
    PGProperty.APPLICATION_NAME.set(p, replication ? "syncline-replication" : "syncline");
    if (replication) {
      PGProperty.REPLICATION.set(p, "database");
      PGProperty.PREFER_QUERY_MODE.set(p, "simple");
    }
    try {
      Connection c = new Driver().connect(jdbcUrl, p);
      if (c == null) {
        throw new SQLException("not a Postgres URL: " + jdbcUrl);
      }
      return c;
    } catch (SQLException e) {
      throw new SynclineException(
          ErrorCode.SOURCE_UNAVAILABLE,
          "cannot connect to Postgres at "
              + jdbcUrl.replaceAll("password=[^&]*", "password=***")
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * How long the replication thread waits between looks at an idle connection: doubling from 1 ms
   * up to {@code activeMillis} while the last message is recent (younger than {@code quietNanos})
   * or changes were announced in the last {@link #QUIET}, else {@code idleMillis}. Used by the
   * replication thread only.
   */
  static final class PollBackoff {
    private final long activeMillis;
    private final long idleMillis;
    private final long quietNanos;
    private long lastActivity;
    private long expectedUntil;
    private long next = 1;

    PollBackoff(long activeMillis, long idleMillis, long quietNanos, long now) {
      this.activeMillis = activeMillis;
      this.idleMillis = idleMillis;
      this.quietNanos = quietNanos;
      this.lastActivity = now;
      this.expectedUntil = now;
    }

    /** A message arrived: look often again. */
    void activity(long now) {
      lastActivity = now;
      next = 1;
    }

    /**
     * Changes were announced ({@link PostgresSource#changesExpected()}): look often for the next 10
     * s.
     */
    void expect(long now) {
      expectedUntil = now + QUIET.toNanos();
      next = 1;
    }

    /** How long to wait before the next look, at {@code now} ({@link System#nanoTime()}). */
    long nextSleepMillis(long now) {
      if (now - lastActivity >= quietNanos && now - expectedUntil >= 0) {
        return idleMillis;
      }
      long sleep = Math.min(next, activeMillis);
      next = Math.min(next * 2, activeMillis);
      return sleep;
    }
  }

  @Override
  public String toString() {
    return "PostgresSource["
        + jdbcUrl.replaceAll("password=[^&]*", "password=***").toLowerCase(Locale.ROOT)
        + "]";
  }
}
