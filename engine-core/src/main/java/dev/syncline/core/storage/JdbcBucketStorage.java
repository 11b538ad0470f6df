package dev.syncline.core.storage;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.RulesVersion;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.jooq.SQLDialect;
import org.jspecify.annotations.Nullable;

/**
 * Bucket storage in a SQL database through JDBC, written with jOOQ: Postgres for production, H2 for
 * tests. It creates and migrates its own tables ({@code <prefix>rules}, {@code
 * <prefix>bucket_data}, ...) on {@link Builder#build()}.
 *
 * <p>Several engine instances may share one database: the writer of a rules version holds a lock
 * that dies with its connection (a Postgres advisory lock; on H2 a row lock held by an open
 * transaction). Every batch is written in one transaction (multi-row inserts; on Postgres, large
 * batches are streamed with {@code COPY}), so nothing of a failed batch is visible. A batch's ops
 * of one bucket are stored several to a row (packs, see {@code OpPacks}), which every read answers
 * exactly for any op-id range.
 *
 * <p>Its parts, each one job on the same tables ({@link JdbcStoragePart}): {@link JdbcSchema}
 * creates and migrates, {@link JdbcRulesVersions}, {@link JdbcReplicationLock}, {@link
 * JdbcOpLogWriter} (one per writer), {@link JdbcOpLogReader}, {@link JdbcCheckpointNotifier},
 * {@link JdbcWriteCheckpoints}, {@link JdbcCompactor}; this class configures them and answers
 * {@link BucketStorage} through them.
 *
 * <p>Thread-safe. Reads borrow a connection per call; a writer keeps one connection for its lock
 * and borrows another per commit. On Postgres, a large batch without a position (a chunk of an
 * initial copy, a part of a large transaction) is written on two borrowed connections at once, its
 * ops and its rows' state, the latter committed only after the former (see {@link
 * BucketStorageWriter#commit}). With watchers on Postgres, one more connection stays open for their
 * notifications.
 *
 * <pre>{@code
 * BucketStorage storage = JdbcBucketStorage.builder(dataSource).build();
 * }</pre>
 */
public final class JdbcBucketStorage implements BucketStorage {
  /** Schema version written by this code; older databases are migrated on start. */
  static final int SCHEMA_VERSION = 5;

  private final JdbcStoragePart tables;
  private final JdbcRulesVersions versions;
  private final JdbcReplicationLock lock;
  private final JdbcOpLogReader reader;
  private final JdbcCheckpointNotifier notifier;
  private final JdbcWriteCheckpoints writeCheckpoints;
  private final JdbcCompactor compactor;

  private JdbcBucketStorage(Builder b) {
    SQLDialect dialect = b.dialect != null ? b.dialect : detectDialect(b.dataSource);
    JdbcSchema schema = new JdbcSchema(b.dataSource, dialect, b.tablePrefix);
    this.tables = schema;
    this.versions = new JdbcRulesVersions(tables);
    this.lock = new JdbcReplicationLock(tables);
    this.reader = new JdbcOpLogReader(tables);
    this.notifier = new JdbcCheckpointNotifier(tables, reader, b.pollInterval);
    this.writeCheckpoints = new JdbcWriteCheckpoints(tables);
    this.compactor = new JdbcCompactor(tables, reader);
    schema.migrate();
  }

  /** Starts configuring a storage on a data source. */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** Configures a {@link JdbcBucketStorage}. Not thread-safe. */
  public static final class Builder {
    private final DataSource dataSource;
    private String tablePrefix = "syncline_";
    private @Nullable SQLDialect dialect;
    private Duration pollInterval = Duration.ofSeconds(1);

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Prefix of every table name; default {@code syncline_}. Letters, digits and underscores only.
     */
    public Builder tablePrefix(String tablePrefix) {
      if (!tablePrefix.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT,
            "table prefix must be letters, digits and " + "underscores, got '" + tablePrefix + "'");
      }
      this.tablePrefix = tablePrefix;
      return this;
    }

    /**
     * How often watchers check for new checkpoints committed by other instances when notifications
     * are not available (H2). On Postgres, notifications tell them at once; they also check every
     * 30 s (or this interval, if longer) in case one was lost. Default one second.
     */
    public Builder pollInterval(Duration pollInterval) {
      if (pollInterval.isNegative() || pollInterval.isZero()) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "poll interval must be positive, got " + pollInterval);
      }
      this.pollInterval = pollInterval;
      return this;
    }

    /** Creates the storage: connects, creates or migrates its tables. */
    public JdbcBucketStorage build() {
      return new JdbcBucketStorage(this);
    }
  }

  private static SQLDialect detectDialect(DataSource ds) {
    try (Connection c = ds.getConnection()) {
      String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
      if (product.contains("postgres")) {
        return SQLDialect.POSTGRES;
      } else if (product.contains("h2")) {
        return SQLDialect.H2;
      }
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT,
          "JdbcBucketStorage supports Postgres and H2, not "
              + c.getMetaData().getDatabaseProductName());
    } catch (SQLException e) {
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "cannot connect to the storage database: " + e.getMessage(), e);
    }
  }

  // ---- rules versions ----

  /** Yes: writers can adopt another version's buckets. */
  @Override
  public boolean supportsBucketAdoption() {
    return true;
  }

  @Override
  public RulesVersion addRulesVersion(String content) {
    return versions.addRulesVersion(content);
  }

  @Override
  public List<RulesVersion> rulesVersions() {
    return versions.rulesVersions();
  }

  @Override
  public void activate(long versionId) {
    versions.activate(versionId);
  }

  @Override
  public void drop(long versionId) {
    versions.drop(versionId);
  }

  // ---- writing ----

  @Override
  public Optional<String> replicator(long versionId) {
    return lock.replicator(versionId);
  }

  @Override
  public BucketStorageWriter openWriter(long versionId, String replicator) {
    JdbcReplicationLock.Held held = lock.acquire(versionId, replicator);
    return new JdbcOpLogWriter(tables, lock, reader, notifier.watchers, versionId, held);
  }

  @Override
  public void compact(long versionId, OpId upTo) {
    compactor.compact(versionId, upTo);
  }

  // ---- reading ----

  @Override
  public Optional<Checkpoint> latestCheckpoint(long versionId) {
    return reader.latestCheckpoint(versionId);
  }

  @Override
  public AutoCloseable watchCheckpoints(long versionId, Consumer<Checkpoint> listener) {
    return notifier.watchCheckpoints(versionId, listener);
  }

  @Override
  public Map<String, PartialChecksum> checksums(
      long versionId, Collection<String> buckets, @Nullable OpId after, OpId upTo) {
    return reader.checksums(versionId, buckets, after, upTo);
  }

  @Override
  public List<OpRecord> ops(long versionId, String bucket, OpId after, OpId upTo, int limit) {
    return reader.ops(versionId, bucket, after, upTo, limit);
  }

  @Override
  public Map<ParameterLookup, List<Map<String, SqliteValue>>> lookup(
      long versionId, OpId asOf, List<ParameterLookup> lookups) {
    return reader.lookup(versionId, asOf, lookups);
  }

  @Override
  public SnapshotState snapshotState(long versionId) {
    return reader.snapshotState(versionId);
  }

  // ---- write checkpoints ----

  @Override
  public long createWriteCheckpoint(WriteCheckpointKey key, String position) {
    return writeCheckpoints.createWriteCheckpoint(key, position);
  }

  @Override
  public long requestWriteCheckpoint(WriteCheckpointKey key, long requestedId, String position) {
    return writeCheckpoints.requestWriteCheckpoint(key, requestedId, position);
  }

  @Override
  public Optional<Long> writeCheckpoint(WriteCheckpointKey key, Checkpoint checkpoint) {
    return writeCheckpoints.writeCheckpoint(key, checkpoint);
  }

  @Override
  public Map<WriteCheckpointKey, Long> writeCheckpoints(
      Collection<WriteCheckpointKey> keys, Checkpoint checkpoint) {
    return writeCheckpoints.writeCheckpoints(keys, checkpoint);
  }

  @Override
  public long pruneWriteCheckpoints(String position) {
    return writeCheckpoints.pruneWriteCheckpoints(position);
  }

  /**
   * Stops the watcher thread; the data source belongs to the application, which closes it.
   * Idempotent.
   */
  @Override
  public void close() {
    notifier.close();
  }

  /** Sum of checksums as an unsigned 32-bit value (exposed for tests of the SQL sums). */
  static long checksumOf(List<OpRecord> ops) {
    long s = 0;
    for (OpRecord op : ops) {
      s = OpChecksums.add(s, op.checksum());
    }
    return s;
  }
}
