package dev.syncline.examples.todo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * A second source of load: writes to Postgres directly (as another backend service would), twice a
 * second, to a list owned by user {@code demo}: adds todos, completes some, deletes old ones.
 * Clients of user {@code demo} see the changes stream in.
 */
final class DemoWriter implements AutoCloseable {
  private static final String LIST = "00000000-0000-4000-8000-00000000d3e0";
  private final DataSource dataSource;
  private final ScheduledExecutorService thread =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "todo-demo-writer");
            t.setDaemon(true);
            return t;
          });
  private int n;

  private DemoWriter(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  static DemoWriter start(DataSource dataSource) throws SQLException {
    DemoWriter w = new DemoWriter(dataSource);
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO lists (id, name, owner_id) VALUES ('"
              + LIST
              + "', 'Demo list', 'demo') "
              + "ON CONFLICT DO NOTHING");
    }
    ScheduledFuture<?> unused =
        w.thread.scheduleWithFixedDelay(w::step, 500, 500, TimeUnit.MILLISECONDS);
    return w;
  }

  private void step() {
    try (Connection c = dataSource.getConnection()) {
      n++;
      try (PreparedStatement s =
          c.prepareStatement(
              "INSERT INTO todos (description, list_id, created_by) "
                  + "VALUES (?, ?::uuid, 'demo')")) {
        s.setString(1, "Demo item " + n);
        s.setString(2, LIST);
        s.executeUpdate();
      }
      try (Statement s = c.createStatement()) {
        if (ThreadLocalRandom.current().nextBoolean()) {
          s.executeUpdate(
              "UPDATE todos SET completed = true, completed_at = now(), completed_by = 'demo' "
                  + "WHERE id = (SELECT id FROM todos WHERE list_id = '"
                  + LIST
                  + "' AND NOT completed "
                  + "ORDER BY random() LIMIT 1)");
        }
        // Keep the list short.
        s.executeUpdate(
            "DELETE FROM todos WHERE list_id = '"
                + LIST
                + "' AND id NOT IN (SELECT id FROM todos "
                + "WHERE list_id = '"
                + LIST
                + "' ORDER BY created_at DESC LIMIT 20)");
      }
    } catch (SQLException e) {
      System.err.println("demo writer: " + e.getMessage());
    }
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
