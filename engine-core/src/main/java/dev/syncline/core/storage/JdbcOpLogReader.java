package dev.syncline.core.storage;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.core.internal.storage.OpPacks;
import dev.syncline.core.internal.storage.StorageCodec;
import dev.syncline.spi.storage.BucketStorage.PartialChecksum;
import dev.syncline.spi.storage.BucketStorage.SnapshotState;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.OpRecord;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Record6;
import org.jooq.Select;
import org.jooq.SelectLimitPercentStep;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.jspecify.annotations.Nullable;

/**
 * Reads a version's op log: checkpoints, checksums (exact for any op-id range, across packs), ops
 * in pages, parameter lookups and snapshot state. Any thread; each call borrows a connection.
 */
final class JdbcOpLogReader extends JdbcStoragePart {

  JdbcOpLogReader(JdbcStoragePart tables) {
    super(tables);
  }

  public Optional<Checkpoint> latestCheckpoint(long versionId) {
    return read(
        dsl -> {
          Record r =
              dsl.select(CHECKPOINT_OP, CHECKPOINT_POS)
                  .from(rules)
                  .where(ID.eq(versionId))
                  .fetchOne();
          if (r == null) {
            throw unknownVersion(versionId);
          }
          return r.get(CHECKPOINT_POS) == null
              ? Optional.empty()
              : Optional.of(new Checkpoint(new OpId(r.get(CHECKPOINT_OP)), r.get(CHECKPOINT_POS)));
        });
  }

  public Map<String, PartialChecksum> checksums(
      long versionId, Collection<String> buckets, @Nullable OpId after, OpId upTo) {
    long from = after == null ? -1 : after.value();
    return read(
        dsl -> {
          Map<String, PartialChecksum> out = new LinkedHashMap<>();
          List<String> names = List.copyOf(buckets);
          for (int i = 0; i < names.size(); i += INSERT_CHUNK) {
            List<String> chunk = names.subList(i, Math.min(names.size(), i + INSERT_CHUNK));
            Map<String, Long> clears = new HashMap<>();
            dsl.select(BUCKET, DSL.max(OP_ID))
                .from(bucketData)
                .where(
                    VERSION
                        .eq(versionId)
                        .and(BUCKET.in(chunk))
                        .and(OP.eq(OpType.CLEAR.name()))
                        .and(OP_ID.gt(from))
                        .and(OP_ID.le(upTo.value())))
                .groupBy(BUCKET)
                .forEach(r -> clears.put(r.value1(), r.value2()));
            Map<String, PartialChecksum> sums = new HashMap<>();
            List<String> plain =
                clears.isEmpty()
                    ? chunk
                    : chunk.stream().filter(b -> !clears.containsKey(b)).toList();
            rangeSums(dsl, versionId, plain, from, upTo.value())
                .forEach(
                    (b, s) ->
                        sums.put(b, new PartialChecksum(s[0] & 0xffffffffL, s[1], after == null)));
            for (Map.Entry<String, Long> clear : clears.entrySet()) {
              long[] s =
                  rangeSums(
                          dsl,
                          versionId,
                          List.of(clear.getKey()),
                          clear.getValue() - 1,
                          upTo.value())
                      .getOrDefault(clear.getKey(), new long[2]);
              sums.put(clear.getKey(), new PartialChecksum(s[0] & 0xffffffffL, s[1], true));
            }
            for (String b : chunk) {
              out.put(b, sums.getOrDefault(b, new PartialChecksum(0, 0, after == null)));
            }
          }
          return out;
        });
  }

  /**
   * Sums (mod 2^64, which keeps them exact mod 2^32) and counts of the ops in {@code (after, upTo]}
   * of buckets that have any: whole rows in SQL, and in Java the ops of the packs that straddle
   * either end (at most one per bucket and end, found within {@link OpPacks#MAX_SPAN} of it).
   */
  private Map<String, long[]> rangeSums(
      DSLContext dsl, long versionId, List<String> buckets, long after, long upTo) {
    Map<String, long[]> sums = new HashMap<>();
    if (buckets.isEmpty() || upTo <= after) {
      return sums;
    }
    // One round trip: the sums of whole rows (op id null), then the rows of straddling packs (sums
    // null).
    Field<Long> noId = DSL.inline(null, SQLDataType.BIGINT);
    Field<String> noText = DSL.inline(null, DATA.getDataType());
    Field<BigDecimal> noSum = DSL.inline(null, SQLDataType.DECIMAL);
    var query =
        dsl.select(BUCKET, DSL.sum(CHECKSUM), DSL.sum(OP_COUNT), noId, noId, noText)
            .from(bucketData)
            .where(
                VERSION
                    .eq(versionId)
                    .and(BUCKET.in(buckets))
                    .and(OP_ID.gt(after))
                    .and(OP_ID.le(upTo))
                    .and(FIRST_OP.isNull().or(FIRST_OP.gt(after))))
            .groupBy(BUCKET);
    Select<Record6<String, BigDecimal, BigDecimal, Long, Long, String>> all = query;
    if (after >= 0) { // op ids are positive: nothing starts at or before a negative bound
      all =
          all.unionAll(
              packsAcross(
                  dsl, versionId, buckets, after, Math.min(upTo, after + OpPacks.MAX_SPAN), noSum));
    }
    if (upTo < Long.MAX_VALUE - OpPacks.MAX_SPAN) {
      all =
          all.unionAll(packsAcross(dsl, versionId, buckets, upTo, upTo + OpPacks.MAX_SPAN, noSum));
    }
    for (var r : dsl.fetch(all)) {
      long[] part =
          r.value4() == null
              ? new long[] {r.value2().toBigInteger().longValue(), r.value3().longValue()}
              : OpPacks.sum(
                  r.value1(),
                  Objects.requireNonNull(r.value5(), "a pack's first op id"),
                  Objects.requireNonNull(r.value6(), "a pack's text"),
                  after,
                  upTo);
      if (part[1] > 0) {
        long[] sum = sums.computeIfAbsent(r.value1(), b -> new long[2]);
        sum[0] += part[0];
        sum[1] += part[1];
      }
    }
    return sums;
  }

  /**
   * The rows of packs that start at or before {@code bound} and end after it (up to {@code
   * lastEnd}): their ops straddle the bound, so their sums are taken op by op (sums null).
   */
  private Select<Record6<String, BigDecimal, BigDecimal, Long, Long, String>> packsAcross(
      DSLContext dsl,
      long versionId,
      List<String> buckets,
      long bound,
      long lastEnd,
      Field<BigDecimal> noSum) {
    return dsl.select(BUCKET, noSum, noSum, OP_ID, FIRST_OP, DATA)
        .from(bucketData)
        .where(
            VERSION
                .eq(versionId)
                .and(BUCKET.in(buckets))
                .and(OP_ID.gt(bound))
                .and(OP_ID.le(lastEnd))
                .and(FIRST_OP.le(bound)));
  }

  public List<OpRecord> ops(long versionId, String bucket, OpId after, OpId upTo, int limit) {
    if (limit <= 0) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "limit must be positive, got " + limit);
    }
    return read(
        dsl -> opRecords(dsl, versionId, bucket, after.value(), upTo.value(), limit, false));
  }

  /**
   * A bucket's ops with {@code after < op_id <= upTo}, ascending, at most {@code limit}; their rows
   * locked for update when asked. Packs are decoded: the rows in the range (each holds at least one
   * op of it, as its last op id is in the range), then the one that may straddle {@code upTo}. Rows
   * are read a few at a time (packs hold several ops, single rows one), the first of them with the
   * straddling one in the same round trip.
   */
  List<OpRecord> opRecords(
      DSLContext dsl,
      long versionId,
      String bucket,
      long after,
      long upTo,
      int limit,
      boolean forUpdate) {
    List<OpRecord> out = new ArrayList<>(Math.min(limit, 256));
    long from = after;
    int rows = limit <= 64 ? limit : Math.max(64, limit / 8);
    @Nullable Record straddling = null;
    boolean straddlingRead =
        forUpdate || upTo >= Long.MAX_VALUE - OpPacks.MAX_SPAN; // else with the first rows
    while (true) {
      var query =
          dsl.select(OP_FIELDS)
              .from(bucketData)
              .where(
                  VERSION
                      .eq(versionId)
                      .and(BUCKET.eq(bucket))
                      .and(OP_ID.gt(from))
                      .and(OP_ID.le(upTo)))
              .orderBy(OP_ID)
              .limit(rows);
      List<Record> read =
          new ArrayList<>(
              forUpdate
                  ? query.forUpdate().fetch()
                  : straddlingRead
                      ? query.fetch()
                      : dsl.fetch(query.unionAll(straddlingQuery(dsl, versionId, bucket, upTo))));
      if (!straddlingRead) {
        straddlingRead = true;
        read.sort(Comparator.comparingLong(r -> r.get(OP_ID)));
        if (!read.isEmpty() && read.get(read.size() - 1).get(OP_ID) > upTo) {
          straddling = read.remove(read.size() - 1);
        }
      }
      for (Record r : read) {
        addOps(out, bucket, r, after, upTo, limit);
        from = r.get(OP_ID);
      }
      if (out.size() >= limit || read.size() < rows) {
        break;
      }
      rows = limit - out.size(); // at most one row per op still wanted
    }
    if (out.size() < limit) {
      if (forUpdate) {
        straddling = straddling(dsl, versionId, bucket, upTo, true);
      }
      if (straddling != null) {
        addOps(out, bucket, straddling, after, upTo, limit);
      }
    }
    return out;
  }

  /**
   * The pack of a bucket that holds ops both at or before {@code opId} and after it, if any (at
   * most one).
   */
  @Nullable Record straddling(
      DSLContext dsl, long versionId, String bucket, long opId, boolean forUpdate) {
    if (opId >= Long.MAX_VALUE - OpPacks.MAX_SPAN) {
      return null;
    }
    var query = straddlingQuery(dsl, versionId, bucket, opId);
    return forUpdate ? query.forUpdate().fetchOne() : query.fetchOne();
  }

  /** The query of {@link #straddling}; {@code opId} below {@code Long.MAX_VALUE - MAX_SPAN}. */
  private SelectLimitPercentStep<Record> straddlingQuery(
      DSLContext dsl, long versionId, String bucket, long opId) {
    return dsl.select(OP_FIELDS)
        .from(bucketData)
        .where(
            VERSION
                .eq(versionId)
                .and(BUCKET.eq(bucket))
                .and(OP_ID.gt(opId))
                .and(OP_ID.le(opId + OpPacks.MAX_SPAN))
                .and(FIRST_OP.le(opId)))
        .orderBy(OP_ID)
        .limit(1);
  }

  /**
   * Adds the ops of an op-log row in {@code (after, upTo]} to {@code out}, up to {@code limit} in
   * all.
   */
  static void addOps(
      List<OpRecord> out, String bucket, Record r, long after, long upTo, int limit) {
    Long first = r.get(FIRST_OP);
    if (first == null) {
      if (out.size() < limit) {
        out.add(
            new OpRecord(
                new OpId(r.get(OP_ID)),
                bucket,
                OpType.valueOf(r.get(OP)),
                r.get(OBJECT_TYPE),
                r.get(OBJECT_ID),
                r.get(SUBKEY),
                r.get(DATA),
                r.get(CHECKSUM),
                r.get(TARGET_OP) == null ? null : new OpId(r.get(TARGET_OP))));
      }
      return;
    }
    OpPacks.decode(
        bucket,
        first,
        Objects.requireNonNull(r.get(DATA), "a pack's text"),
        after,
        upTo,
        op -> {
          if (out.size() < limit) {
            out.add(op);
          }
        });
  }

  public Map<ParameterLookup, List<Map<String, SqliteValue>>> lookup(
      long versionId, OpId asOf, List<ParameterLookup> lookups) {
    return read(
        dsl -> {
          Map<ParameterLookup, List<Map<String, SqliteValue>>> out = new LinkedHashMap<>();
          Map<String, ParameterLookup> byKey = new LinkedHashMap<>();
          lookups.forEach(l -> byKey.put(StorageCodec.lookup(l), l));
          Map<String, Map<String, long[]>> first = new HashMap<>();
          Map<String, Map<String, String>> latest = new HashMap<>();
          List<String> keys = List.copyOf(byKey.keySet());
          for (int i = 0; i < keys.size(); i += INSERT_CHUNK) {
            dsl.select(LOOKUP, SOURCE_TABLE, SOURCE_KEY, OP_ID, ROWS)
                .from(parameters)
                .where(
                    VERSION
                        .eq(versionId)
                        .and(LOOKUP.in(keys.subList(i, Math.min(keys.size(), i + INSERT_CHUNK))))
                        .and(OP_ID.le(asOf.value())))
                .orderBy(OP_ID)
                .forEach(
                    r -> {
                      String source = r.get(SOURCE_TABLE) + "\u0000" + r.get(SOURCE_KEY);
                      first
                          .computeIfAbsent(r.get(LOOKUP), k -> new LinkedHashMap<>())
                          .putIfAbsent(source, new long[] {r.get(OP_ID)});
                      latest
                          .computeIfAbsent(r.get(LOOKUP), k -> new HashMap<>())
                          .put(source, r.get(ROWS));
                    });
          }
          for (Map.Entry<String, ParameterLookup> e : byKey.entrySet()) {
            List<Map<String, SqliteValue>> rows = new ArrayList<>();
            Map<String, long[]> sources = first.getOrDefault(e.getKey(), Map.of());
            for (String source : sources.keySet()) {
              rows.addAll(
                  StorageCodec.rows(
                      Objects.requireNonNull(
                          Objects.requireNonNull(latest.get(e.getKey())).get(source))));
            }
            out.put(e.getValue(), List.copyOf(rows));
          }
          return out;
        });
  }

  public SnapshotState snapshotState(long versionId) {
    return read(
        dsl -> {
          requireVersion(dsl, versionId);
          List<TableRef> done = new ArrayList<>();
          Map<TableRef, String> progress = new LinkedHashMap<>();
          dsl.select(SOURCE_TABLE, DONE, PROGRESS)
              .from(snapshots)
              .where(VERSION.eq(versionId))
              .orderBy(SOURCE_TABLE)
              .forEach(
                  r -> {
                    if (Boolean.TRUE.equals(r.get(DONE))) {
                      done.add(tableRef(r.get(SOURCE_TABLE)));
                    } else if (r.get(PROGRESS) != null) {
                      progress.put(tableRef(r.get(SOURCE_TABLE)), r.get(PROGRESS));
                    }
                  });
          return new SnapshotState(done, progress);
        });
  }
}
