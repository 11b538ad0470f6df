package dev.syncline.testkit.storage;

import static dev.syncline.testkit.storage.ItemBatches.ITEMS;
import static dev.syncline.testkit.storage.ItemBatches.puts;
import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.testkit.postgres.TestPostgres;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * On Postgres, what no checkpoint covers yet (batches without a position, snapshot progress) is
 * committed without waiting for its WAL flush; every commit that carries a position waits for it,
 * and so makes the earlier ones durable too. Checked on the SQL each committed transaction ran.
 */
class JdbcBucketStorageFlushTest {
  @RegisterExtension static final TestPostgres POSTGRES = new TestPostgres();

  private static final String DEFERRED = "synchronous_commit = off";

  /** The statements of each committed transaction, in commit order. */
  private final List<List<String>> committed = Collections.synchronizedList(new ArrayList<>());

  @Test
  void only_commits_without_a_position_defer_their_flush() {
    try (JdbcBucketStorage storage =
        JdbcBucketStorage.builder(recording(POSTGRES.dataSource())).tablePrefix("f_").build()) {
      long version = storage.addRulesVersion("bucket_definitions: {}").id();
      try (BucketStorageWriter w = storage.openWriter(version)) {
        committed.clear();
        w.commit(puts(0, 10, 1, null, false));
        assertThat(committed)
            .hasSize(1)
            .allSatisfy(tx -> assertThat(tx).anyMatch(sql -> sql.contains(DEFERRED)));

        committed.clear();
        w.commit(puts(10, 2_010, 1, null, false)); // large: ops and rows on two connections
        assertThat(committed)
            .hasSize(2)
            .allSatisfy(tx -> assertThat(tx).anyMatch(sql -> sql.contains(DEFERRED)));

        committed.clear();
        w.setSnapshotProgress(ITEMS, "[2010]");
        assertThat(committed)
            .hasSize(1)
            .allSatisfy(tx -> assertThat(tx).anyMatch(sql -> sql.contains(DEFERRED)));

        committed.clear();
        w.commit(puts(2_010, 2_020, 1, "0001", false));
        w.commit(puts(2_020, 4_020, 1, "0002", false));
        w.commit(WriteBatch.keepalive("0003"));
        assertThat(committed)
            .hasSize(3)
            .allSatisfy(
                tx -> {
                  assertThat(tx).anyMatch(sql -> sql.contains("checkpoint_position"));
                  assertThat(tx).noneMatch(sql -> sql.contains("synchronous_commit"));
                });
      }
    }
  }

  /**
   * A data source whose connections note the SQL they prepare and hand each committed transaction's
   * to us.
   */
  private DataSource recording(DataSource target) {
    return (DataSource)
        Proxy.newProxyInstance(
            getClass().getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              Object result = invoke(target, method, args);
              if (!(result instanceof Connection connection)) {
                return result;
              }
              List<String> statements = new ArrayList<>();
              return Proxy.newProxyInstance(
                  getClass().getClassLoader(),
                  new Class<?>[] {Connection.class},
                  (p, m, a) -> {
                    switch (m.getName()) {
                      case "prepareStatement", "prepareCall" ->
                          statements.add(((String) a[0]).toLowerCase(Locale.ROOT));
                      case "commit" -> {
                        Object r = invoke(connection, m, a);
                        committed.add(List.copyOf(statements));
                        statements.clear();
                        return r;
                      }
                      case "rollback", "close" -> statements.clear();
                      default -> {}
                    }
                    return invoke(connection, m, a);
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
