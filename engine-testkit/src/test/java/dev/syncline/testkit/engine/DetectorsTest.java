package dev.syncline.testkit.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import dev.syncline.api.engine.DetectorThresholds;
import dev.syncline.api.engine.EngineEvent;
import dev.syncline.api.engine.Finding;
import dev.syncline.api.engine.Finding.Detector;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.spi.source.ChangeSink;
import dev.syncline.spi.source.SourceAdapter;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.source.SourceEvent;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ScriptedSource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Each detector provoked on an engine whose source is scripted by the test: the finding appears in
 * health (and the health JSON), is announced once as an event, and clears when the cause goes.
 */
class DetectorsTest {
  private static final String RULES =
      "bucket_definitions:\n  all:\n    data:\n      - SELECT * FROM items\n";
  private static final TableRef ITEMS = TableRef.of("public", "items");
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void replication_that_shows_no_sign_of_life_is_reported_stalled_until_it_moves_again()
      throws Exception {
    ScriptedSource source = new ScriptedSource(ITEMS);
    List<EngineEvent> events = new CopyOnWriteArrayList<>();
    try (InMemoryBucketStorage storage = new InMemoryBucketStorage();
        Syncline engine =
            engine(
                    storage,
                    source,
                    events,
                    DetectorThresholds.builder()
                        .replicationStalledAfter(Duration.ofMillis(300))
                        .build())
                .start()) {
      Await.until(WAIT, () -> engine.health().ready(), "ready");
      // The source's thread now blocks without failing and without calling anything.
      source.pause();
      Await.until(
          WAIT, () -> detectors(engine).contains(Detector.REPLICATION_STALLED), "reported stalled");
      assertThat(engine.healthJson())
          .contains("\"code\":\"SYNCLINE_D0002\"", "\"detector\":\"REPLICATION_STALLED\"");
      Await.until(
          WAIT, () -> announced(events, Detector.REPLICATION_STALLED, true) == 1, "announced");
      assertThat(engine.health().ready()).as("findings do not change readiness").isTrue();
      source.resume();
      source.then(ChangeSink::alive);
      Await.until(WAIT, () -> !detectors(engine).contains(Detector.REPLICATION_STALLED), "cleared");
      Await.until(
          WAIT,
          () -> announced(events, Detector.REPLICATION_STALLED, false) == 1,
          "announced cleared");
      assertThat(announced(events, Detector.REPLICATION_STALLED, true)).isEqualTo(1);
    }
  }

  @Test
  void a_storage_write_slower_than_the_threshold_is_reported() throws Exception {
    ScriptedSource source = new ScriptedSource(ITEMS);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger commits = new AtomicInteger();
    try (InMemoryBucketStorage memory = new InMemoryBucketStorage();
        Syncline engine =
            engine(
                    slowSecondCommit(memory, commits, release),
                    source,
                    new CopyOnWriteArrayList<>(),
                    DetectorThresholds.builder().storageSlowAfter(Duration.ofMillis(100)).build())
                .start()) {
      Await.until(WAIT, () -> engine.health().ready(), "ready");
      assertThat(detectors(engine)).doesNotContain(Detector.STORAGE_SLOW);
      source.then(
          sink -> {
            sink.accept(
                SourceChange.insert(
                    ITEMS, List.of("id"), SourceRow.builder().put("id", "a").build()));
            sink.commitAsync(ScriptedSource.position("2"), () -> {});
          });
      Await.until(
          WAIT,
          () -> detectors(engine).contains(Detector.STORAGE_SLOW),
          "reported slow while the write waits");
      release.countDown();
      assertThat(engine.health().findings())
          .filteredOn(f -> f.detector() == Detector.STORAGE_SLOW)
          .extracting(Finding::message)
          .singleElement()
          .asString()
          .contains("storage write");
    }
  }

  @Test
  void a_slot_that_stays_behind_and_retained_wal_are_reported_from_the_sources_lag_reports()
      throws Exception {
    ScriptedSource source = new ScriptedSource(ITEMS);
    try (InMemoryBucketStorage storage = new InMemoryBucketStorage();
        Syncline engine =
            engine(
                    storage,
                    source,
                    new CopyOnWriteArrayList<>(),
                    DetectorThresholds.builder()
                        .slotStalled(64L << 20, Duration.ofMillis(300))
                        .walRetainedBytes(1L << 30)
                        .build())
                .start()) {
      Await.until(WAIT, () -> engine.health().ready(), "ready");
      source.then(
          sink -> sink.event(new SourceEvent.Lag(100L << 20, 10, 2L << 30, "extended", -1)));
      Await.until(
          WAIT, () -> detectors(engine).contains(Detector.WAL_RETAINED), "retained WAL reported");
      Await.until(
          WAIT,
          () -> detectors(engine).contains(Detector.SLOT_STALLED),
          "the slot reported behind after 300 ms");
      source.then(sink -> sink.event(new SourceEvent.Lag(0, -1, 1L << 20, "reserved", -1)));
      Await.until(WAIT, () -> detectors(engine).isEmpty(), "both cleared once the slot caught up");
    }
  }

  @Test
  void a_slot_that_is_behind_for_less_than_the_threshold_is_not_reported() throws Exception {
    ScriptedSource source = new ScriptedSource(ITEMS);
    try (InMemoryBucketStorage storage = new InMemoryBucketStorage();
        Syncline engine =
            engine(
                    storage,
                    source,
                    new CopyOnWriteArrayList<>(),
                    DetectorThresholds.builder()
                        .slotStalled(64L << 20, Duration.ofHours(1))
                        .build())
                .start()) {
      Await.until(WAIT, () -> engine.health().ready(), "ready");
      CountDownLatch reported = new CountDownLatch(1);
      source.then(
          sink -> {
            sink.event(new SourceEvent.Lag(100L << 20, 10, 100L << 20, "reserved", -1));
            reported.countDown();
          });
      assertThat(reported.await(60, TimeUnit.SECONDS)).isTrue();
      assertThat(engine.health().lagBytes()).isEqualTo(100L << 20);
      assertThat(detectors(engine)).isEmpty();
    }
  }

  private static Syncline engine(
      BucketStorage storage,
      SourceAdapter source,
      List<EngineEvent> events,
      DetectorThresholds thresholds) {
    return Syncline.builder()
        .storage(storage)
        .source(() -> source)
        .rules(SyncRulesSource.ofYaml(RULES, "rules.yaml"))
        .tokenVerifier(
            JwtTokenVerifier.builder()
                .audience("test")
                .hmacSecret(
                    "detectors-test-secret-of-at-least-32-bytes".getBytes(StandardCharsets.UTF_8),
                    null)
                .build())
        .pollInterval(Duration.ofMillis(50))
        .storageTimeout(Duration.ofMinutes(10))
        .detectors(thresholds)
        .listener(events::add)
        .build();
  }

  private static Set<Detector> detectors(Syncline engine) {
    return engine.health().findings().stream().map(Finding::detector).collect(Collectors.toSet());
  }

  private static long announced(List<EngineEvent> events, Detector detector, boolean active) {
    return events.stream()
        .filter(
            e ->
                e instanceof EngineEvent.DetectorChanged d
                    && d.finding().detector() == detector
                    && d.active() == active)
        .count();
  }

  /** Storage whose writers' second commit waits until {@code release}. */
  private static BucketStorage slowSecondCommit(
      BucketStorage delegate, AtomicInteger commits, CountDownLatch release) {
    return (BucketStorage)
        Proxy.newProxyInstance(
            BucketStorage.class.getClassLoader(),
            new Class<?>[] {BucketStorage.class},
            (self, method, args) -> {
              Object result = invoke(delegate, method, args);
              if (!method.getName().equals("openWriter")) {
                return result;
              }
              BucketStorageWriter writer = (BucketStorageWriter) result;
              return Proxy.newProxyInstance(
                  BucketStorageWriter.class.getClassLoader(),
                  new Class<?>[] {BucketStorageWriter.class},
                  (w, m, a) -> {
                    if (m.getName().equals("commit") && commits.incrementAndGet() == 2) {
                      release.await();
                    }
                    return invoke(writer, m, a);
                  });
            });
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
