package dev.syncline.core.internal.storage;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import javax.sql.DataSource;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;

/**
 * What {@code JdbcBucketStorage} does differently on each database it supports: Postgres
 * (production: advisory locks, {@code NOTIFY}, {@code COPY}, bytewise collations) and H2 (tests and
 * embedded use: row locks, polling, plain inserts). Everything else about storage is the same SQL
 * on both. Stateless and thread-safe.
 */
public abstract sealed class StorageDialect {
  /** Postgres for the Postgres family, H2's ways for anything else. */
  public static StorageDialect of(SQLDialect dialect) {
    return dialect.family() == SQLDialect.POSTGRES ? new Postgres(dialect) : new H2(dialect);
  }

  private final SQLDialect sql;

  private StorageDialect(SQLDialect sql) {
    this.sql = sql;
  }

  /** jOOQ's dialect, for rendering. */
  public final SQLDialect sql() {
    return sql;
  }

  /**
   * Makes text key columns compare bytewise: their order means nothing to anyone, and a linguistic
   * collation slows every index insert. Where the database has no collations, nothing.
   */
  public abstract void collateBytewise(
      DSLContext dsl, Table<?> table, List<? extends Field<String>> columns);

  /**
   * SQL: whether {@code expression} matches {@code regex} (no quantifier braces: jOOQ reads them).
   */
  public abstract String regexMatches(String expression, String regex);

  /** SQL: the character whose code is {@code expression}. */
  public abstract String chr(String expression);

  /** Whether many rows are written with {@code COPY} rather than multi-row inserts. */
  public abstract boolean copiesBulkRows();

  /**
   * Whether a large commit may be split in two transactions on two connections (ops first, current
   * rows after), which needs a database that lets them write at once.
   */
  public abstract boolean splitsLargeCommits();

  /** {@code column IN (keys)}, as one array parameter where the database takes one. */
  public abstract Condition in(Field<String> column, List<String> keys);

  /**
   * Lets the current transaction commit without waiting for its WAL flush: for writes that are
   * replayed from the source if lost (the position is acknowledged only after a durable commit).
   */
  public abstract void deferFlush(DSLContext dsl);

  /**
   * Takes the replication lock of a rules version on {@code connection}, which holds it until it is
   * unlocked or closed; {@code rowLock} locks the version's lock row in the connection's open
   * transaction, for databases without session locks.
   *
   * @return whether the lock was free
   */
  public abstract boolean tryLock(
      Connection connection, int namespace, long versionId, SqlWork rowLock) throws SQLException;

  /** Lets go of a lock {@link #tryLock} took on {@code connection}. */
  public abstract void unlock(Connection connection, int namespace, long versionId)
      throws SQLException;

  /**
   * Serializes transactions on one key (across instances) until the current transaction ends:
   * Postgres takes a transaction advisory lock on the key's hash; elsewhere {@code rowLock} locks
   * the key's rows.
   */
  public abstract void lockForTransaction(DSLContext dsl, int namespace, int key, Runnable rowLock);

  /** Tells other instances, at commit, that {@code versionId} has a new checkpoint. */
  public abstract void notifyCheckpoint(DSLContext dsl, String channel, long versionId);

  /**
   * Starts listening for checkpoint notifications on {@code connection}.
   *
   * @return the connection to read notifications from, or null where there are none (poll)
   */
  public abstract @Nullable PGConnection listen(Connection connection, String channel)
      throws SQLException;

  /** Wakes the threads waiting for notifications on {@code channel} (they ignore interrupts). */
  public abstract void wakeListeners(DataSource dataSource, String channel);

  /** Work on a connection. */
  @FunctionalInterface
  public interface SqlWork {
    /** Does it. */
    void run(Connection connection) throws SQLException;
  }

  private static final class Postgres extends StorageDialect {
    Postgres(SQLDialect sql) {
      super(sql);
    }

    @Override
    public void collateBytewise(
        DSLContext dsl, Table<?> table, List<? extends Field<String>> columns) {
      dsl.execute(
          "ALTER TABLE "
              + dsl.render(table)
              + " "
              + String.join(
                  ", ",
                  columns.stream()
                      .map(
                          c ->
                              "ALTER COLUMN "
                                  + dsl.render(c)
                                  + " TYPE varchar("
                                  + c.getDataType().length()
                                  + ") COLLATE \"C\"")
                      .toList()));
    }

    @Override
    public String regexMatches(String expression, String regex) {
      return expression + " ~ '" + regex + "'";
    }

    @Override
    public String chr(String expression) {
      return "chr(" + expression + ")";
    }

    @Override
    public boolean copiesBulkRows() {
      return true;
    }

    @Override
    public boolean splitsLargeCommits() {
      return true;
    }

    @Override
    public Condition in(Field<String> column, List<String> keys) {
      // One array parameter instead of one per key: the statement parses and plans the same for any
      // number of keys.
      return column.eq(DSL.any(keys.toArray(String[]::new)));
    }

    @Override
    public void deferFlush(DSLContext dsl) {
      dsl.execute("SET LOCAL synchronous_commit = off");
    }

    @Override
    public boolean tryLock(Connection connection, int namespace, long versionId, SqlWork rowLock) {
      // Session-level advisory lock in a namespace of our own; released when the connection ends.
      Boolean locked =
          DSL.using(connection, sql())
              .select(
                  DSL.field(
                      "pg_try_advisory_lock({0}, {1})",
                      Boolean.class, DSL.inline(namespace), DSL.inline((int) versionId)))
              .fetchOne(0, Boolean.class);
      return Boolean.TRUE.equals(locked);
    }

    @Override
    public void unlock(Connection connection, int namespace, long versionId) {
      DSL.using(connection, sql())
          .select(
              DSL.field(
                  "pg_advisory_unlock({0}, {1})",
                  Boolean.class, DSL.inline(namespace), DSL.inline((int) versionId)))
          .fetch();
    }

    @Override
    public void lockForTransaction(DSLContext dsl, int namespace, int key, Runnable rowLock) {
      dsl.select(
              DSL.field(
                  "pg_advisory_xact_lock({0}, {1})",
                  Object.class, DSL.inline(namespace), DSL.val(key)))
          .fetch();
    }

    @Override
    public void notifyCheckpoint(DSLContext dsl, String channel, long versionId) {
      dsl.select(
              DSL.field(
                  "pg_notify({0}, {1})",
                  Object.class, DSL.val(channel), DSL.val(Long.toString(versionId))))
          .fetch();
    }

    @Override
    public @Nullable PGConnection listen(Connection connection, String channel)
        throws SQLException {
      if (!connection.isWrapperFor(PGConnection.class)) {
        return null; // a pool's proxy that hides the driver's connection: poll
      }
      PGConnection pg = connection.unwrap(PGConnection.class);
      try (var s = connection.createStatement()) {
        s.execute("LISTEN \"" + channel + "\"");
      }
      return pg;
    }

    @Override
    public void wakeListeners(DataSource dataSource, String channel) {
      // Other instances' watchers wake too, and only read their checkpoints.
      try (Connection c = dataSource.getConnection();
          var st = c.createStatement()) {
        st.execute("NOTIFY \"" + channel + "\", 'closing'");
        if (!c.getAutoCommit()) {
          c.commit(); // notifications are sent at commit
        }
      } catch (SQLException | RuntimeException e) {
        // Unreachable: the listening thread ends at its next wake-up anyway.
      }
    }
  }

  private static final class H2 extends StorageDialect {
    H2(SQLDialect sql) {
      super(sql);
    }

    @Override
    public void collateBytewise(
        DSLContext dsl, Table<?> table, List<? extends Field<String>> columns) {
      // H2 compares strings by code unit already.
    }

    @Override
    public String regexMatches(String expression, String regex) {
      return "REGEXP_LIKE(" + expression + ", '" + regex + "')";
    }

    @Override
    public String chr(String expression) {
      return "CHAR(" + expression + ")";
    }

    @Override
    public boolean copiesBulkRows() {
      return false;
    }

    @Override
    public boolean splitsLargeCommits() {
      return false;
    }

    @Override
    public Condition in(Field<String> column, List<String> keys) {
      return column.in(keys);
    }

    @Override
    public void deferFlush(DSLContext dsl) {
      // Nothing to defer.
    }

    @Override
    public boolean tryLock(Connection connection, int namespace, long versionId, SqlWork rowLock)
        throws SQLException {
      // A row lock held by an open transaction; a second writer times out at once.
      connection.setAutoCommit(false);
      try (var s = connection.createStatement()) {
        s.execute("SET LOCK_TIMEOUT 50");
      }
      try {
        rowLock.run(connection);
        return true;
      } catch (DataAccessException held) {
        connection.rollback();
        return false;
      }
    }

    @Override
    public void unlock(Connection connection, int namespace, long versionId) throws SQLException {
      connection.rollback();
    }

    @Override
    public void lockForTransaction(DSLContext dsl, int namespace, int key, Runnable rowLock) {
      rowLock.run();
    }

    @Override
    public void notifyCheckpoint(DSLContext dsl, String channel, long versionId) {
      // Other instances poll.
    }

    @Override
    public @Nullable PGConnection listen(Connection connection, String channel) {
      return null;
    }

    @Override
    public void wakeListeners(DataSource dataSource, String channel) {
      // The watcher polls and notices the interrupt.
    }
  }
}
