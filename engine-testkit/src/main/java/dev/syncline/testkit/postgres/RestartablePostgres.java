package dev.syncline.testkit.postgres;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.testkit.Await;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * An embedded Postgres (logical replication on) of the test's own, which the test can stop, start
 * and restart as an operator would, to see how the code under test lives through it. Linux and
 * macOS.
 *
 * <pre>{@code
 * try (RestartablePostgres pg = RestartablePostgres.start()) {
 *   ... // connect to pg.jdbcUrl() as pg.user()
 *   Duration took = pg.restart();
 * }
 * }</pre>
 *
 * <p>A restart is what {@code pg_ctl restart -m fast} does (pg_ctl itself refuses to run as root,
 * as tests may): SIGINT to the postmaster (a fast shutdown: sessions are ended, a shutdown
 * checkpoint written), wait until it has exited, start it again with the options it recorded. Not
 * thread-safe: one thread drives it.
 */
public final class RestartablePostgres implements AutoCloseable {
  private static final Duration WAIT = Duration.ofMinutes(2);
  private final EmbeddedPostgres embedded;
  private final String dataDirectory;
  private final Path log;
  private boolean running = true;

  private RestartablePostgres(EmbeddedPostgres embedded, String dataDirectory, Path log) {
    this.embedded = embedded;
    this.dataDirectory = dataDirectory;
    this.log = log;
  }

  /**
   * Starts a new server on a free port, with a fresh data directory (removed by {@link #close()}).
   */
  public static RestartablePostgres start() {
    try {
      EmbeddedPostgres pg =
          EmbeddedPostgres.builder()
              .setServerConfig("wal_level", "logical")
              .setServerConfig("max_replication_slots", "20")
              .setServerConfig("max_wal_senders", "20")
              .setServerConfig("fsync", "off")
              .start();
      String dir;
      try (Connection c = pg.getPostgresDatabase().getConnection();
          Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SHOW data_directory")) {
        r.next();
        dir = r.getString(1);
      }
      return new RestartablePostgres(pg, dir, Files.createTempFile("syncline-postgres-", ".log"));
    } catch (IOException | SQLException e) {
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "cannot start the embedded Postgres: " + e.getMessage(), e);
    }
  }

  /** The JDBC URL of its {@code postgres} database. */
  public String jdbcUrl() {
    return jdbcUrl("postgres");
  }

  /** The JDBC URL of one of its databases (create it first, e.g. {@code CREATE DATABASE other}). */
  public String jdbcUrl(String database) {
    return embedded.getJdbcUrl("postgres", database);
  }

  /** The superuser tests connect as (no password). */
  public String user() {
    return "postgres";
  }

  /** A data source on its {@code postgres} database; a new connection per call, none pooled. */
  public DataSource dataSource() {
    return dataSource("postgres");
  }

  /** A data source on one of its databases; a new connection per call, none pooled. */
  public DataSource dataSource(String database) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(jdbcUrl(database));
    ds.setUser(user());
    return ds;
  }

  /** The server's log after the first restart (the output of the servers this class started). */
  public Path log() {
    return log;
  }

  /**
   * Restarts the server (fast shutdown, then start) and returns the time from the signal to
   * accepting connections.
   */
  public Duration restart() {
    long start = System.nanoTime();
    stop();
    startAgain();
    return Duration.ofNanos(System.nanoTime() - start);
  }

  /** A fast shutdown; returns once the postmaster has exited (at most two minutes, else fails). */
  public void stop() {
    if (!running) {
      return;
    }
    try {
      long pid =
          Long.parseLong(
              Files.readAllLines(Path.of(dataDirectory, "postmaster.pid")).get(0).trim());
      ProcessHandle postmaster = ProcessHandle.of(pid).orElse(null);
      if (postmaster != null) {
        if (new ProcessBuilder("kill", "-INT", Long.toString(pid)).start().waitFor() != 0) {
          throw new IllegalStateException("could not signal the postmaster " + pid);
        }
        postmaster.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      }
      running = false;
    } catch (Exception e) {
      throw new IllegalStateException("Postgres did not stop within " + WAIT + ": " + e, e);
    }
  }

  /**
   * Starts the stopped server again with its recorded options; returns once it accepts connections.
   */
  public void startAgain() {
    if (running) {
      return;
    }
    try {
      List<String> command = new ArrayList<>();
      if (isRoot()) {
        command.addAll(
            List.of("unshare", "-U")); // Postgres refuses root; as the embedded server is started
      }
      command.addAll(postmasterOptions());
      new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
      Await.until(WAIT, this::accepts, "Postgres to start (its log: " + log + ")");
      running = true;
    } catch (IOException e) {
      throw new IllegalStateException("cannot start Postgres: " + e, e);
    }
  }

  private boolean accepts() {
    try (Connection c = dataSource().getConnection()) {
      return c.isValid(1);
    } catch (SQLException e) {
      return false;
    }
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** The postmaster's command line as it recorded it in {@code postmaster.opts}. */
  private List<String> postmasterOptions() throws IOException {
    String line = Files.readString(Path.of(dataDirectory, "postmaster.opts")).trim();
    List<String> words = new ArrayList<>();
    Matcher m = Pattern.compile("\"([^\"]*)\"|(\\S+)").matcher(line);
    while (m.find()) {
      words.add(m.group(1) != null ? m.group(1) : m.group(2));
    }
    return words;
  }

  /** Stops the server and removes its data. */
  @Override
  public void close() throws IOException {
    if (running && Files.exists(Path.of(dataDirectory, "postmaster.pid"))) {
      stop();
    }
    embedded.close();
    Files.deleteIfExists(log);
  }
}
