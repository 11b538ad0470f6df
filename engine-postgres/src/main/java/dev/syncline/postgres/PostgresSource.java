package dev.syncline.postgres;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.postgres.internal.PgCatalog;
import dev.syncline.postgres.internal.PgCatalog.TableInfo;
import dev.syncline.postgres.internal.PgValues;
import dev.syncline.postgres.internal.RowImages;
import dev.syncline.spi.source.ChangeSink;
import dev.syncline.spi.source.SourceAdapter;
import dev.syncline.spi.source.SourceEvent;
import dev.syncline.spi.source.SourcePosition;
import dev.syncline.spi.source.SourceStart;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.postgresql.Driver;
import org.postgresql.PGProperty;

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

  static final long PG_EPOCH_MICROS = 946_684_800_000_000L;

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
  final String publication;
  final boolean managePublication;
  private final String slotPrefix;
  private final int snapshotChunkRows;
  final int flushEveryChanges;
  final Duration statusInterval;
  final InstantSource clock;
  final boolean streamLargeTransactions;
  final long spoolMemoryBytes;

  /** Large transactions received as protocol-2 streams and committed (for tests and metrics). */
  final AtomicLong streamedTransactions = new AtomicLong();

  volatile boolean closed;

  /**
   * How to size each table's rows for {@link #needsRowImage}; written and read by the replication
   * thread.
   */
  private final Map<TableRef, RowImages> rowImages = new ConcurrentHashMap<>();

  private volatile @Nullable Connection replicationConnection;
  final long idlePollMillis;
  final long quietNanos;

  /** Set by {@link #changesExpected()} (any thread), taken by the replication thread. */
  final AtomicBoolean changesExpected = new AtomicBoolean();

  /**
   * The thread reading the replication stream, while it does: woken by {@link #changesExpected()}.
   */
  volatile @Nullable Thread streamingThread;

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
  void describe(TableInfo t) {
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
        new ReplicationLoop(
                PostgresSource.this,
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

  static SynclineException slotLost(String slot, String why) {
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
  SnapshotCopier copier(PgValues values, ChangeSink sink) {
    return new SnapshotCopier(() -> connect(false), snapshotChunkRows, () -> closed, values, sink);
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

  Connection connect(boolean replication) throws SQLException {
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
