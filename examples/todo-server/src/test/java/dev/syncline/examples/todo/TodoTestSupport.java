package dev.syncline.examples.todo;

import dev.syncline.testkit.Await;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;

/** What the todo server's tests share: waiting for a condition, counting rows. */
final class TodoTestSupport {
  static final Duration WAIT = Duration.ofSeconds(60);

  private TodoTestSupport() {}

  /** Waits until {@code condition} holds, at most {@link #WAIT}. */
  static void await(BooleanSupplier condition, String what) {
    Await.until(WAIT, condition, what);
  }

  /** The single number {@code query} answers. */
  static long count(DataSource dataSource, String query) {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
