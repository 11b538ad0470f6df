package dev.syncline.testkit.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpType;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.postgres.TestPostgres;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Engine instances sharing one storage database learn of each other's checkpoints: through Postgres
 * notifications, and through polling on H2.
 */
class CrossInstanceCheckpointTest {
  @RegisterExtension static final TestPostgres POSTGRES = new TestPostgres();

  static final String DATA = "{\"id\":\"t1\"}";

  private static void assertSecondInstanceSeesFirstInstancesCommits(DataSource ds, Duration poll)
      throws Exception {
    try (JdbcBucketStorage writerInstance =
            JdbcBucketStorage.builder(ds).pollInterval(poll).build();
        JdbcBucketStorage readerInstance =
            JdbcBucketStorage.builder(ds).pollInterval(poll).build()) {
      long version = writerInstance.addRulesVersion("rules").id();
      BlockingQueue<Checkpoint> seen = new LinkedBlockingQueue<>();
      try (AutoCloseable watch = readerInstance.watchCheckpoints(version, seen::add);
          BucketStorageWriter w = writerInstance.openWriter(version)) {
        Checkpoint c =
            w.commit(
                    new WriteBatch(
                        List.of(
                            new NewOp(
                                "b",
                                OpType.PUT,
                                "t",
                                "t1",
                                "s1",
                                DATA,
                                OpChecksums.put("t", "t1", DATA))),
                        List.of(),
                        List.of(),
                        List.of(),
                        "0001"))
                .orElseThrow();
        assertThat(seen.poll(30, TimeUnit.SECONDS)).isEqualTo(c);
      }
    }
  }

  @Test
  void postgres_instances_are_notified() throws Exception {
    // A long poll interval: only the notification can deliver within the wait.
    assertSecondInstanceSeesFirstInstancesCommits(POSTGRES.dataSource(), Duration.ofMinutes(5));
  }

  @Test
  void closing_ends_the_watcher_that_waits_for_notifications() throws Exception {
    JdbcBucketStorage storage =
        JdbcBucketStorage.builder(POSTGRES.dataSource()).tablePrefix("closing_").build();
    long version = storage.addRulesVersion("rules").id();
    try (AutoCloseable watch = storage.watchCheckpoints(version, c -> {})) {
      Thread watcher = watcherThread();
      // Wait until it waits for notifications, which no interrupt ends.
      Await.until(
          () ->
              watcher.getState() == Thread.State.RUNNABLE
                  && Arrays.stream(watcher.getStackTrace())
                      .anyMatch(f -> f.getMethodName().equals("getNotifications")),
          "the watcher to wait for notifications");
      storage.close();
      assertThat(watcher.isAlive()).as("the watcher ended before close() returned").isFalse();
    }
  }

  private static Thread watcherThread() {
    Await.until(() -> findWatcher().isPresent(), "the watcher thread to start");
    return findWatcher().orElseThrow();
  }

  private static Optional<Thread> findWatcher() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("syncline-checkpoint-watcher-closing_") && t.isAlive())
        .findFirst();
  }

  @Test
  void h2_instances_poll() throws Exception {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:shared-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    assertSecondInstanceSeesFirstInstancesCommits(ds, Duration.ofMillis(50));
  }
}
