package dev.syncline.core.internal.stream;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SynclineException;
import dev.syncline.api.rules.DefinitionInfo;
import dev.syncline.api.rules.InclusionReason;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.RequestQuerier;
import dev.syncline.api.rules.ResolvedBucket;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.stream.SyncLine;
import dev.syncline.api.stream.SyncRequest;
import dev.syncline.core.internal.storage.ChecksumCache;
import dev.syncline.spi.storage.BucketChecksum;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * What one connection is sent (PowerSync protocol §2.3): for each new checkpoint, a full {@code
 * checkpoint} line first and {@code checkpoint_diff}s after, then the data of the buckets that need
 * it, by priority, each group closed by {@code partial_checkpoint_complete} and the whole by {@code
 * checkpoint_complete}.
 *
 * <p>Pure state machine over storage reads: no threads, no I/O of its own. Not thread-safe: one
 * connection, one caller at a time.
 */
public final class SyncSession {
  /** Reference limits (§5.5). */
  public static final int DEFAULT_MAX_BUCKETS = 1000;

  /** Reference limit on parameter-query result rows per evaluation (§5.5). */
  public static final int DEFAULT_MAX_PARAMETER_RESULTS = 1000;

  static final int OPS_PER_CHUNK = 1000;

  /**
   * Ops sent for one checkpoint before a newer checkpoint may interrupt the data phase (§2.3.1 step
   * 6).
   */
  static final int INTERRUPT_AFTER_OPS = 1000;

  private final BucketStorage storage;
  private final long versionId;
  private final ChecksumCache checksums;
  private final RequestQuerier querier;

  /**
   * Whose write checkpoints this stream reports; null for a request without a user (tests of the
   * rules).
   */
  private final @Nullable WriteCheckpointKey writeCheckpointKey;

  private final List<SyncLine.StreamDescription> streams = new ArrayList<>();
  private final Map<String, Integer> streamIndex = new HashMap<>();

  /** Per bucket: the op id the client has data up to. */
  private final Map<String, OpId> positions = new HashMap<>();

  /** Buckets whose data is not complete up to the last checkpoint sent. */
  private final Set<String> pending = new LinkedHashSet<>();

  /** The bucket states of the last checkpoint sent; empty before the first. */
  private Map<String, SyncLine.BucketState> lastSent = Map.of();

  private @Nullable String lastWriteCheckpoint;
  private boolean sentFull;
  private final int maxBuckets;
  private final int maxParameterResults;
  private final Reads pages;

  /**
   * The storage reads a session makes per checkpoint; the service may answer them from what it read
   * once for all its streams.
   */
  public interface Reads {
    /**
     * Ops of {@code bucket} with {@code after < opId <= upTo}, ascending, at most {@code limit}.
     */
    List<OpRecord> ops(String bucket, OpId after, OpId upTo, int limit);

    /** The user's newest write checkpoint covered by {@code checkpoint}. */
    Optional<Long> writeCheckpoint(WriteCheckpointKey key, Checkpoint checkpoint);

    /** Reads straight from storage. */
    static Reads direct(BucketStorage storage, long versionId) {
      return new Reads() {
        @Override
        public List<OpRecord> ops(String bucket, OpId after, OpId upTo, int limit) {
          return storage.ops(versionId, bucket, after, upTo, limit);
        }

        @Override
        public Optional<Long> writeCheckpoint(WriteCheckpointKey key, Checkpoint checkpoint) {
          return storage.writeCheckpoint(key, checkpoint);
        }
      };
    }
  }

  public SyncSession(
      SyncRules rules,
      BucketStorage storage,
      long versionId,
      ChecksumCache checksums,
      SyncRequest request) {
    this(
        rules,
        storage,
        versionId,
        checksums,
        request,
        DEFAULT_MAX_BUCKETS,
        DEFAULT_MAX_PARAMETER_RESULTS);
  }

  /**
   * A session with limits on the buckets one connection may receive and on the parameter-query
   * result rows one evaluation of its bucket list may read.
   */
  public SyncSession(
      SyncRules rules,
      BucketStorage storage,
      long versionId,
      ChecksumCache checksums,
      SyncRequest request,
      int maxBuckets,
      int maxParameterResults) {
    this(
        rules,
        storage,
        versionId,
        checksums,
        request,
        maxBuckets,
        maxParameterResults,
        Reads.direct(storage, versionId));
  }

  /** A session making its per-checkpoint reads through {@code pages}. */
  public SyncSession(
      SyncRules rules,
      BucketStorage storage,
      long versionId,
      ChecksumCache checksums,
      SyncRequest request,
      int maxBuckets,
      int maxParameterResults,
      Reads pages) {
    this.pages = pages;
    this.maxBuckets = maxBuckets;
    this.maxParameterResults = maxParameterResults;
    this.storage = storage;
    this.versionId = versionId;
    this.checksums = checksums;
    this.querier = rules.querier(request.request());
    Object sub = request.request().userId();
    this.writeCheckpointKey =
        sub instanceof String user && !user.isEmpty()
            ? new WriteCheckpointKey(user, request.clientId() == null ? "" : request.clientId())
            : null;
    // The definitions this request is subscribed to, with the problems resolving its subscriptions
    // of each.
    RequestContext rc = request.request();
    Map<String, List<SyncLine.StreamError>> errors = new LinkedHashMap<>();
    for (var e : querier.errors()) {
      errors
          .computeIfAbsent(e.definition(), k -> new ArrayList<>())
          .add(new SyncLine.StreamError(e.subscription(), e.message()));
    }
    for (DefinitionInfo d : rules.definitions()) {
      boolean named = rc.subscriptions().stream().anyMatch(s -> s.stream().equals(d.name()));
      boolean included =
          d.kind() == DefinitionInfo.Kind.BUCKET_DEFINITION
              ? rc.includeDefaults() || named
              : (d.subscribedByDefault() && rc.includeDefaults()) || named;
      if (!included) {
        continue;
      }
      streamIndex.put(d.name(), streams.size());
      streams.add(
          new SyncLine.StreamDescription(
              d.name(),
              d.kind() == DefinitionInfo.Kind.BUCKET_DEFINITION || d.subscribedByDefault(),
              errors.getOrDefault(d.name(), List.of())));
    }
    positions.putAll(request.buckets());
  }

  /**
   * The checkpoint line for {@code checkpoint}, or none when nothing this client sees changed since
   * the last one.
   *
   * @throws SynclineException when the client would receive more buckets, or its parameter queries
   *     would return more rows, than the limits allow
   */
  public List<SyncLine> checkpoint(Checkpoint checkpoint) {
    int[] parameterRows = {0};
    List<ResolvedBucket> buckets =
        querier.allBuckets(
            lookups -> {
              var found = storage.lookup(versionId, checkpoint.opId(), lookups);
              for (var rows : found.values()) {
                parameterRows[0] += rows.size();
              }
              if (parameterRows[0] > maxParameterResults) {
                throw new SynclineException(
                    ErrorCode.TOO_MANY_BUCKETS,
                    "the parameter queries of this connection returned "
                        + parameterRows[0]
                        + " rows; at most "
                        + maxParameterResults
                        + " are allowed");
              }
              return found;
            });
    Map<String, ResolvedBucket> merged = new LinkedHashMap<>();
    for (ResolvedBucket b : buckets) {
      // A bucket both static and dynamic (or reached by several subscriptions) keeps every reason,
      // best priority.
      merged.merge(
          b.bucket().name(),
          b,
          (x, y) -> {
            List<InclusionReason> reasons = new ArrayList<>(x.reasons());
            reasons.addAll(y.reasons());
            return new ResolvedBucket(x.bucket(), Math.min(x.priority(), y.priority()), reasons);
          });
    }
    if (merged.size() > maxBuckets) {
      throw new SynclineException(
          ErrorCode.TOO_MANY_BUCKETS,
          "this connection would receive "
              + merged.size()
              + " buckets; at most "
              + maxBuckets
              + " are allowed");
    }
    Map<String, BucketChecksum> sums = checksums.checksums(checkpoint.opId(), merged.keySet());
    Map<String, SyncLine.BucketState> states = new LinkedHashMap<>();
    for (ResolvedBucket b : merged.values()) {
      BucketChecksum c =
          Objects.requireNonNull(
              sums.get(b.bucket().name()), "the cache returns every bucket asked");
      List<SyncLine.Subscription> subs = new ArrayList<>();
      for (InclusionReason r : b.reasons()) {
        if (r instanceof InclusionReason.Subscription s) {
          subs.add(new SyncLine.Subscription(false, s.index()));
        } else {
          subs.add(
              new SyncLine.Subscription(
                  true, streamIndex.getOrDefault(b.bucket().definition(), 0)));
        }
      }
      states.put(
          b.bucket().name(),
          new SyncLine.BucketState(
              b.bucket().name(),
              (int) c.checksum(),
              c.count(),
              b.priority(),
              subs.stream().distinct().toList()));
    }
    String writeCheckpoint =
        writeCheckpointKey == null
            ? null
            : pages
                .writeCheckpoint(writeCheckpointKey, checkpoint)
                .map(String::valueOf)
                .orElse(null);
    positions.keySet().retainAll(states.keySet());
    pending.retainAll(states.keySet());
    List<SyncLine> lines = new ArrayList<>(1);
    if (!sentFull) {
      sentFull = true;
      lines.add(
          new SyncLine.Checkpoint(
              checkpoint.opId(), writeCheckpoint, List.copyOf(states.values()), streams));
      pending.addAll(states.keySet());
    } else {
      List<SyncLine.BucketState> updated = new ArrayList<>();
      for (SyncLine.BucketState s : states.values()) {
        SyncLine.BucketState old = lastSent.get(s.bucket());
        if (old == null
            || old.checksum() != s.checksum()
            || old.count() != s.count()
            || old.priority() != s.priority()) {
          updated.add(s);
          pending.add(s.bucket());
        }
      }
      List<String> removed =
          lastSent.keySet().stream().filter(k -> !states.containsKey(k)).toList();
      boolean sameWriteCheckpoint = Objects.equals(writeCheckpoint, lastWriteCheckpoint);
      if (updated.isEmpty() && removed.isEmpty() && sameWriteCheckpoint) {
        return List.of();
      }
      lines.add(new SyncLine.CheckpointDiff(checkpoint.opId(), writeCheckpoint, updated, removed));
    }
    lastSent = states;
    lastWriteCheckpoint = writeCheckpoint;
    return lines;
  }

  /**
   * Sends the data of the last checkpoint: buckets grouped by priority (highest first, by name
   * within a group), chunks of at most 1,000 ops, then the completion lines. Completion is withheld
   * when a compacted op points past the checkpoint (§4.1); the next checkpoint will follow.
   */
  public void data(Checkpoint checkpoint, Consumer<SyncLine> out) {
    data(checkpoint, out, () -> false);
  }

  /**
   * Like {@link #data(Checkpoint, Consumer)}; once at least 1,000 ops were sent for this
   * checkpoint, stops at the next chunk boundary, without completion lines, when {@code
   * newerCheckpoint} says a newer one is waiting: the unfinished buckets carry over to the next
   * checkpoint (§2.3.1 step 6).
   *
   * @return whether the checkpoint was completed
   */
  public boolean data(
      Checkpoint checkpoint, Consumer<SyncLine> out, BooleanSupplier newerCheckpoint) {
    return data(checkpoint, out, newerCheckpoint, () -> false);
  }

  /**
   * Like {@link #data(Checkpoint, Consumer, BooleanSupplier)}, and also stops before reading the
   * next chunk while {@code saturated} says the transport cannot take more now; call again with the
   * same checkpoint to continue.
   */
  public boolean data(
      Checkpoint checkpoint,
      Consumer<SyncLine> out,
      BooleanSupplier newerCheckpoint,
      BooleanSupplier saturated) {
    sentOps = 0;
    BooleanSupplier yieldNow =
        () ->
            saturated.getAsBoolean()
                || (sentOps >= INTERRUPT_AFTER_OPS && newerCheckpoint.getAsBoolean());
    TreeMap<Integer, List<String>> byPriority = new TreeMap<>();
    for (String b : pending) {
      byPriority
          .computeIfAbsent(
              Objects.requireNonNull(lastSent.get(b)).priority(), p -> new ArrayList<>())
          .add(b);
    }
    int groups = byPriority.size();
    int group = 0;
    for (Map.Entry<Integer, List<String>> e : byPriority.entrySet()) {
      group++;
      List<String> names = new ArrayList<>(e.getValue());
      names.sort(null);
      for (String bucket : names) {
        if (!sendBucket(bucket, checkpoint, out, yieldNow)) {
          return false;
        }
        pending.remove(bucket);
      }
      if (group < groups && !invalidated(checkpoint)) {
        out.accept(new SyncLine.PartialCheckpointComplete(checkpoint.opId(), e.getKey()));
      }
    }
    if (invalidated(checkpoint)) {
      return false;
    }
    out.accept(new SyncLine.CheckpointComplete(checkpoint.opId()));
    maxTargetOp = null;
    for (String b : lastSent.keySet()) {
      positions.merge(b, checkpoint.opId(), (x, y) -> x.compareTo(y) >= 0 ? x : y);
    }
    return true;
  }

  /** Ops sent in the current {@link #data} call. */
  private long sentOps;

  /**
   * The highest {@code target_op} of MOVE/CLEAR ops sent since the last completed checkpoint: no
   * checkpoint below it may complete (§4.1), also when the ops were sent in an earlier, interrupted
   * data phase.
   */
  private @Nullable OpId maxTargetOp;

  private boolean invalidated(Checkpoint checkpoint) {
    return maxTargetOp != null && maxTargetOp.compareTo(checkpoint.opId()) > 0;
  }

  /** Whose write checkpoints this stream reports: its user and client; null without a user. */
  public @Nullable WriteCheckpointKey writeCheckpointKey() {
    return writeCheckpointKey;
  }

  /** The buckets of the last checkpoint line sent (a copy; empty before the first). */
  public List<String> bucketNames() {
    return List.copyOf(lastSent.keySet());
  }

  /**
   * Whether buckets of the last checkpoint still wait for their data (the data phase was
   * interrupted).
   */
  public boolean hasPendingData() {
    return !pending.isEmpty();
  }

  /**
   * Sends one bucket up to the checkpoint; returns {@code false} when {@code yieldNow} interrupted
   * it.
   */
  private boolean sendBucket(
      String bucket, Checkpoint checkpoint, Consumer<SyncLine> out, BooleanSupplier yieldNow) {
    OpId after = positions.getOrDefault(bucket, OpId.ZERO);
    while (after.compareTo(checkpoint.opId()) < 0) {
      if (yieldNow.getAsBoolean()) {
        return false;
      }
      List<OpRecord> ops = pages.ops(bucket, after, checkpoint.opId(), OPS_PER_CHUNK);
      if (ops.isEmpty()) {
        break;
      }
      List<SyncLine.Op> chunk = new ArrayList<>(ops.size());
      for (OpRecord op : ops) {
        chunk.add(
            new SyncLine.Op(
                op.opId(),
                op.op(),
                op.objectType(),
                op.objectId(),
                op.subkey(),
                op.data(),
                op.checksum()));
        if ((op.op() == OpType.MOVE || op.op() == OpType.CLEAR)
            && op.targetOp() != null
            && (maxTargetOp == null || op.targetOp().compareTo(maxTargetOp) > 0)) {
          maxTargetOp = op.targetOp();
        }
      }
      OpId next = ops.get(ops.size() - 1).opId();
      boolean more = ops.size() == OPS_PER_CHUNK;
      out.accept(new SyncLine.Data(bucket, after, next, more, chunk));
      sentOps += chunk.size();
      after = next;
      positions.put(bucket, next);
      if (!more) {
        break;
      }
    }
    return true;
  }
}
