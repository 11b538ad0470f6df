package dev.syncline.core.internal.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.spi.storage.BucketChecksum;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.WriteBatch;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ChecksumCacheTest {
  /** Counts how storage is asked, to prove extension is incremental. */
  final InMemoryBucketStorage storage = new InMemoryBucketStorage();

  final long version = storage.addRulesVersion("rules").id();
  final AtomicInteger fullRanges = new AtomicInteger();
  final AtomicInteger partialRanges = new AtomicInteger();

  final BucketStorage counting =
      (BucketStorage)
          Proxy.newProxyInstance(
              BucketStorage.class.getClassLoader(),
              new Class<?>[] {BucketStorage.class},
              (proxy, method, args) -> {
                if (method.getName().equals("checksums")) {
                  (args[2] == null ? fullRanges : partialRanges).incrementAndGet();
                }
                return method.invoke(storage, args);
              });

  static NewOp put(String bucket, String row, String data) {
    return new NewOp(
        bucket, OpType.PUT, "t", row, "s" + row, data, OpChecksums.put("t", row, data));
  }

  Checkpoint commit(BucketStorageWriter w, int n, NewOp... ops) {
    return w.commit(
            new WriteBatch(List.of(ops), List.of(), List.of(), List.of(), String.format("%08d", n)))
        .orElseThrow();
  }

  long direct(String bucket, OpId at) {
    return storage.checksums(version, List.of(bucket), null, at).get(bucket).checksum();
  }

  @Test
  void a_newer_checkpoint_extends_the_cached_value_with_only_the_new_ops() {
    ChecksumCache cache = new ChecksumCache(counting, version, 1000, 4);
    try (BucketStorageWriter w = storage.openWriter(version)) {
      Checkpoint c1 = commit(w, 1, put("b", "1", "a"), put("b", "2", "b"), put("c", "1", "x"));
      Map<String, BucketChecksum> at1 = cache.checksums(c1.opId(), List.of("b", "c"));
      assertThat(at1.get("b").checksum()).isEqualTo(direct("b", c1.opId()));
      assertThat(at1.get("b").count()).isEqualTo(2);
      assertThat(fullRanges.get()).isEqualTo(1);

      Checkpoint c2 = commit(w, 2, put("b", "1", "changed"));
      Map<String, BucketChecksum> at2 = cache.checksums(c2.opId(), List.of("b", "c"));
      assertThat(at2.get("b").checksum()).isEqualTo(direct("b", c2.opId()));
      assertThat(at2.get("b").count()).isEqualTo(3);
      assertThat(at2.get("c").checksum()).isEqualTo(direct("c", c2.opId()));
      assertThat(fullRanges.get()).as("no full recomputation").isEqualTo(1);
      assertThat(partialRanges.get()).isEqualTo(1);

      cache.checksums(c2.opId(), List.of("b", "c"));
      assertThat(partialRanges.get()).as("served from the cache").isEqualTo(1);
    }
  }

  @Test
  void values_stay_exact_across_compaction() {
    ChecksumCache cache = new ChecksumCache(counting, version, 1000, 4);
    try (BucketStorageWriter w = storage.openWriter(version)) {
      Checkpoint c1 = commit(w, 1, put("b", "1", "a"), put("b", "2", "b"));
      cache.checksums(c1.opId(), List.of("b"));
      Checkpoint c2 = commit(w, 2, put("b", "1", "c"), put("b", "2", "d"), put("b", "3", "e"));
      storage.compact(version, c2.opId());
      assertThat(cache.checksums(c2.opId(), List.of("b")).get("b").checksum())
          .isEqualTo(direct("b", c2.opId()));
    }
  }
}
