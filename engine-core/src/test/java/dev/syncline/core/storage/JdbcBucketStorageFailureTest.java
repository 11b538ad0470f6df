package dev.syncline.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SynclineException;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.WriteBatch;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

/**
 * A storage failure in the middle of a batch leaves nothing of it visible, and the storage carries
 * on afterwards.
 */
class JdbcBucketStorageFailureTest {
  /** A data source whose connections fail once the countdown reaches zero. */
  static final class FailingDataSource implements DataSource {
    final JdbcDataSource delegate = new JdbcDataSource();
    final AtomicInteger statementsLeft = new AtomicInteger(Integer.MAX_VALUE);

    FailingDataSource() {
      delegate.setURL("jdbc:h2:mem:fail-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    }

    @Override
    public Connection getConnection() throws SQLException {
      Connection real = delegate.getConnection();
      return (Connection)
          Proxy.newProxyInstance(
              Connection.class.getClassLoader(),
              new Class<?>[] {Connection.class},
              (proxy, method, args) -> {
                if (method.getName().startsWith("prepare")
                    && statementsLeft.decrementAndGet() < 0) {
                  throw new SQLException("connection lost (simulated)");
                }
                try {
                  return method.invoke(real, args);
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                }
              });
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      return getConnection();
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
      throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return false;
    }
  }

  static List<NewOp> ops(String prefix, int n) {
    List<NewOp> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String data = "{\"id\":\"" + prefix + i + "\"}";
      ops.add(
          new NewOp(
              "b",
              OpType.PUT,
              "t",
              prefix + i,
              "s" + prefix + i,
              data,
              OpChecksums.put("t", prefix + i, data)));
    }
    return ops;
  }

  @Test
  void a_connection_failure_mid_batch_leaves_nothing_half_visible() {
    FailingDataSource ds = new FailingDataSource();
    JdbcBucketStorage storage = JdbcBucketStorage.builder(ds).build();
    long version = storage.addRulesVersion("rules").id();
    try (BucketStorageWriter w = storage.openWriter(version)) {
      Checkpoint first =
          w.commit(new WriteBatch(ops("a", 10), List.of(), List.of(), List.of(), "0001"))
              .orElseThrow();
      // 1,200 ops are inserted in three statements; the connection dies at the second.
      ds.statementsLeft.set(2);
      assertThatThrownBy(
              () ->
                  w.commit(new WriteBatch(ops("b", 1200), List.of(), List.of(), List.of(), "0002")))
          .isInstanceOfSatisfying(
              SynclineException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.STORAGE_FAILED));
      ds.statementsLeft.set(Integer.MAX_VALUE);
      assertThat(storage.latestCheckpoint(version)).contains(first);
      assertThat(storage.ops(version, "b", OpId.ZERO, new OpId(Long.MAX_VALUE), 10_000))
          .hasSize(10);

      Checkpoint retried =
          w.commit(new WriteBatch(ops("b", 1200), List.of(), List.of(), List.of(), "0002"))
              .orElseThrow();
      List<OpRecord> all = storage.ops(version, "b", OpId.ZERO, retried.opId(), 10_000);
      assertThat(all).hasSize(1210);
      assertThat(all.get(10).opId().value()).isEqualTo(first.opId().value() + 1);
    }
  }
}
