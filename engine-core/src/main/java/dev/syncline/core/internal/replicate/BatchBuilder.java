package dev.syncline.core.internal.replicate;

import dev.syncline.api.OpType;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.EvaluatedRow;
import dev.syncline.api.rules.EvaluationError;
import dev.syncline.api.rules.ParameterIndexEntry;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.core.internal.storage.OpChecksums;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.CurrentRow;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.ParameterChange;
import dev.syncline.spi.storage.Placement;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Accumulates source changes into one {@link WriteBatch}: for each row, the buckets it is in now (PUT, skipped
 * when its data there is unchanged), the buckets it left (REMOVE), and its parameter-index entries. Rows changed
 * several times in one batch see their own earlier changes. Used by the replication thread only; not thread-safe.
 */
public final class BatchBuilder {
  private final SyncRules rules;
  private final BucketStorageWriter writer;
  private final Consumer<EvaluationError> errors;
  private final java.util.function.BiPredicate<TableRef, SourceRow> keepImage;
  private final MessageDigest digest = sha256();
  private final List<NewOp> ops = new ArrayList<>();
  private final List<ParameterChange> parameterChanges = new ArrayList<>();
  /** Row state as of this batch: a present value is the new state, an absent one is deleted. */
  private Map<SourceKey, Optional<CurrentRow>> pending = new LinkedHashMap<>();
  /** Row states of the batches being committed elsewhere, oldest first (see {@link #takeBatch}). */
  private final java.util.ArrayDeque<Map<SourceKey, Optional<CurrentRow>>> inFlight = new java.util.ArrayDeque<>();
  /** Stored state read ahead by {@link #applyAll}; valid until the next commit. */
  private final Map<SourceKey, Optional<CurrentRow>> loaded = new java.util.HashMap<>();

  /**
   * @param errors receives rule evaluation errors (a row that fails a query is not put into that query's buckets)
   */
  public BatchBuilder(SyncRules rules, BucketStorageWriter writer, Consumer<EvaluationError> errors) {
    this(rules, writer, errors, (t, r) -> false);
  }

  /**
   * @param keepImage rows whose full image storage keeps, for sources that send unchanged large values only by
   *     reference (Postgres TOAST) and need the stored copy to fill them in
   */
  public BatchBuilder(SyncRules rules, BucketStorageWriter writer, Consumer<EvaluationError> errors,
      java.util.function.BiPredicate<TableRef, SourceRow> keepImage) {
    this.rules = rules;
    this.writer = writer;
    this.errors = errors;
    this.keepImage = keepImage;
  }

  /** The stored state of a row as of this batch (its image, placements and look-ups), or null. */
  public @Nullable CurrentRow currentRow(SourceKey key) {
    return current(key);
  }

  /** Number of operations accumulated so far. */
  public int size() {
    return ops.size() + parameterChanges.size();
  }

  /** Whether nothing was accumulated since the last commit. */
  public boolean isEmpty() {
    return ops.isEmpty() && parameterChanges.isEmpty() && pending.isEmpty();
  }

  /**
   * Adds one change. Columns the source marked {@link SourceChange#unchanged() unchanged} are taken from the row's
   * stored image; when there is none (a row the engine never stored, which only happens while a resumed snapshot
   * catches up), they become NULL until the row's next change.
   */
  public void apply(SourceChange incoming) {
    SourceChange change = !incoming.unchanged().isEmpty() && incoming.after() != null ? fillUnchanged(incoming)
        : incoming;
    switch (change.kind()) {
      case INSERT, UPDATE -> {
        SourceRow after = change.after();
        SourceKey key = key(change.table(), change.keyColumns(), after);
        if (change.before() != null) {
          SourceKey oldKey = key(change.table(), change.keyColumns(), change.before());
          if (!oldKey.equals(key)) {
            remove(oldKey);
          }
        }
        put(key, after);
      }
      case DELETE -> remove(key(change.table(), change.keyColumns(), change.before()));
      case TRUNCATE -> {
        Set<SourceKey> keys = new LinkedHashSet<>();
        writer.forEachRow(change.table(), r -> keys.add(r.key()));
        List<Map<SourceKey, Optional<CurrentRow>>> recents = new ArrayList<>(inFlight);
        recents.add(pending);
        for (Map<SourceKey, Optional<CurrentRow>> recent : recents) {
          recent.forEach((k, v) -> {
            if (k.table().equals(change.table()) && v.isPresent()) {
              keys.add(k);
            }
          });
        }
        keys.forEach(this::remove);
      }
    }
  }

  private SourceChange fillUnchanged(SourceChange change) {
    SourceRow after = change.after();
    SourceRow keyRow = change.before() != null ? change.before() : after;
    CurrentRow stored = current(key(change.table(), change.keyColumns(), keyRow));
    SourceRow image = stored == null ? null : stored.image();
    Map<String, SourceValue> filled = new LinkedHashMap<>(after.columns());
    for (String column : change.unchanged()) {
      SourceValue v = image == null ? null : image.get(column);
      filled.put(column, v == null ? SqliteValue.NULL : v);
    }
    return new SourceChange(change.table(), change.kind(), change.keyColumns(), change.before(),
        new SourceRow(filled));
  }

  /** Commits everything accumulated with {@code position}; returns the new checkpoint. */
  public Optional<Checkpoint> commit(@Nullable String position) {
    Optional<Checkpoint> checkpoint = writer.commit(takeBatch(position));
    committed();
    return checkpoint;
  }

  /**
   * Everything accumulated, as a batch for the caller to commit (possibly on another thread). Until
   * {@link #committed()} is called for it, the batch's row states stay visible to the changes added next, so they
   * build on it as if it were already in storage. Several batches may be outstanding; the caller commits them in the
   * order they were taken.
   */
  public WriteBatch takeBatch(@Nullable String position) {
    List<CurrentRow> upserts = new ArrayList<>();
    List<SourceKey> deletes = new ArrayList<>();
    Set<SourceKey> newRows = new java.util.HashSet<>();
    pending.forEach((k, v) -> {
      if (v.isPresent()) {
        upserts.add(v.get());
        // Read (or declared) absent from storage while this batch was built, and not in the batch before it.
        if (Optional.empty().equals(loaded.get(k))) {
          newRows.add(k);
        }
      } else {
        deletes.add(k);
      }
    });
    WriteBatch batch = new WriteBatch(ops, upserts, deletes, parameterChanges, position, newRows);
    ops.clear();
    parameterChanges.clear();
    inFlight.addLast(pending);
    pending = new LinkedHashMap<>();
    loaded.clear();
    return batch;
  }

  /** The oldest batch returned by {@link #takeBatch} and not yet reported is durable in storage. */
  public void committed() {
    if (inFlight.pollFirst() == null) {
      throw new IllegalStateException("no batch is outstanding");
    }
  }

  private @Nullable Optional<CurrentRow> inFlight(SourceKey key) {
    for (java.util.Iterator<Map<SourceKey, Optional<CurrentRow>>> it = inFlight.descendingIterator(); it.hasNext(); ) {
      Optional<CurrentRow> state = it.next().get(key);
      if (state != null) {
        return state;
      }
    }
    return null;
  }

  private @Nullable CurrentRow current(SourceKey key) {
    Optional<CurrentRow> p = pending.get(key);
    if (p != null) {
      return p.orElse(null);
    }
    Optional<CurrentRow> f = inFlight(key);
    if (f != null) {
      return f.orElse(null);
    }
    Optional<CurrentRow> l = loaded.get(key);
    if (l != null) {
      return l.orElse(null);
    }
    return writer.currentRows(List.of(key)).get(key);
  }

  /**
   * Adds several changes, reading the stored state of all their rows with one storage call first (instead of one
   * call per row).
   */
  public void applyAll(List<SourceChange> changes) {
    applyAll(changes, false);
  }

  /**
   * Like {@link #applyAll(List)}; with {@code storedRowsAbsent} the rows are known not to be in storage (a fresh
   * initial copy) and their stored state is not read.
   */
  public void applyAll(List<SourceChange> changes, boolean storedRowsAbsent) {
    applyAll(changes, storedRowsAbsent, false);
  }

  /**
   * Like {@link #applyAll(List, boolean)}; with {@code insertsAreNew} the rows of inserts are known not to be in
   * storage ({@link dev.syncline.spi.source.ChangeSink#expectNewInserts}) and only the other changes' rows are read.
   */
  public void applyAll(List<SourceChange> changes, boolean storedRowsAbsent, boolean insertsAreNew) {
    Set<SourceKey> keys = new LinkedHashSet<>();
    // A truncate removes the stored rows, which it must know to remove them from their buckets, re-inserted or not.
    boolean hint = insertsAreNew && changes.stream().noneMatch(c -> c.kind() == SourceChange.Kind.TRUNCATE);
    Set<SourceKey> inserted = hint ? new java.util.HashSet<>() : Set.of();
    for (SourceChange c : changes) {
      if (c.kind() == SourceChange.Kind.TRUNCATE) {
        continue;
      }
      if (c.after() != null) {
        SourceKey k = key(c.table(), c.keyColumns(), c.after());
        if (keys.add(k) && c.kind() == SourceChange.Kind.INSERT && hint) {
          inserted.add(k); // the row's first change here says it did not exist before
        }
      }
      if (c.before() != null) {
        keys.add(key(c.table(), c.keyColumns(), c.before()));
      }
    }
    keys.removeIf(k -> pending.containsKey(k) || loaded.containsKey(k) || inFlight(k) != null);
    if (!inserted.isEmpty()) {
      for (java.util.Iterator<SourceKey> it = keys.iterator(); it.hasNext(); ) {
        SourceKey k = it.next();
        if (inserted.contains(k)) {
          loaded.put(k, Optional.empty());
          it.remove();
        }
      }
    }
    if (!keys.isEmpty() && storedRowsAbsent) {
      keys.forEach(k -> loaded.put(k, Optional.empty()));
    } else if (!keys.isEmpty()) {
      Map<SourceKey, CurrentRow> found = writer.currentRows(keys);
      for (SourceKey k : keys) {
        loaded.put(k, Optional.ofNullable(found.get(k)));
      }
    }
    changes.forEach(this::apply);
  }

  private void put(SourceKey key, SourceRow row) {
    CurrentRow old = current(key);
    String subkey = subkeyOf(key);
    Map<String, Placement> before = old == null || old.placements().isEmpty() ? Map.of() : new LinkedHashMap<>();
    if (old != null) {
      old.placements().forEach(p -> before.put(placementKey(p.bucket(), p.table(), p.rowId()), p));
    }
    Map<String, Placement> now = new LinkedHashMap<>(4);
    List<EvaluatedRow> evaluated = new ArrayList<>();
    if (rules.syncsData(key.table())) {
      var evaluation = rules.evaluateRow(key.table(), row);
      evaluation.errors().forEach(errors);
      evaluated = evaluation.rows();
    }
    for (EvaluatedRow r : evaluated) {
      String pk = placementKey(r.bucket().name(), r.table(), r.id());
      if (now.containsKey(pk)) {
        continue;
      }
      long checksum = OpChecksums.put(r.table(), r.id(), r.data());
      now.put(pk, new Placement(r.bucket().name(), r.table(), r.id(), checksum));
      Placement previous = before.get(pk);
      if (previous == null || previous.checksum() != checksum) {
        ops.add(new NewOp(r.bucket().name(), OpType.PUT, r.table(), r.id(), subkey, r.data(), checksum));
      }
    }
    for (Map.Entry<String, Placement> e : before.entrySet()) {
      if (!now.containsKey(e.getKey())) {
        Placement p = e.getValue();
        ops.add(new NewOp(p.bucket(), OpType.REMOVE, p.table(), p.rowId(), subkey, null,
            OpChecksums.remove(subkey)));
      }
    }
    List<ParameterLookup> lookups = new ArrayList<>();
    if (rules.syncsParameters(key.table())) {
      var evaluation = rules.evaluateParameterRow(key.table(), row);
      evaluation.errors().forEach(errors);
      Map<ParameterLookup, List<Map<String, SqliteValue>>> grouped = new LinkedHashMap<>();
      for (ParameterIndexEntry e : evaluation.entries()) {
        grouped.computeIfAbsent(e.lookup(), l -> new ArrayList<>()).addAll(e.bucketParameters());
      }
      grouped.forEach((lookup, rows) -> parameterChanges.add(new ParameterChange(key, lookup, rows)));
      lookups.addAll(grouped.keySet());
    }
    if (old != null) {
      for (ParameterLookup l : old.lookups()) {
        if (!lookups.contains(l)) {
          parameterChanges.add(new ParameterChange(key, l, List.of()));
        }
      }
    }
    pending.put(key, Optional.of(new CurrentRow(key, keepImage.test(key.table(), row) ? row : null,
        List.copyOf(now.values()), lookups)));
  }

  private void remove(SourceKey key) {
    CurrentRow old = current(key);
    if (old == null) {
      pending.put(key, Optional.empty());
      return;
    }
    String subkey = subkeyOf(key);
    for (Placement p : old.placements()) {
      ops.add(new NewOp(p.bucket(), OpType.REMOVE, p.table(), p.rowId(), subkey, null, OpChecksums.remove(subkey)));
    }
    for (ParameterLookup l : old.lookups()) {
      parameterChanges.add(new ParameterChange(key, l, List.of()));
    }
    pending.put(key, Optional.empty());
  }

  private static String placementKey(String bucket, String table, String id) {
    return bucket.length() + ":" + bucket + table.length() + ":" + table + id;
  }

  /** The row's replica identity: its key column values as a JSON array. */
  static SourceKey key(TableRef table, List<String> keyColumns, SourceRow row) {
    StringBuilder sb = new StringBuilder().append('[');
    for (int i = 0; i < keyColumns.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      SourceValue v = row.get(keyColumns.get(i));
      if (v == null) {
        throw new IllegalArgumentException("row of " + table + " lacks key column " + keyColumns.get(i));
      }
      sb.append(keyText(v));
    }
    return new SourceKey(table, sb.append(']').toString());
  }

  private static String keyText(SourceValue v) {
    if (v instanceof SqliteValue.TextValue t) {
      return dev.syncline.api.WireFormat.quote(t.value());
    } else if (v instanceof SqliteValue.IntegerValue i) {
      return Long.toString(i.value());
    } else if (v instanceof SqliteValue.RealValue r) {
      return dev.syncline.api.WireFormat.formatReal(r.value());
    } else if (v instanceof SqliteValue.NullValue) {
      return "null";
    } else if (v instanceof SqliteValue.BlobValue b) {
      return "\"x'" + HexFormat.of().formatHex(b.value()) + "'\"";
    }
    return dev.syncline.api.WireFormat.quote(v.toString());
  }

  /**
   * The subkey of a source row in every bucket: a digest of its table and key, stable for the row's lifetime and
   * different for different rows (opaque to clients; PowerSync protocol §3.1).
   */
  static String subkey(SourceKey key) {
    return subkey(sha256(), key);
  }

  /** {@link #subkey(SourceKey)} with this builder's digest (looking one up per row showed in profiles). */
  private String subkeyOf(SourceKey key) {
    return subkey(digest, key);
  }

  private static String subkey(MessageDigest md, SourceKey key) {
    byte[] d = md.digest((key.table().schema() + "." + key.table().name() + "\u0000" + key.key())
        .getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(d, 0, 16);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
