package dev.syncline.core.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpType;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.WriteBatch;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link SyncService} with a recording sink: flushing and token expiry, without HTTP. */
class SyncServiceTest {
  static final SyncRules RULES =
      SyncRulesCompiler.compile(
          SyncRulesSource.ofYaml(
              "bucket_definitions:\n  global:\n    data:\n      - SELECT * FROM todos\n",
              "rules.yaml"));

  InMemoryBucketStorage storage = new InMemoryBucketStorage();
  ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);
  long version;
  BucketStorageWriter writer;
  long position;

  @BeforeEach
  void setUp() {
    version = storage.addRulesVersion("rules").id();
    writer = storage.openWriter(version);
  }

  @AfterEach
  void tearDown() {
    scheduler.shutdownNow();
    writer.close();
  }

  void put(String id) {
    String data = "{\"id\":\"" + id + "\"}";
    writer.commit(
        new WriteBatch(
            List.of(
                new NewOp(
                    "global[]",
                    OpType.PUT,
                    "todos",
                    id,
                    id,
                    data,
                    OpChecksums.put("todos", id, data))),
            List.of(),
            List.of(),
            List.of(),
            String.format("%016x", ++position)));
  }

  SyncService service(Duration tokenLeft) {
    return SyncService.builder()
        .rules(RULES)
        .storage(storage, version)
        .scheduler(scheduler)
        .tokenVerifier(t -> new AuthContext(Map.of("sub", "u1"), Instant.now().plus(tokenLeft)))
        .build();
  }

  /** Records lines as written and as flushed. */
  static final class RecordingSink implements LineSink {
    final List<String> flushed = new ArrayList<>();
    final List<String> unflushed = new ArrayList<>();
    boolean closed;

    @Override
    public synchronized void send(byte[] line) {
      write(line);
      flush();
    }

    @Override
    public synchronized void write(byte[] line) {
      unflushed.add(new String(line, StandardCharsets.UTF_8).strip());
    }

    @Override
    public synchronized void flush() {
      flushed.addAll(unflushed);
      unflushed.clear();
      notifyAll();
    }

    @Override
    public synchronized void close() {
      closed = true;
      notifyAll();
    }

    synchronized void awaitFlushed(String prefix, int count) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (flushed.stream().filter(l -> l.startsWith(prefix)).count() < count) {
        long left = deadline - System.nanoTime();
        assertThat(left).as("waiting for %s × %s in %s", count, prefix, flushed).isPositive();
        wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
      }
    }

    synchronized void awaitClosed() throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!closed) {
        long left = deadline - System.nanoTime();
        assertThat(left).as("waiting for the stream to end; lines %s", flushed).isPositive();
        wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
      }
    }
  }

  @Test
  void every_line_of_a_checkpoint_is_flushed_by_the_end_of_its_run() throws Exception {
    put("a");
    RecordingSink sink = new RecordingSink();
    try (SyncService service = service(Duration.ofHours(1))) {
      service.openStream("Token x", "{\"raw_data\":true}".getBytes(StandardCharsets.UTF_8), sink);
      sink.awaitFlushed("{\"checkpoint_complete\"", 1);
      put("b");
      sink.awaitFlushed("{\"checkpoint_complete\"", 2);
      synchronized (sink) {
        assertThat(sink.flushed).first().asString().startsWith("{\"checkpoint\":");
        assertThat(sink.flushed).anyMatch(l -> l.startsWith("{\"checkpoint_diff\":"));
        assertThat(sink.flushed).filteredOn(l -> l.startsWith("{\"data\":")).hasSize(2);
      }
    }
  }

  /**
   * A stream starts from the storage's latest checkpoint, not from the last one this service was
   * told of: told late (another instance's commit, the notification not yet here), it would serve a
   * checkpoint older than what a client reconnecting from that instance holds, whose checksum
   * cannot match.
   */
  @Test
  void a_new_stream_starts_from_the_storages_latest_checkpoint_even_when_told_of_it_late()
      throws Exception {
    put("a");
    // A storage whose checkpoint notifications never arrive: the service knows only the checkpoint
    // it read at start.
    BucketStorage late =
        (BucketStorage)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {BucketStorage.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("watchCheckpoints")) {
                    return (AutoCloseable) () -> {};
                  }
                  try {
                    return method.invoke(storage, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    try (SyncService service =
        SyncService.builder()
            .rules(RULES)
            .storage(late, version)
            .scheduler(scheduler)
            .tokenVerifier(
                t -> new AuthContext(Map.of("sub", "u1"), Instant.now().plusSeconds(3600)))
            .build()) {
      put("b");
      put("c");
      RecordingSink sink = new RecordingSink();
      service.openStream(
          "Token x",
          "{\"raw_data\":true,\"buckets\":[{\"name\":\"global[]\",\"after\":\"3\"}]}"
              .getBytes(StandardCharsets.UTF_8),
          sink);
      sink.awaitFlushed("{\"checkpoint_complete\"", 1);
      synchronized (sink) {
        assertThat(sink.flushed)
            .first()
            .asString()
            .startsWith("{\"checkpoint\":{\"last_op_id\":\"3\"");
      }
    }
  }

  @Test
  void a_token_with_less_than_a_second_left_still_gets_its_checkpoint_before_the_stream_ends()
      throws Exception {
    put("a");
    RecordingSink sink = new RecordingSink();
    try (SyncService service = service(Duration.ofMillis(700))) {
      service.openStream("Token x", "{\"raw_data\":true}".getBytes(StandardCharsets.UTF_8), sink);
      sink.awaitClosed();
      synchronized (sink) {
        assertThat(sink.flushed).anyMatch(l -> l.startsWith("{\"checkpoint_complete\""));
        assertThat(sink.flushed).last().isEqualTo("{\"token_expires_in\":0}");
        assertThat(sink.unflushed).isEmpty();
      }
    }
  }

  @Test
  void streams_beyond_the_limit_are_refused_with_429_until_one_closes() throws Exception {
    put("a");
    try (SyncService service =
        SyncService.builder()
            .rules(RULES)
            .storage(storage, version)
            .scheduler(scheduler)
            .maxConcurrentStreams(2)
            .tokenVerifier(t -> new AuthContext(Map.of("sub", t), Instant.now().plusSeconds(3600)))
            .build()) {
      byte[] body = "{\"raw_data\":true}".getBytes(StandardCharsets.UTF_8);
      RecordingSink first = new RecordingSink();
      AutoCloseable one = service.openStream("Token u1", body, first);
      service.openStream("Token u2", body, new RecordingSink());
      RecordingSink refusedSink = new RecordingSink();
      Assertions.assertThatThrownBy(() -> service.openStream("Token u3", body, refusedSink))
          .isInstanceOfSatisfying(
              SynclineException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.TOO_MANY_CONNECTIONS);
                assertThat(e.code().httpStatus()).isEqualTo(429);
              });
      assertThat(refusedSink.flushed).isEmpty();
      one.close();
      RecordingSink third = new RecordingSink();
      service.openStream("Token u3", body, third);
      third.awaitFlushed("{\"checkpoint_complete\"", 1);
      assertThat(service.openStreams()).isEqualTo(2);
    }
  }

  @Test
  void an_expired_token_ends_the_stream_at_once() throws Exception {
    put("a");
    RecordingSink sink = new RecordingSink();
    try (SyncService service = service(Duration.ofMillis(-1))) {
      service.openStream("Token x", "{\"raw_data\":true}".getBytes(StandardCharsets.UTF_8), sink);
      sink.awaitClosed();
      synchronized (sink) {
        assertThat(sink.flushed).last().isEqualTo("{\"token_expires_in\":0}");
        assertThat(sink.flushed).noneMatch(l -> l.startsWith("{\"data\""));
      }
    }
  }
}
