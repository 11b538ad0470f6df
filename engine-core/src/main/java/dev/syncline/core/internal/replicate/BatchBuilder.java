package dev.syncline.core.internal.replicate;

import dev.syncline.api.OpType;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.TableRef;
import dev.syncline.api.WireFormat;
import dev.syncline.api.rules.EvaluatedRow;
import dev.syncline.api.rules.EvaluationError;
import dev.syncline.api.rules.ParameterIndexEntry;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.CurrentRow;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.ParameterChange;
import dev.syncline.spi.storage.Placement;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Accumulates source changes into one {@link WriteBatch}: for each row, the buckets it is in now
 * (PUT, skipped when its data there is unchanged), the buckets it left (REMOVE), and its
 * parameter-index entries. Rows changed several times in one batch see their own earlier changes.
 * Used by the replication thread only; not thread-safe.
 */
public final class BatchBuilder {
  private final SyncRules rules;
  private final BucketStorageWriter writer;
  private final Consumer<EvaluationError> errors;
  private final BiPredicate<TableRef, SourceRow> keepImage;
  private final MessageDigest digest = sha256();
  private final List<NewOp> ops = new ArrayList<>();
  private final List<ParameterChange> parameterChanges = new ArrayList<>();

  /**
   * What the builder knows of rows: the rows changed by the batch being built and by the batches
   * taken and not yet committed (their newest state), and the rows whose stored state was read for
   * the batch being built. One map, so that a row costs one look-up however many batches are
   * outstanding.
   */
  private final Map<SourceKey, Known> known = new HashMap<>();

  /** Rows changed by the batch being built, in the order of their first change in it. */
  private List<Known> changed = new ArrayList<>();

  /**
   * Rows whose stored state was read (or declared absent) for the batch being built; forgotten when
   * it is taken.
   */
  private List<Known> read = new ArrayList<>();

  /** The rows of each batch taken and not yet committed, oldest first (see {@link #takeBatch}). */
  private final ArrayDeque<List<Known>> outstanding = new ArrayDeque<>();

  /** Sequence number of the batch being built (the first is 1; 0 marks rows only read). */
  private long building = 1;

  /** A row the builder knows: its state and which batch last changed it. */
  private static final class Known {
    final SourceKey key;

    /** The row's state: null when it is absent (deleted, or not stored). */
    @Nullable CurrentRow row;

    /**
     * The batch that last changed the row, or 0 if no batch the builder still holds did (its state
     * was read).
     */
    long batch;

    /**
     * Read (or declared) absent from storage for the batch being built, before it changed the row.
     */
    boolean readAbsent;

    /**
     * The row is new to storage in the batch that last changed it (the new-rows hint of {@link
     * WriteBatch}).
     */
    boolean newRow;

    Known(SourceKey key) {
      this.key = key;
    }
  }

  /**
   * @param errors receives rule evaluation errors (a row that fails a query is not put into that
   *     query's buckets)
   */
  public BatchBuilder(
      SyncRules rules, BucketStorageWriter writer, Consumer<EvaluationError> errors) {
    this(rules, writer, errors, (t, r) -> false);
  }

  /**
   * @param keepImage rows whose full image storage keeps, for sources that send unchanged large
   *     values only by reference (Postgres TOAST) and need the stored copy to fill them in
   */
  public BatchBuilder(
      SyncRules rules,
      BucketStorageWriter writer,
      Consumer<EvaluationError> errors,
      BiPredicate<TableRef, SourceRow> keepImage) {
    this.rules = rules;
    this.writer = writer;
    this.errors = errors;
    this.keepImage = keepImage;
  }

  private RowLimits limits = new RowLimits(Long.MAX_VALUE, Long.MAX_VALUE);
  private BiConsumer<SourceKey, String> refusals = (key, reason) -> {};

  /**
   * Rows larger than {@code limits} are not synced (taken out of their buckets and look-ups until a
   * change brings them within) and reported to {@code refusals} with the reason. By default there
   * is no limit.
   */
  public BatchBuilder rowLimits(RowLimits limits, BiConsumer<SourceKey, String> refusals) {
    this.limits = Objects.requireNonNull(limits);
    this.refusals = Objects.requireNonNull(refusals);
    return this;
  }

  /** The stored state of a row as of this batch (its image, placements and look-ups), or null. */
  public @Nullable CurrentRow currentRow(SourceKey key) {
    Known k = known.get(key);
    if (k != null) {
      return k.row;
    }
    return writer.currentRows(List.of(key)).get(key);
  }

  /** Number of operations accumulated so far. */
  public int size() {
    return ops.size() + parameterChanges.size();
  }

  /** Whether nothing was accumulated since the last commit. */
  public boolean isEmpty() {
    return ops.isEmpty() && parameterChanges.isEmpty() && changed.isEmpty();
  }

  /**
   * Adds one change. Columns the source marked {@link SourceChange#unchanged() unchanged} are taken
   * from the row's stored image; when there is none (a row the engine never stored, which only
   * happens while a resumed snapshot catches up), they become NULL until the row's next change.
   */
  public void apply(SourceChange incoming) {
    apply(incoming, null, null);
  }

  /**
   * {@link #apply(SourceChange)}, with the rows of the change's keys when the caller already looked
   * them up.
   */
  private void apply(SourceChange incoming, @Nullable Known afterRow, @Nullable Known beforeRow) {
    boolean incomplete = !incoming.unchanged().isEmpty() && incoming.after() != null;
    SourceChange change = incomplete ? fillUnchanged(incoming) : incoming;
    if (incomplete) {
      afterRow = null; // the key is taken from the completed row
    }
    switch (change.kind()) {
      case INSERT, UPDATE -> {
        SourceRow after =
            Objects.requireNonNull(change.after(), "SourceChange checks INSERT and UPDATE have it");
        Known now =
            afterRow != null ? afterRow : row(key(change.table(), change.keyColumns(), after));
        SourceRow before = change.before();
        if (before != null) {
          Known old =
              beforeRow != null ? beforeRow : row(key(change.table(), change.keyColumns(), before));
          if (!old.key.equals(now.key)) {
            remove(old);
          }
        }
        put(now, after);
      }
      case DELETE ->
          remove(
              beforeRow != null
                  ? beforeRow
                  : row(
                      key(
                          change.table(),
                          change.keyColumns(),
                          Objects.requireNonNull(
                              change.before(), "SourceChange checks DELETE has it"))));
      case TRUNCATE -> {
        Set<SourceKey> keys = new LinkedHashSet<>();
        writer.forEachRow(change.table(), r -> keys.add(r.key()));
        // Rows of batches not yet committed, and of this one, are not in storage yet.
        known
            .values()
            .forEach(
                k -> {
                  if (k.batch != 0 && k.row != null && k.key.table().equals(change.table())) {
                    keys.add(k.key);
                  }
                });
        keys.forEach(k -> remove(row(k)));
      }
    }
  }

  private SourceChange fillUnchanged(SourceChange change) {
    SourceRow after =
        Objects.requireNonNull(
            change.after(), "only changes with a new row have unchanged columns");
    SourceRow keyRow = change.before() != null ? change.before() : after;
    CurrentRow stored = row(key(change.table(), change.keyColumns(), keyRow)).row;
    SourceRow image = stored == null ? null : stored.image();
    Map<String, SourceValue> filled = new LinkedHashMap<>(after.columns());
    for (String column : change.unchanged()) {
      SourceValue v = image == null ? null : image.get(column);
      filled.put(column, v == null ? SqliteValue.NULL : v);
    }
    return new SourceChange(
        change.table(), change.kind(), change.keyColumns(), change.before(), new SourceRow(filled));
  }

  /** Commits everything accumulated with {@code position}; returns the new checkpoint. */
  public Optional<Checkpoint> commit(@Nullable String position) {
    Optional<Checkpoint> checkpoint = writer.commit(takeBatch(position));
    committed();
    return checkpoint;
  }

  /**
   * Everything accumulated, as a batch for the caller to commit (possibly on another thread). Until
   * {@link #committed()} is called for it, the batch's row states stay visible to the changes added
   * next, so they build on it as if it were already in storage. Several batches may be outstanding;
   * the caller commits them in the order they were taken.
   */
  public WriteBatch takeBatch(@Nullable String position) {
    List<CurrentRow> upserts = new ArrayList<>(changed.size());
    List<SourceKey> deletes = new ArrayList<>();
    List<SourceKey> newRows = new ArrayList<>();
    for (Known k : changed) {
      if (k.row != null) {
        upserts.add(k.row);
        if (k.newRow) {
          newRows.add(k.key);
        }
      } else {
        deletes.add(k.key);
      }
    }
    // An immutable set (the keys are distinct): the batch keeps it instead of copying it into one.
    WriteBatch batch =
        new WriteBatch(
            ops,
            upserts,
            deletes,
            parameterChanges,
            position,
            Set.of(newRows.toArray(SourceKey[]::new)));
    ops.clear();
    parameterChanges.clear();
    for (Known k : read) {
      if (k.batch == 0) {
        known.remove(k.key, k); // read for this batch only: storage may change once it is committed
      }
    }
    read = new ArrayList<>();
    outstanding.addLast(changed);
    changed = new ArrayList<>();
    building++;
    return batch;
  }

  /** The oldest batch returned by {@link #takeBatch} and not yet reported is durable in storage. */
  public void committed() {
    List<Known> rows = outstanding.pollFirst();
    if (rows == null) {
      throw new IllegalStateException("no batch is outstanding");
    }
    long batch = building - outstanding.size() - 1;
    for (Known k : rows) {
      if (k.batch == batch) {
        known.remove(k.key, k); // storage holds its newest state now
      }
    }
  }

  /** What the builder knows of a row, its stored state read now if nothing yet. */
  private Known row(SourceKey key) {
    Known k = known.get(key);
    if (k == null) {
      k = new Known(key);
      k.row = writer.currentRows(List.of(key)).get(key);
      k.readAbsent = k.row == null;
      known.put(key, k);
      read.add(k);
    }
    return k;
  }

  /** Records the row's new state as a change of the batch being built. */
  private void change(Known k, @Nullable CurrentRow row) {
    if (k.batch != building) {
      k.newRow =
          k.batch == 0
              && k.readAbsent; // read absent for this batch, and no batch before it changed the row
      k.batch = building;
      changed.add(k);
    }
    k.row = row;
  }

  /**
   * Adds several changes, reading the stored state of all their rows with one storage call first
   * (instead of one call per row).
   */
  public void applyAll(List<SourceChange> changes) {
    applyAll(changes, false);
  }

  /**
   * Like {@link #applyAll(List)}; with {@code storedRowsAbsent} the rows are known not to be in
   * storage (a fresh initial copy) and their stored state is not read.
   */
  public void applyAll(List<SourceChange> changes, boolean storedRowsAbsent) {
    applyAll(changes, storedRowsAbsent, false);
  }

  /**
   * Like {@link #applyAll(List, boolean)}; with {@code insertsAreNew} the rows of inserts are known
   * not to be in storage ({@link dev.syncline.spi.source.ChangeSink#expectNewInserts}) and only the
   * other changes' rows are read.
   */
  public void applyAll(
      List<SourceChange> changes, boolean storedRowsAbsent, boolean insertsAreNew) {
    // A truncate removes the stored rows, which it must know to remove them from their buckets,
    // re-inserted or not.
    boolean hint =
        insertsAreNew && changes.stream().noneMatch(c -> c.kind() == SourceChange.Kind.TRUNCATE);
    int n = changes.size();
    Known[] afterRows = new Known[n];
    Known[] beforeRows = new Known[n];
    List<Known> toRead = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        SourceChange c = changes.get(i);
        if (c.kind() == SourceChange.Kind.TRUNCATE) {
          continue;
        }
        if (c.after() != null) {
          // An insert that is a row's first change here says it did not exist before.
          afterRows[i] =
              learn(
                  key(c.table(), c.keyColumns(), c.after()),
                  storedRowsAbsent || (hint && c.kind() == SourceChange.Kind.INSERT),
                  toRead);
        }
        if (c.before() != null) {
          beforeRows[i] =
              learn(key(c.table(), c.keyColumns(), c.before()), storedRowsAbsent, toRead);
        }
      }
      if (!toRead.isEmpty()) {
        Map<SourceKey, CurrentRow> found =
            writer.currentRows(toRead.stream().map(k -> k.key).toList());
        for (Known k : toRead) {
          k.row = found.get(k.key);
          k.readAbsent = k.row == null;
        }
      }
    } catch (RuntimeException e) {
      toRead.forEach(k -> known.remove(k.key, k)); // not read after all
      throw e;
    }
    for (int i = 0; i < n; i++) {
      apply(changes.get(i), afterRows[i], beforeRows[i]);
    }
  }

  /**
   * The row of a key about to be changed: as known, or else declared absent from storage or queued
   * in {@code toRead}.
   */
  private Known learn(SourceKey key, boolean absent, List<Known> toRead) {
    Known fresh = new Known(key);
    Known k = known.putIfAbsent(key, fresh);
    if (k != null) {
      return k;
    }
    fresh.readAbsent = true;
    read.add(fresh);
    if (!absent) {
      toRead.add(fresh);
    }
    return fresh;
  }

  private void put(Known k, SourceRow row) {
    SourceKey key = k.key;
    CurrentRow old = k.row;
    String subkey = subkeyOf(key);
    List<Placement> before = old == null ? List.of() : old.placements();
    List<EvaluatedRow> evaluated = List.of();
    String tooLarge = limits.check(row);
    if (tooLarge != null) {
      refusals.accept(key, tooLarge);
    } else if (rules.syncsData(key.table())) {
      var evaluation = rules.evaluateRow(key.table(), row);
      evaluation.errors().forEach(errors);
      evaluated = evaluation.rows();
    }
    Placements now = new Placements(evaluated.size());
    Placements was = new Placements(before);
    for (EvaluatedRow r : evaluated) {
      if (now.find(r.bucket().name(), r.table(), r.id()) != null) {
        continue;
      }
      long checksum = OpChecksums.put(digest, r.table(), r.id(), r.data());
      now.add(new Placement(r.bucket().name(), r.table(), r.id(), checksum));
      Placement previous = was.find(r.bucket().name(), r.table(), r.id());
      if (previous == null || previous.checksum() != checksum) {
        ops.add(
            new NewOp(
                r.bucket().name(), OpType.PUT, r.table(), r.id(), subkey, r.data(), checksum));
      }
    }
    for (Placement p : before) {
      if (now.find(p.bucket(), p.table(), p.rowId()) == null) {
        ops.add(
            new NewOp(
                p.bucket(),
                OpType.REMOVE,
                p.table(),
                p.rowId(),
                subkey,
                null,
                OpChecksums.remove(subkey)));
      }
    }
    List<ParameterLookup> lookups = new ArrayList<>();
    if (tooLarge == null && rules.syncsParameters(key.table())) {
      var evaluation = rules.evaluateParameterRow(key.table(), row);
      evaluation.errors().forEach(errors);
      Map<ParameterLookup, List<Map<String, SqliteValue>>> grouped = new LinkedHashMap<>();
      for (ParameterIndexEntry e : evaluation.entries()) {
        grouped.computeIfAbsent(e.lookup(), l -> new ArrayList<>()).addAll(e.bucketParameters());
      }
      grouped.forEach(
          (lookup, rows) -> parameterChanges.add(new ParameterChange(key, lookup, rows)));
      lookups.addAll(grouped.keySet());
    }
    if (old != null) {
      for (ParameterLookup l : old.lookups()) {
        if (!lookups.contains(l)) {
          parameterChanges.add(new ParameterChange(key, l, List.of()));
        }
      }
    }
    change(
        k, new CurrentRow(key, keepImage.test(key.table(), row) ? row : null, now.list, lookups));
  }

  /**
   * Placements found by bucket, table and row id: by a scan while few (a row is in few buckets, and
   * this runs for every row), through a map beyond that.
   */
  private static final class Placements {
    private static final int SCAN_LIMIT = 8;
    final List<Placement> list;
    private @Nullable Map<String, Placement> index;

    Placements(int expected) {
      this.list = new ArrayList<>(expected);
    }

    Placements(List<Placement> existing) {
      this.list = existing;
      if (existing.size() > SCAN_LIMIT) {
        index = new HashMap<>();
        existing.forEach(p -> index.putIfAbsent(placementKey(p.bucket(), p.table(), p.rowId()), p));
      }
    }

    void add(Placement p) {
      list.add(p);
      if (index != null) {
        index.put(placementKey(p.bucket(), p.table(), p.rowId()), p);
      } else if (list.size() > SCAN_LIMIT) {
        index = new HashMap<>();
        list.forEach(q -> index.put(placementKey(q.bucket(), q.table(), q.rowId()), q));
      }
    }

    @Nullable Placement find(String bucket, String table, String rowId) {
      if (index != null) {
        return index.get(placementKey(bucket, table, rowId));
      }
      for (Placement p : list) {
        if (p.rowId().equals(rowId) && p.bucket().equals(bucket) && p.table().equals(table)) {
          return p;
        }
      }
      return null;
    }
  }

  private void remove(Known k) {
    SourceKey key = k.key;
    CurrentRow old = k.row;
    if (old == null) {
      change(k, null);
      return;
    }
    String subkey = subkeyOf(key);
    for (Placement p : old.placements()) {
      ops.add(
          new NewOp(
              p.bucket(),
              OpType.REMOVE,
              p.table(),
              p.rowId(),
              subkey,
              null,
              OpChecksums.remove(subkey)));
    }
    for (ParameterLookup l : old.lookups()) {
      parameterChanges.add(new ParameterChange(key, l, List.of()));
    }
    change(k, null);
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
        throw new IllegalArgumentException(
            "row of " + table + " lacks key column " + keyColumns.get(i));
      }
      sb.append(keyText(v));
    }
    return new SourceKey(table, sb.append(']').toString());
  }

  private static String keyText(SourceValue v) {
    if (v instanceof SqliteValue.TextValue t) {
      return WireFormat.quote(t.value());
    } else if (v instanceof SqliteValue.IntegerValue i) {
      return Long.toString(i.value());
    } else if (v instanceof SqliteValue.RealValue r) {
      return WireFormat.formatReal(r.value());
    } else if (v instanceof SqliteValue.NullValue) {
      return "null";
    } else if (v instanceof SqliteValue.BlobValue b) {
      return "\"x'" + HexFormat.of().formatHex(b.value()) + "'\"";
    }
    return WireFormat.quote(v.toString());
  }

  /**
   * The subkey of a source row in every bucket: a digest of its table and key, stable for the row's
   * lifetime and different for different rows (opaque to clients; PowerSync protocol §3.1).
   */
  static String subkey(SourceKey key) {
    return subkey(sha256(), key);
  }

  /**
   * {@link #subkey(SourceKey)} with this builder's digest (looking one up per row showed in
   * profiles).
   */
  private String subkeyOf(SourceKey key) {
    return subkey(digest, key);
  }

  private static String subkey(MessageDigest md, SourceKey key) {
    byte[] d =
        md.digest(
            (key.table().schema() + "." + key.table().name() + "\u0000" + key.key())
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
