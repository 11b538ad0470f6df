package dev.syncline.testkit.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpType;
import dev.syncline.api.TableRef;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.CurrentRow;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.Placement;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.testkit.postgres.TestPostgres;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * On Postgres, what no checkpoint covers yet (batches without a position, snapshot progress) is committed without
 * waiting for its WAL flush; every commit that carries a position waits for it, and so makes the earlier ones
 * durable too. Checked on the SQL each committed transaction ran.
 */
class JdbcBucketStorageFlushTest {
  @RegisterExtension
  static final TestPostgres POSTGRES = new TestPostgres();

  private static final TableRef ITEMS = TableRef.of("public", "items");
  private static final String DEFERRED = "synchronous_commit = off";

  /** The statements of each committed transaction, in commit order. */
  private final List<List<String>> committed = Collections.synchronizedList(new ArrayList<>());

  @Test
  void only_commits_without_a_position_defer_their_flush() {
    try (JdbcBucketStorage storage = JdbcBucketStorage.builder(recording(POSTGRES.dataSource()))
        .tablePrefix("f_").build()) {
      long version = storage.addRulesVersion("bucket_definitions: {}").id();
      try (BucketStorageWriter w = storage.openWriter(version)) {
        committed.clear();
        w.commit(batch(0, 10, null));
        assertThat(committed).hasSize(1).allSatisfy(tx -> assertThat(tx).anyMatch(sql -> sql.contains(DEFERRED)));

        committed.clear();
        w.commit(batch(10, 2_010, null)); // large: ops and rows on two connections
        assertThat(committed).hasSize(2).allSatisfy(tx -> assertThat(tx).anyMatch(sql -> sql.contains(DEFERRED)));

        committed.clear();
        w.setSnapshotProgress(ITEMS, "[2010]");
        assertThat(committed).hasSize(1).allSatisfy(tx -> assertThat(tx).anyMatch(sql -> sql.contains(DEFERRED)));

        committed.clear();
        w.commit(batch(2_010, 2_020, "0001"));
        w.commit(batch(2_020, 4_020, "0002"));
        w.commit(WriteBatch.keepalive("0003"));
        assertThat(committed).hasSize(3).allSatisfy(tx -> {
          assertThat(tx).anyMatch(sql -> sql.contains("checkpoint_position"));
          assertThat(tx).noneMatch(sql -> sql.contains("synchronous_commit"));
        });
      }
    }
  }

  private static WriteBatch batch(int from, int to, String position) {
    List<NewOp> ops = IntStream.range(from, to).mapToObj(i -> new NewOp("global[]", OpType.PUT, "items",
        Integer.toString(i), "s" + i, "{}", i)).toList();
    List<CurrentRow> rows = IntStream.range(from, to).mapToObj(i -> new CurrentRow(new SourceKey(ITEMS,
        "[" + i + "]"), null, List.of(new Placement("global[]", "items", Integer.toString(i), i)), List.of()))
        .toList();
    return new WriteBatch(ops, rows, List.of(), List.of(), position, Set.of());
  }

  /** A data source whose connections note the SQL they prepare and hand each committed transaction's to us. */
  private DataSource recording(DataSource target) {
    return (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
        (proxy, method, args) -> {
          Object result = invoke(target, method, args);
          if (!(result instanceof Connection connection)) {
            return result;
          }
          List<String> statements = new ArrayList<>();
          return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
              (p, m, a) -> {
                switch (m.getName()) {
                  case "prepareStatement", "prepareCall" -> statements.add(((String) a[0]).toLowerCase());
                  case "commit" -> {
                    Object r = invoke(connection, m, a);
                    committed.add(List.copyOf(statements));
                    statements.clear();
                    return r;
                  }
                  case "rollback", "close" -> statements.clear();
                  default -> { }
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
