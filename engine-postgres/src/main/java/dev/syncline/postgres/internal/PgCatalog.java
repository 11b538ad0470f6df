package dev.syncline.postgres.internal;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Catalog queries on an ordinary (non-replication) connection: set-up checks, the tables the rules
 * read with their columns and identity, the publication, and user-defined types. One instance per
 * connection; not thread-safe except {@link #type(int)}, which is synchronized.
 */
public final class PgCatalog {
  private final Connection connection;
  private final Map<Integer, PgType> types = new ConcurrentHashMap<>();
  private int blockSize;
  private @Nullable String serverEncoding;

  public PgCatalog(Connection connection) {
    this.connection = connection;
  }

  /** The session settings under which values are converted (see {@link PgValues}). */
  public static void pinSessionSettings(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
              + "SET bytea_output = 'hex'; SET extra_float_digits = 3");
    }
  }

  /**
   * A table the rules read.
   *
   * @param relationId the table's oid (pgoutput's relation id)
   * @param columns column names in attribute order
   * @param typeOids column type oids, same order
   * @param keyColumns the columns that identify a row (primary key, or the replica identity index)
   * @param replicaIdentity {@code d}, {@code f}, {@code i} or {@code n}
   * @param images which of its rows storage must keep an image of (sized from the catalog's
   *     columns)
   */
  public record TableInfo(
      TableRef ref,
      int relationId,
      List<String> columns,
      List<Integer> typeOids,
      List<String> keyColumns,
      char replicaIdentity,
      long estimatedRows,
      RowImages images) {
    public TableInfo {
      columns = List.copyOf(columns);
      typeOids = List.copyOf(typeOids);
      keyColumns = List.copyOf(keyColumns);
    }
  }

  /** Checks {@code wal_level}, the server version and the role's right to replicate. */
  public int checkServer() throws SQLException {
    String walLevel = single("SHOW wal_level");
    if (!"logical".equals(walLevel)) {
      throw new SynclineException(
          ErrorCode.SOURCE_MISCONFIGURED,
          "wal_level is '"
              + walLevel
              + "'; logical "
              + "replication needs wal_level = logical (ALTER SYSTEM SET wal_level = logical; then restart Postgres; on "
              + "managed Postgres enable logical replication in the provider's settings)");
    }
    int version = Integer.parseInt(single("SHOW server_version_num"));
    if (version < 140000) {
      throw new SynclineException(
          ErrorCode.SOURCE_MISCONFIGURED,
          "PostgreSQL "
              + version / 10000
              + " is too old; "
              + "Syncline needs PostgreSQL 14 or newer (logical decoding messages)");
    }
    try (Statement s = connection.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT rolname, rolreplication OR rolsuper FROM pg_roles "
                    + "WHERE rolname = current_user")) {
      if (rs.next() && !rs.getBoolean(2)) {
        throw new SynclineException(
            ErrorCode.SOURCE_MISCONFIGURED,
            "role '"
                + rs.getString(1)
                + "' may not "
                + "replicate; run ALTER ROLE "
                + quoteIdent(rs.getString(1))
                + " WITH REPLICATION (managed Postgres: "
                + "grant the provider's replication role, e.g. rds_replication)");
      }
    }
    return version;
  }

  /** Checks that a new slot and a WAL sender are available. */
  public void checkCapacity(boolean needSlot) throws SQLException {
    int maxSlots = Integer.parseInt(single("SHOW max_replication_slots"));
    int usedSlots = Integer.parseInt(single("SELECT count(*) FROM pg_replication_slots"));
    if (needSlot && usedSlots >= maxSlots) {
      throw new SynclineException(
          ErrorCode.SOURCE_MISCONFIGURED,
          "all "
              + maxSlots
              + " replication slots are in "
              + "use; raise max_replication_slots (needs a restart) or drop unused slots (SELECT * FROM "
              + "pg_replication_slots)");
    }
    int maxSenders = Integer.parseInt(single("SHOW max_wal_senders"));
    int usedSenders = Integer.parseInt(single("SELECT count(*) FROM pg_stat_replication"));
    if (usedSenders >= maxSenders) {
      throw new SynclineException(
          ErrorCode.SOURCE_MISCONFIGURED,
          "all "
              + maxSenders
              + " WAL senders are in use; "
              + "raise max_wal_senders (needs a restart)");
    }
  }

  /**
   * The existing tables matched by the rules' patterns, with their identity; every one must have a
   * primary key or a usable replica identity.
   */
  public List<TableInfo> tables(List<TablePattern> patterns) throws SQLException {
    Map<Integer, TableInfo> out = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (TablePattern p : patterns) {
      // A schema wildcard ("%".todos) spans every user schema (not pg_catalog, pg_toast, ... or
      // information_schema), as the reference's does.
      String sql =
          "SELECT c.oid, n.nspname, c.relname, c.relreplident, c.reltuples::bigint FROM pg_class c "
              + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND "
              + (p.isSchemaWildcard()
                  ? "n.nspname LIKE ? ESCAPE '\\' AND n.nspname NOT LIKE 'pg\\_%' ESCAPE '\\'"
                      + " AND n.nspname <> 'information_schema'"
                  : "n.nspname = ?")
              + " AND "
              + (p.isWildcard() ? "c.relname LIKE ? ESCAPE '\\'" : "c.relname = ?")
              + " ORDER BY n.nspname, c.relname";
      try (PreparedStatement ps = connection.prepareStatement(sql)) {
        ps.setString(1, p.isSchemaWildcard() ? likePrefix(p.schema()) : p.schema());
        ps.setString(2, p.isWildcard() ? likePrefix(p.tablePattern()) : p.tablePattern());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            int oid = rs.getInt(1);
            if (!out.containsKey(oid)) {
              TableRef ref = new TableRef(p.connectionTag(), rs.getString(2), rs.getString(3));
              TableInfo info =
                  describe(oid, ref, rs.getString(4).charAt(0), rs.getLong(5), problems);
              if (info != null) {
                out.put(oid, info);
              }
            }
          }
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new SynclineException(ErrorCode.SOURCE_MISCONFIGURED, String.join("; ", problems));
    }
    return List.copyOf(out.values());
  }

  /**
   * Describes one table by oid, or returns null (adding to {@code problems}) when it cannot be
   * replicated.
   */
  public @Nullable TableInfo describe(
      int oid, TableRef ref, char identity, long estimate, List<String> problems)
      throws SQLException {
    List<String> columns = new ArrayList<>();
    List<Integer> typeOids = new ArrayList<>();
    Map<String, RowImages.Column> sizes = new LinkedHashMap<>();
    // Domains: the base type's length and category (attlen is the base type's; so is a domain's
    // category).
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT a.attname, a.atttypid, a.attlen, t.typcategory, "
                + "e.oid, e.typlen, e.typcategory FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                + "LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A' "
                + "WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")) {
      ps.setInt(1, oid);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          columns.add(rs.getString(1));
          typeOids.add(rs.getInt(2));
          String elementCategory = rs.getString(7);
          sizes.put(
              rs.getString(1),
              new RowImages.Column(
                  new RowImages.Type(rs.getInt(2), rs.getInt(3), rs.getString(4).charAt(0)),
                  elementCategory == null
                      ? null
                      : new RowImages.Type(rs.getInt(5), rs.getInt(6), elementCategory.charAt(0))));
        }
      }
    }
    int toastTupleTarget = 0;
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT option_value FROM pg_class c, "
                + "pg_options_to_table(c.reloptions) WHERE c.oid = ? AND option_name = 'toast_tuple_target'")) {
      ps.setInt(1, oid);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          toastTupleTarget = Integer.parseInt(rs.getString(1));
        }
      }
    }
    RowImages images =
        new RowImages(
            sizes,
            RowImages.toastLimit(blockSize(), toastTupleTarget),
            "UTF8".equals(serverEncoding()));
    List<String> primary = indexColumns(oid, "indisprimary");
    List<String> key;
    switch (identity) {
      case 'd' -> key = primary;
      case 'i' -> key = indexColumns(oid, "indisreplident");
      case 'f' -> key = primary.isEmpty() ? columns : primary;
      default -> key = List.of();
    }
    if (key.isEmpty()) {
      problems.add(noKeyProblem(ref, identity));
      return null;
    }
    return new TableInfo(ref, oid, columns, typeOids, key, identity, estimate, images);
  }

  /** Why a table without a row identity cannot be replicated, and what to do about it. */
  public static String noKeyProblem(TableRef ref, char identity) {
    return "table "
        + ref.schema()
        + "."
        + ref.name()
        + " has "
        + (identity == 'n' ? "REPLICA IDENTITY NOTHING" : "no primary key")
        + "; add a primary key, or ALTER TABLE "
        + quoteIdent(ref.schema())
        + "."
        + quoteIdent(ref.name())
        + " REPLICA IDENTITY USING INDEX <unique index> (or FULL)";
  }

  /** The database's encoding ({@code server_encoding}, e.g. {@code UTF8}). */
  private String serverEncoding() throws SQLException {
    if (serverEncoding == null) {
      serverEncoding = single("SHOW server_encoding");
    }
    return serverEncoding;
  }

  /** The server's page size ({@code block_size}, 8192 unless Postgres was compiled otherwise). */
  private int blockSize() throws SQLException {
    if (blockSize == 0) {
      blockSize = Integer.parseInt(single("SHOW block_size"));
    }
    return blockSize;
  }

  private List<String> indexColumns(int oid, String flag) throws SQLException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT a.attname FROM pg_index i "
                + "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
                + "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                + "WHERE i.indrelid = ? AND i."
                + flag
                + " ORDER BY k.ord")) {
      ps.setInt(1, oid);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  /**
   * Checks the publication, creating or extending it when {@code manage} allows: it must exist,
   * publish inserts, updates, deletes and truncates, and cover every table.
   */
  public void ensurePublication(String name, boolean manage, List<TableInfo> tables)
      throws SQLException {
    boolean exists;
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT puballtables, pubinsert AND pubupdate AND "
                + "pubdelete AND pubtruncate FROM pg_publication WHERE pubname = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        exists = rs.next();
        if (exists && !rs.getBoolean(2)) {
          throw new SynclineException(
              ErrorCode.PUBLICATION_INCOMPLETE,
              "publication '"
                  + name
                  + "' does not "
                  + "publish every change; ALTER PUBLICATION "
                  + quoteIdent(name)
                  + " SET (publish = 'insert, update, "
                  + "delete, truncate')");
        }
        if (exists && rs.getBoolean(1)) {
          return;
        }
      }
    }
    if (!exists) {
      if (!manage) {
        throw new SynclineException(
            ErrorCode.PUBLICATION_MISSING,
            "publication '"
                + name
                + "' does not exist; "
                + "run CREATE PUBLICATION "
                + quoteIdent(name)
                + " FOR TABLE "
                + tableList(tables)
                + " (or FOR ALL TABLES)");
      }
      try (Statement s = connection.createStatement()) {
        s.execute(
            "CREATE PUBLICATION "
                + quoteIdent(name)
                + (tables.isEmpty() ? "" : " FOR TABLE " + tableList(tables)));
      }
      return;
    }
    Set<String> covered = new LinkedHashSet<>();
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT schemaname, tablename FROM pg_publication_tables " + "WHERE pubname = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          covered.add(rs.getString(1) + "." + rs.getString(2));
        }
      }
    }
    List<TableInfo> missing =
        tables.stream()
            .filter(t -> !covered.contains(t.ref().schema() + "." + t.ref().name()))
            .toList();
    if (missing.isEmpty()) {
      return;
    }
    if (!manage) {
      throw new SynclineException(
          ErrorCode.PUBLICATION_INCOMPLETE,
          "publication '"
              + name
              + "' does not cover "
              + tableList(missing)
              + "; run ALTER PUBLICATION "
              + quoteIdent(name)
              + " ADD TABLE "
              + tableList(missing));
    }
    try (Statement s = connection.createStatement()) {
      s.execute("ALTER PUBLICATION " + quoteIdent(name) + " ADD TABLE " + tableList(missing));
    }
  }

  /**
   * The slot's state, or null when it does not exist.
   *
   * @param walStatus {@code reserved}, {@code extended}, {@code unreserved} or {@code lost}
   * @param safeWalSize bytes that may still be written before invalidation, or -1 without a limit
   * @param lagBytes WAL between the server's write position and the slot's confirmed position
   * @param retainedBytes WAL kept for the slot
   */
  public record SlotState(
      String walStatus, long safeWalSize, long lagBytes, long retainedBytes, boolean active) {}

  /** The state of a logical slot in this database, or null. */
  public @Nullable SlotState slot(String name) throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT coalesce(wal_status, 'lost'), "
                + "coalesce(safe_wal_size, -1), coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0), "
                + "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0), active FROM pg_replication_slots "
                + "WHERE slot_name = ? AND database = current_database()")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        return new SlotState(
            rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getBoolean(5));
      }
    }
  }

  /** Drops a slot if it exists, waiting up to 10 s for its last consumer to disconnect. */
  public void dropSlot(String name) throws SQLException {
    for (int i = 0; i < 100; i++) {
      SlotState s = slot(name);
      if (s == null) {
        return;
      }
      if (!s.active()) {
        try (PreparedStatement ps =
            connection.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
          ps.setString(1, name);
          ps.executeQuery().close();
          return;
        } catch (SQLException e) {
          if (!String.valueOf(e.getMessage()).contains("is active")) {
            throw e;
          }
        }
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SQLException("interrupted while waiting to drop slot " + name, e);
      }
    }
    throw new SQLException("replication slot " + name + " is still in use");
  }

  /** Which of these relation oids still exist. */
  public Set<Integer> existingRelations(Set<Integer> oids) throws SQLException {
    Set<Integer> out = new HashSet<>();
    if (oids.isEmpty()) {
      return out;
    }
    try (PreparedStatement ps =
        connection.prepareStatement("SELECT oid::int FROM pg_class WHERE oid = ANY (?)")) {
      ps.setArray(1, connection.createArrayOf("int4", oids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getInt(1));
        }
      }
    }
    return out;
  }

  /** A user-defined type from {@code pg_type}, cached. */
  public synchronized PgType type(int oid) {
    PgType known = types.get(oid);
    if (known != null) {
      return known;
    }
    PgType t = PgType.scalar(oid);
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT typcategory, typelem, typdelim FROM pg_type " + "WHERE oid = ?")) {
      ps.setInt(1, oid);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          t = new PgType(oid, rs.getString(1).charAt(0), rs.getInt(2), rs.getString(3).charAt(0));
        }
      }
    } catch (SQLException e) {
      throw new SynclineException(
          ErrorCode.SOURCE_UNAVAILABLE, "cannot read type " + oid + ": " + e.getMessage(), e);
    }
    types.put(oid, t);
    return t;
  }

  /** Forgets a cached type (a {@code Type} message announced it again, possibly changed). */
  public void forgetType(int oid) {
    types.remove(oid);
  }

  private String single(String sql) throws SQLException {
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static String likePrefix(String pattern) {
    String prefix = pattern.substring(0, pattern.length() - 1);
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
  }

  private static String tableList(List<TableInfo> tables) {
    return String.join(
        ", ",
        tables.stream()
            .map(t -> quoteIdent(t.ref().schema()) + "." + quoteIdent(t.ref().name()))
            .toList());
  }

  /** Quotes an identifier for SQL. */
  public static String quoteIdent(String ident) {
    return "\"" + ident.replace("\"", "\"\"") + "\"";
  }
}
