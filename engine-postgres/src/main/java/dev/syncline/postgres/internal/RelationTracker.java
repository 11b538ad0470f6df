package dev.syncline.postgres.internal;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.postgres.internal.PgCatalog.TableInfo;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Keeps the shape of every relation the replication stream has described, and turns the stream's
 * tuples into rows.
 *
 * <p>pgoutput sends a {@code Relation} message before the first change of a table in a session and
 * again after the table changed. The tracker keeps the last one per relation id (tuples are decoded
 * with it) and, for the tables the rules read, a {@link TableInfo}: columns and types as the
 * message gives them, and the key columns the message flags, which name the replica identity <em>at
 * the time of the change</em>, whatever the catalog says by the time the stream is read. The
 * catalog ({@link Describer}) is asked only for what the message does not carry: how to size row
 * images, the order of a new key's columns (as the copy orders them), and the primary key of a
 * {@code REPLICA IDENTITY FULL} table (the message flags every column).
 *
 * <p>No I/O of its own; used by the replication thread only.
 */
public final class RelationTracker {
  /** What the catalog adds to a Relation message; {@link PgCatalog#describe} in production. */
  @FunctionalInterface
  public interface Describer {
    /**
     * Describes a table by relation id, or returns null (adding to {@code problems}) when it cannot
     * be replicated.
     */
    @Nullable TableInfo describe(int relationId, TableRef ref, char identity, List<String> problems)
        throws SQLException;
  }

  /** What a Relation message meant for the tables of the rules. */
  public sealed interface Outcome {
    /** Not a table of the rules, or nothing about it changed that the engine needs to know. */
    record Unchanged() implements Outcome {}

    /** A table of the rules the stream describes for the first time. */
    record Added(TableInfo table) implements Outcome {}

    /** A table of the rules changed shape: renamed, columns added or removed, identity changed. */
    record Changed(TableInfo before, TableInfo after, String description) implements Outcome {}

    /**
     * A table of the rules that cannot be replicated any more (no identity); its changes are left
     * out.
     */
    record Refused(TableRef ref, String problem) implements Outcome {}
  }

  /** The Relation messages received, saved by {@link #save()} and put back by {@link #restore}. */
  public static final class Saved {
    private final Map<Integer, PgOutputMessage.Relation> relations;

    private Saved(Map<Integer, PgOutputMessage.Relation> relations) {
      this.relations = relations;
    }
  }

  private static final Outcome UNCHANGED = new Outcome.Unchanged();

  private final List<TablePattern> patterns;
  private final PgValues values;
  private final Describer describer;
  private final Map<Integer, TableInfo> tables = new HashMap<>();
  private final Map<Integer, PgOutputMessage.Relation> relations = new HashMap<>();

  /**
   * @param patterns the tables the rules read
   * @param tables those found when replication started
   * @param values converts column texts by type
   * @param describer the catalog
   */
  public RelationTracker(
      List<TablePattern> patterns, List<TableInfo> tables, PgValues values, Describer describer) {
    this.patterns = List.copyOf(patterns);
    this.values = values;
    this.describer = describer;
    tables.forEach(this::add);
  }

  /** The table of a relation id, or null when the rules do not read it. */
  public @Nullable TableInfo table(int relationId) {
    return tables.get(relationId);
  }

  /** Whether a relation id is a table of the rules. */
  public boolean knows(int relationId) {
    return tables.containsKey(relationId);
  }

  /** The relation ids of the tables of the rules. */
  public Set<Integer> relationIds() {
    return Set.copyOf(tables.keySet());
  }

  /** A table of the rules found outside the stream (created after replication started). */
  public void add(TableInfo table) {
    tables.put(table.relationId(), table);
  }

  /** Forgets a table that was dropped; returns it, or null if it was not known. */
  public @Nullable TableInfo forget(int relationId) {
    return tables.remove(relationId);
  }

  /** The Relation messages received so far (a streamed transaction's own ones are undone later). */
  public Saved save() {
    return new Saved(new HashMap<>(relations));
  }

  /** Puts back the Relation messages of {@link #save()}. */
  public void restore(Saved saved) {
    relations.clear();
    relations.putAll(saved.relations);
  }

  /** Takes a Relation message: tuples of the relation are decoded with it from now on. */
  public Outcome relation(PgOutputMessage.Relation r) throws SQLException {
    relations.put(r.relationId(), r);
    TableInfo known = tables.get(r.relationId());
    TableRef ref = known != null ? known.ref() : ruleTable(r.namespace(), r.name());
    if (ref == null) {
      return UNCHANGED;
    }
    List<String> columns = r.columns().stream().map(PgOutputMessage.Column::name).toList();
    List<String> flagged =
        r.columns().stream()
            .filter(PgOutputMessage.Column::key)
            .map(PgOutputMessage.Column::name)
            .toList();
    boolean renamed = known != null && !known.ref().name().equals(r.name());
    if (known != null
        && !renamed
        && known.columns().equals(columns)
        && known.replicaIdentity() == r.replicaIdentity()
        && sameKey(r.replicaIdentity(), flagged, known.keyColumns())) {
      return UNCHANGED;
    }
    if (renamed) {
      ref = new TableRef(ref.connectionTag(), r.namespace(), r.name());
    }
    List<String> problems = new ArrayList<>();
    TableInfo described = describer.describe(r.relationId(), ref, r.replicaIdentity(), problems);
    if (described == null) {
      tables.remove(r.relationId());
      return new Outcome.Refused(ref, String.join("; ", problems));
    }
    List<String> key = keyOf(r.replicaIdentity(), flagged, described.keyColumns());
    if (key.isEmpty()) {
      tables.remove(r.relationId());
      return new Outcome.Refused(ref, PgCatalog.noKeyProblem(ref, r.replicaIdentity()));
    }
    // The columns and types as the stream sends them from now on.
    TableInfo info =
        new TableInfo(
            described.ref(),
            r.relationId(),
            columns,
            r.columns().stream().map(PgOutputMessage.Column::typeOid).toList(),
            key,
            r.replicaIdentity(),
            -1,
            described.images());
    tables.put(r.relationId(), info);
    return known == null
        ? new Outcome.Added(info)
        : new Outcome.Changed(known, info, describeChange(known, info));
  }

  /**
   * Converts a tuple of a relation. {@code u} (unchanged TOAST) columns are taken from {@code
   * fullOld} when it has them, else listed in {@code unchanged} for the engine to fill from the
   * stored row.
   *
   * @throws SynclineException {@code SOURCE_PROTOCOL} when no Relation message describes the tuple
   */
  public SourceRow row(
      int relationId,
      PgOutputMessage.TupleData tuple,
      @Nullable SourceRow fullOld,
      @Nullable Set<String> unchanged) {
    PgOutputMessage.Relation r = relations.get(relationId);
    if (r == null || r.columns().size() != tuple.size()) {
      throw new SynclineException(
          ErrorCode.SOURCE_PROTOCOL,
          "change of relation " + relationId + " without a matching Relation message");
    }
    Map<String, SourceValue> out = new LinkedHashMap<>(tuple.size() * 4 / 3 + 1);
    for (int i = 0; i < tuple.size(); i++) {
      PgOutputMessage.Column col = r.columns().get(i);
      switch (tuple.kinds()[i]) {
        case 'n' -> out.put(col.name(), SqliteValue.NULL);
        case 'u' -> {
          SourceValue old = fullOld == null ? null : fullOld.get(col.name());
          out.put(col.name(), old != null ? old : SqliteValue.NULL); // keeps the column's place
          if (old == null && unchanged != null) {
            unchanged.add(col.name());
          }
        }
        default ->
            out.put(
                col.name(),
                values.convert(
                    col.typeOid(), new String(tuple.values()[i], StandardCharsets.UTF_8)));
      }
    }
    return new SourceRow(out);
  }

  private @Nullable TableRef ruleTable(String namespace, String name) {
    for (TablePattern p : patterns) {
      TableRef candidate = new TableRef(p.connectionTag(), namespace, name);
      if (p.matches(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  /**
   * Whether the flagged columns still name {@code known}. FULL flags every column: its key is the
   * primary key the catalog named, which a change of the columns (compared separately) would show.
   */
  private static boolean sameKey(char identity, List<String> flagged, List<String> known) {
    return identity == 'f' || flagged.isEmpty() || new HashSet<>(flagged).equals(Set.copyOf(known));
  }

  /**
   * The key of a relation: for FULL the catalog's (its primary key, else every column); otherwise
   * the flagged columns, in the catalog's order when it names the same ones (so a restart, which
   * reads the catalog, keys rows alike), else in the table's order. A message that flags nothing
   * for a DEFAULT or INDEX identity (a table replayed from before its key existed) keeps the
   * catalog's key.
   */
  static List<String> keyOf(char identity, List<String> flagged, List<String> catalogKey) {
    if (identity == 'n') {
      return List.of();
    }
    if (identity == 'f' || flagged.isEmpty()) {
      return catalogKey;
    }
    if (new HashSet<>(flagged).equals(Set.copyOf(catalogKey))) {
      return catalogKey;
    }
    return flagged;
  }

  private static String describeChange(TableInfo before, TableInfo after) {
    List<String> parts = new ArrayList<>();
    if (!before.ref().equals(after.ref())) {
      parts.add("renamed from " + before.ref().name());
    }
    Set<String> added = new LinkedHashSet<>(after.columns());
    added.removeAll(before.columns());
    Set<String> removed = new LinkedHashSet<>(before.columns());
    removed.removeAll(after.columns());
    if (!added.isEmpty()) {
      parts.add("columns added: " + added);
    }
    if (!removed.isEmpty()) {
      parts.add("columns removed: " + removed);
    }
    if (!before.keyColumns().equals(after.keyColumns())) {
      parts.add(
          "identity changed from "
              + before.keyColumns()
              + " to "
              + after.keyColumns()
              + "; rows stored under the old identity stay until the rules are deployed again");
    }
    return parts.isEmpty()
        ? "relation re-sent"
        : String.join("; ", parts) + "; changes sync with the new shape from now on";
  }
}
