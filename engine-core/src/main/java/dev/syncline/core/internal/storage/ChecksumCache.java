package dev.syncline.core.internal.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.syncline.api.OpId;
import dev.syncline.spi.storage.BucketChecksum;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorage.PartialChecksum;
import dev.syncline.spi.storage.OpChecksums;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Bucket checksums at checkpoints, cached and extended incrementally (PowerSync protocol §3.4): a
 * checksum at a new checkpoint is the cached value at the closest earlier checkpoint plus the ops
 * in between, fetched from storage as one range sum; a range that contains a CLEAR replaces the
 * value instead. One checkpoint's checksums are computed once and shared by every stream that asks.
 *
 * <p>Thread-safe. Stays exact across compaction: compaction preserves sums, and a CLEAR moved past
 * a cached checkpoint makes the next range "full".
 */
public final class ChecksumCache {
  private static final PartialChecksum NOTHING = new PartialChecksum(0, 0, false);
  private final BucketStorage storage;
  private final long versionId;
  private final int keepPerBucket;
  private final Cache<String, ConcurrentSkipListMap<Long, BucketChecksum>> cache;

  /**
   * @param maxBuckets buckets kept (least recently used are evicted)
   * @param keepPerBucket checkpoints kept per bucket
   */
  public ChecksumCache(BucketStorage storage, long versionId, long maxBuckets, int keepPerBucket) {
    this.storage = storage;
    this.versionId = versionId;
    this.keepPerBucket = keepPerBucket;
    // Upkeep on the calling thread (Caffeine's default is the common fork-join pool, which the
    // engine does not own).
    this.cache =
        Caffeine.newBuilder()
            .executor(Runnable::run)
            .maximumSize(maxBuckets)
            .expireAfterAccess(Duration.ofHours(1))
            .build();
  }

  /** Checksums of the buckets at {@code checkpoint}, in the order asked. */
  public Map<String, BucketChecksum> checksums(OpId checkpoint, Collection<String> buckets) {
    Map<String, BucketChecksum> out = new LinkedHashMap<>();
    Map<Long, List<String>> missingByBase = new LinkedHashMap<>();
    Map<String, BucketChecksum> bases = new LinkedHashMap<>();
    for (String b : buckets) {
      ConcurrentSkipListMap<Long, BucketChecksum> known = cache.getIfPresent(b);
      Map.Entry<Long, BucketChecksum> base =
          known == null ? null : known.floorEntry(checkpoint.value());
      if (base != null && base.getKey() == checkpoint.value()) {
        out.put(b, base.getValue());
        continue;
      }
      long from = base == null ? -1 : base.getKey();
      missingByBase.computeIfAbsent(from, k -> new ArrayList<>()).add(b);
      if (base != null) {
        bases.put(b, base.getValue());
      }
      out.put(b, null);
    }
    for (Map.Entry<Long, List<String>> group : missingByBase.entrySet()) {
      OpId after = group.getKey() < 0 ? null : new OpId(group.getKey());
      Map<String, PartialChecksum> partial =
          storage.checksums(versionId, group.getValue(), after, checkpoint);
      for (String b : group.getValue()) {
        // A bucket without ops in the range may be left out of the answer: it adds nothing.
        PartialChecksum p = partial.getOrDefault(b, NOTHING);
        BucketChecksum base = bases.get(b);
        BucketChecksum value =
            p.isFull() || base == null
                ? new BucketChecksum(b, p.checksum(), p.count())
                : new BucketChecksum(
                    b, OpChecksums.add(base.checksum(), p.checksum()), base.count() + p.count());
        out.put(b, value);
        ConcurrentSkipListMap<Long, BucketChecksum> known =
            cache.get(b, k -> new ConcurrentSkipListMap<>());
        known.put(checkpoint.value(), value);
        while (known.size() > keepPerBucket) {
          known.pollFirstEntry();
        }
      }
    }
    return out;
  }
}
