package dev.syncline.core.storage;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.core.internal.storage.BucketAdoption;
import dev.syncline.core.internal.storage.CheckpointWatchers;
import dev.syncline.core.internal.storage.Compactor;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.CurrentRow;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.ParameterChange;
import dev.syncline.spi.storage.RulesVersion;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Bucket storage in memory: for tests, demos and as the reference of the compatibility kit. Nothing
 * survives the process.
 *
 * <p>Thread-safe. Each rules version has a read-write lock: a commit or a compaction holds it for
 * writing while it applies (so readers never see half a batch), reads hold it for reading.
 */
public final class InMemoryBucketStorage implements BucketStorage {
  private final Object versionsLock = new Object();
  private final Map<Long, Version> versions = new LinkedHashMap<>();
  private long nextVersionId = 1;
  private final Map<WriteCheckpointKey, WriteCheckpointState> writeCheckpoints = new HashMap<>();
  private final CheckpointWatchers watchers =
      new CheckpointWatchers(this::latestCheckpointIfPresent);

  /** Creates an empty storage. */
  public InMemoryBucketStorage() {}

  private record WriteCheckpointState(
      long id, String position, NavigableMap<String, Long> history) {}

  private static final class Version {
    final long id;
    final String content;
    RulesVersion.State state = RulesVersion.State.PROCESSING;
    final ReadWriteLock lock = new ReentrantReadWriteLock();
    final AtomicBoolean writerOpen = new AtomicBoolean();
    volatile @Nullable String replicator;
    final Map<String, TreeMap<Long, OpRecord>> buckets = new HashMap<>();
    final Map<SourceKey, CurrentRow> rows = new HashMap<>();

    /** lookup → source row → op id → rows stored (empty list: removed). */
    final Map<ParameterLookup, Map<SourceKey, TreeMap<Long, List<Map<String, SqliteValue>>>>>
        parameters = new HashMap<>();

    final Map<TableRef, Boolean> snapshotDone = new LinkedHashMap<>();
    final Map<TableRef, String> snapshotProgress = new LinkedHashMap<>();
    long lastOpId;
    @Nullable Checkpoint checkpoint;

    Version(long id, String content) {
      this.id = id;
      this.content = content;
    }
  }

  private Version version(long id) {
    synchronized (versionsLock) {
      Version v = versions.get(id);
      if (v == null) {
        throw new SynclineException(ErrorCode.NOT_FOUND, "no rules version " + id + " in storage");
      }
      return v;
    }
  }

  /** Yes: writers can adopt another version's buckets. */
  @Override
  public boolean supportsBucketAdoption() {
    return true;
  }

  @Override
  public RulesVersion addRulesVersion(String content) {
    synchronized (versionsLock) {
      Version v = new Version(nextVersionId++, content);
      versions.put(v.id, v);
      return new RulesVersion(v.id, content, v.state);
    }
  }

  @Override
  public List<RulesVersion> rulesVersions() {
    synchronized (versionsLock) {
      return versions.values().stream()
          .map(v -> new RulesVersion(v.id, v.content, v.state))
          .toList();
    }
  }

  @Override
  public void activate(long versionId) {
    synchronized (versionsLock) {
      Version target = version(versionId);
      for (Version v : versions.values()) {
        if (v.state == RulesVersion.State.ACTIVE && v != target) {
          v.state = RulesVersion.State.RETIRED;
        }
      }
      target.state = RulesVersion.State.ACTIVE;
    }
  }

  @Override
  public void drop(long versionId) {
    synchronized (versionsLock) {
      Version v = version(versionId);
      if (v.state == RulesVersion.State.ACTIVE) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT,
            "rules version "
                + versionId
                + " is active; activate another version before dropping it");
      }
      versions.remove(versionId);
    }
  }

  @Override
  public BucketStorageWriter openWriter(long versionId, String replicator) {
    Version v = version(versionId);
    if (!v.writerOpen.compareAndSet(false, true)) {
      throw new SynclineException(
          ErrorCode.REPLICATION_LOCKED,
          "rules version " + versionId + " is being replicated by " + v.replicator);
    }
    v.replicator = replicator;
    return new Writer(v);
  }

  @Override
  public Optional<String> replicator(long versionId) {
    return Optional.ofNullable(version(versionId).replicator);
  }

  private final class Writer implements BucketStorageWriter {
    private final Version v;
    private final AtomicBoolean closed = new AtomicBoolean();

    Writer(Version v) {
      this.v = v;
    }

    private void checkOpen() {
      if (closed.get()) {
        throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "writer is closed");
      }
    }

    @Override
    public long versionId() {
      return v.id;
    }

    @Override
    public Map<SourceKey, CurrentRow> currentRows(Collection<SourceKey> keys) {
      checkOpen();
      v.lock.readLock().lock();
      try {
        Map<SourceKey, CurrentRow> out = new HashMap<>();
        for (SourceKey k : keys) {
          CurrentRow r = v.rows.get(k);
          if (r != null) {
            out.put(k, r);
          }
        }
        return out;
      } finally {
        v.lock.readLock().unlock();
      }
    }

    @Override
    public void forEachRow(TableRef table, Consumer<CurrentRow> consumer) {
      checkOpen();
      List<CurrentRow> matching;
      v.lock.readLock().lock();
      try {
        matching = v.rows.values().stream().filter(r -> r.key().table().equals(table)).toList();
      } finally {
        v.lock.readLock().unlock();
      }
      matching.forEach(consumer);
    }

    @Override
    public Optional<Checkpoint> adoptBuckets(long fromVersion, Predicate<String> buckets) {
      checkOpen();
      Version from = version(fromVersion);
      Map<String, List<OpRecord>> adopted = new HashMap<>();
      long fromOp;
      from.lock.readLock().lock();
      try {
        if (from.checkpoint == null) {
          return Optional.empty();
        }
        fromOp = from.checkpoint.opId().value();
        from.buckets.forEach(
            (bucket, log) -> {
              if (buckets.test(bucket)) {
                adopted.put(bucket, List.copyOf(log.headMap(fromOp, true).values()));
              }
            });
      } finally {
        from.lock.readLock().unlock();
      }
      v.lock.writeLock().lock();
      try {
        if (v.checkpoint == null) {
          return Optional.empty();
        }
        long[] next = {Math.max(v.lastOpId, fromOp)};
        Set<String> names = new TreeSet<>(adopted.keySet());
        v.buckets.keySet().stream().filter(buckets).forEach(names::add);
        for (String bucket : names) {
          TreeMap<Long, OpRecord> mine = v.buckets.getOrDefault(bucket, new TreeMap<>());
          TreeMap<Long, OpRecord> log = new TreeMap<>();
          for (OpRecord op :
              BucketAdoption.merge(
                  adopted.getOrDefault(bucket, List.of()),
                  List.copyOf(mine.values()),
                  () -> ++next[0])) {
            log.put(op.opId().value(), op);
          }
          v.buckets.put(bucket, log);
        }
        v.lastOpId = next[0];
        v.checkpoint =
            new Checkpoint(
                new OpId(Math.max(next[0], v.checkpoint.opId().value())), v.checkpoint.position());
      } finally {
        v.lock.writeLock().unlock();
      }
      watchers.check(v.id);
      return Optional.ofNullable(v.checkpoint);
    }

    @Override
    public Optional<Checkpoint> commit(WriteBatch batch) {
      checkOpen();
      v.lock.writeLock().lock();
      try {
        long next = v.lastOpId;
        for (NewOp op : batch.ops()) {
          next++;
          OpRecord record =
              new OpRecord(
                  new OpId(next),
                  op.bucket(),
                  op.op(),
                  op.objectType(),
                  op.objectId(),
                  op.subkey(),
                  op.data(),
                  op.checksum(),
                  null);
          v.buckets.computeIfAbsent(op.bucket(), b -> new TreeMap<>()).put(next, record);
        }
        for (ParameterChange change : batch.parameterChanges()) {
          next++;
          v.parameters
              .computeIfAbsent(change.lookup(), l -> new HashMap<>())
              .computeIfAbsent(change.source(), s -> new TreeMap<>())
              .put(next, change.bucketParameters());
        }
        for (SourceKey k : batch.deletes()) {
          v.rows.remove(k);
        }
        for (CurrentRow r : batch.upserts()) {
          v.rows.put(r.key(), r);
        }
        v.lastOpId = next;
        if (batch.position() == null) {
          return Optional.empty();
        }
        long opId = Math.max(next, v.checkpoint == null ? 0 : v.checkpoint.opId().value());
        v.checkpoint = new Checkpoint(new OpId(opId), batch.position());
      } finally {
        v.lock.writeLock().unlock();
      }
      // Listeners run on this (the writer's) thread, after the lock is released.
      watchers.check(v.id);
      return Optional.ofNullable(v.checkpoint);
    }

    @Override
    public void setSnapshotDone(TableRef table, boolean done) {
      checkOpen();
      v.lock.writeLock().lock();
      try {
        v.snapshotDone.put(table, done);
        if (done) {
          v.snapshotProgress.remove(table);
        }
      } finally {
        v.lock.writeLock().unlock();
      }
    }

    @Override
    public void setSnapshotProgress(TableRef table, String cursor) {
      checkOpen();
      v.lock.writeLock().lock();
      try {
        v.snapshotProgress.put(table, cursor);
      } finally {
        v.lock.writeLock().unlock();
      }
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        v.writerOpen.set(false);
      }
    }
  }

  @Override
  public Optional<Checkpoint> latestCheckpoint(long versionId) {
    Version v = version(versionId);
    v.lock.readLock().lock();
    try {
      return Optional.ofNullable(v.checkpoint);
    } finally {
      v.lock.readLock().unlock();
    }
  }

  private Optional<Checkpoint> latestCheckpointIfPresent(long versionId) {
    synchronized (versionsLock) {
      if (!versions.containsKey(versionId)) {
        return Optional.empty();
      }
    }
    return latestCheckpoint(versionId);
  }

  @Override
  public AutoCloseable watchCheckpoints(long versionId, Consumer<Checkpoint> listener) {
    version(versionId);
    return watchers.add(versionId, listener);
  }

  @Override
  public Map<String, PartialChecksum> checksums(
      long versionId, Collection<String> buckets, @Nullable OpId after, OpId upTo) {
    Version v = version(versionId);
    v.lock.readLock().lock();
    try {
      Map<String, PartialChecksum> out = new LinkedHashMap<>();
      for (String b : buckets) {
        TreeMap<Long, OpRecord> ops = v.buckets.get(b);
        long sum = 0;
        long count = 0;
        boolean full = after == null;
        if (ops != null) {
          NavigableMap<Long, OpRecord> range =
              ops.subMap(after == null ? Long.MIN_VALUE : after.value(), false, upTo.value(), true);
          for (OpRecord op : range.values()) {
            if (op.op() == OpType.CLEAR) {
              sum = 0;
              count = 0;
              full = true;
            }
            sum = OpChecksums.add(sum, op.checksum());
            count++;
          }
        }
        out.put(b, new PartialChecksum(sum, count, full));
      }
      return out;
    } finally {
      v.lock.readLock().unlock();
    }
  }

  @Override
  public List<OpRecord> ops(long versionId, String bucket, OpId after, OpId upTo, int limit) {
    if (limit <= 0) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "limit must be positive, got " + limit);
    }
    Version v = version(versionId);
    v.lock.readLock().lock();
    try {
      TreeMap<Long, OpRecord> ops = v.buckets.get(bucket);
      if (ops == null) {
        return List.of();
      }
      List<OpRecord> out = new ArrayList<>(Math.min(limit, 256));
      for (OpRecord op : ops.subMap(after.value(), false, upTo.value(), true).values()) {
        if (out.size() >= limit) {
          break;
        }
        out.add(op);
      }
      return out;
    } finally {
      v.lock.readLock().unlock();
    }
  }

  @Override
  public Map<ParameterLookup, List<Map<String, SqliteValue>>> lookup(
      long versionId, OpId asOf, List<ParameterLookup> lookups) {
    Version v = version(versionId);
    v.lock.readLock().lock();
    try {
      Map<ParameterLookup, List<Map<String, SqliteValue>>> out = new LinkedHashMap<>();
      for (ParameterLookup l : lookups) {
        List<Map<String, SqliteValue>> rows = new ArrayList<>();
        Map<SourceKey, TreeMap<Long, List<Map<String, SqliteValue>>>> bySource =
            v.parameters.get(l);
        if (bySource != null) {
          // Insertion order of source rows: by the op id of their first entry.
          List<Map.Entry<SourceKey, TreeMap<Long, List<Map<String, SqliteValue>>>>> entries =
              new ArrayList<>(bySource.entrySet());
          entries.sort((a, b) -> Long.compare(a.getValue().firstKey(), b.getValue().firstKey()));
          for (var e : entries) {
            Map.Entry<Long, List<Map<String, SqliteValue>>> latest =
                e.getValue().floorEntry(asOf.value());
            if (latest != null) {
              rows.addAll(latest.getValue());
            }
          }
        }
        out.put(l, List.copyOf(rows));
      }
      return out;
    } finally {
      v.lock.readLock().unlock();
    }
  }

  @Override
  public SnapshotState snapshotState(long versionId) {
    Version v = version(versionId);
    v.lock.readLock().lock();
    try {
      List<TableRef> done =
          v.snapshotDone.entrySet().stream()
              .filter(Map.Entry::getValue)
              .map(Map.Entry::getKey)
              .toList();
      return new SnapshotState(done, v.snapshotProgress);
    } finally {
      v.lock.readLock().unlock();
    }
  }

  @Override
  public long createWriteCheckpoint(WriteCheckpointKey userKey, String position) {
    synchronized (writeCheckpoints) {
      WriteCheckpointState s = writeCheckpoints.get(userKey);
      long id = s == null ? 1 : nextWriteCheckpoint(s.id);
      NavigableMap<String, Long> history = s == null ? new TreeMap<>() : s.history;
      history.merge(position, id, Math::max);
      writeCheckpoints.put(userKey, new WriteCheckpointState(id, position, history));
      return id;
    }
  }

  @Override
  public long requestWriteCheckpoint(
      WriteCheckpointKey userKey, long requestedId, String position) {
    WriteCheckpointKey.checkRequestedId(requestedId);
    synchronized (writeCheckpoints) {
      WriteCheckpointState s = writeCheckpoints.get(userKey);
      if (s != null && s.id >= requestedId) {
        return s.id;
      }
      NavigableMap<String, Long> history = s == null ? new TreeMap<>() : s.history;
      history.merge(position, requestedId, Math::max);
      writeCheckpoints.put(userKey, new WriteCheckpointState(requestedId, position, history));
      return requestedId;
    }
  }

  @Override
  public Optional<Long> writeCheckpoint(WriteCheckpointKey userKey, Checkpoint checkpoint) {
    synchronized (writeCheckpoints) {
      WriteCheckpointState s = writeCheckpoints.get(userKey);
      if (s == null) {
        return Optional.empty();
      }
      Long best = null;
      for (Map.Entry<String, Long> e : s.history.headMap(checkpoint.position(), true).entrySet()) {
        if (best == null || e.getValue() > best) {
          best = e.getValue();
        }
      }
      return Optional.ofNullable(best);
    }
  }

  @Override
  public long pruneWriteCheckpoints(String position) {
    long removed = 0;
    synchronized (writeCheckpoints) {
      for (WriteCheckpointState s : writeCheckpoints.values()) {
        Long keep = null;
        for (Long id : s.history.headMap(position, true).values()) {
          keep = keep == null || id > keep ? id : keep;
        }
        if (keep != null) {
          long k = keep;
          int before = s.history.size();
          s.history.values().removeIf(id -> id < k);
          removed += before - s.history.size();
        }
      }
    }
    return removed;
  }

  /** The id after {@code id}; a typed error instead of an overflow. */
  static long nextWriteCheckpoint(long id) {
    if (id == Long.MAX_VALUE) {
      throw new SynclineException(
          ErrorCode.INVALID_REQUEST,
          "Invalid request: this client's write checkpoints " + "reached the largest id");
    }
    return id + 1;
  }

  @Override
  public void compact(long versionId, OpId upTo) {
    Version v = version(versionId);
    List<String> names;
    v.lock.readLock().lock();
    try {
      names = new ArrayList<>(v.buckets.keySet());
    } finally {
      v.lock.readLock().unlock();
    }
    for (String name : names) {
      // One bucket at a time, so streams are only held up briefly.
      v.lock.writeLock().lock();
      try {
        TreeMap<Long, OpRecord> ops = v.buckets.get(name);
        if (ops == null) {
          continue;
        }
        List<OpRecord> compacted = Compactor.compact(new ArrayList<>(ops.values()), upTo);
        ops.clear();
        for (OpRecord op : compacted) {
          ops.put(op.opId().value(), op);
        }
      } finally {
        v.lock.writeLock().unlock();
      }
    }
  }

  @Override
  public void close() {
    // Nothing to release.
  }
}
