package dev.syncline.examples.todo;

import dev.syncline.api.rules.SyncRulesSource;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * Runs the todo server until Ctrl-C: {@code [--port N] [--data-dir DIR] [--jdbc-url URL] [--dev]
 * [--demo] [--streams | --rules FILE]}, or the environment variables {@code PORT}, {@code
 * SYNCLINE_DATA_DIR} and {@code DATABASE_URL} (with {@code DATABASE_USER}, {@code
 * DATABASE_PASSWORD}: an existing Postgres with {@code wal_level=logical} instead of the embedded
 * one; several servers on one database share the work: one replicates, all serve). {@code --dev}
 * (or {@code -Dtodo.dev=true}, which the Maven run sets) turns on the development token endpoint;
 * {@code --demo} also writes changes continuously to a list of user {@code demo}, so that a
 * connected client shows them arriving. {@code --streams} serves the bundled Sync Streams version
 * of the rules (open the page with {@code ?streams=1}); {@code --rules FILE} serves your own rules
 * file.
 */
public final class Main {
  private Main() {}

  /** Entry point. */
  public static void main(String[] args) throws Exception {
    System.setProperty("org.jooq.no-logo", "true"); // the app's choice: a quiet console
    System.setProperty("org.jooq.no-tips", "true");
    int port = intOr(System.getenv("PORT"), 8080);
    String dir = System.getenv("SYNCLINE_DATA_DIR");
    boolean dev = Boolean.getBoolean("todo.dev");
    boolean demo = false;
    String jdbcUrl = System.getenv("DATABASE_URL");
    String dbUser = System.getenv().getOrDefault("DATABASE_USER", "postgres");
    String dbPassword = System.getenv().getOrDefault("DATABASE_PASSWORD", "");
    SyncRulesSource rules = null;
    String slotPrefix = "todo_sync";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--port" -> port = intOr(value(args, ++i, "--port"), -1);
        case "--data-dir" -> dir = value(args, ++i, "--data-dir");
        case "--dev" -> dev = true;
        case "--jdbc-url" -> jdbcUrl = value(args, ++i, "--jdbc-url");
        case "--db-user" -> dbUser = value(args, ++i, "--db-user");
        case "--db-password" -> dbPassword = value(args, ++i, "--db-password");
        case "--demo", "demo" -> demo = true;
        case "--slot-prefix" -> slotPrefix = value(args, ++i, "--slot-prefix");
        case "--streams" -> rules = TodoServer.streamsRules();
        case "--rules" -> {
          Path file = Path.of(value(args, ++i, "--rules"));
          try {
            rules = SyncRulesSource.ofFile(file);
          } catch (RuntimeException e) {
            fail("cannot read the rules file " + file.toAbsolutePath() + ": " + e.getMessage());
          }
        }
        case "--help", "-h" -> {
          System.out.println(
              "usage: todo-server [--port N] [--data-dir DIR] [--jdbc-url URL [--db-user U] "
                  + "[--db-password P] [--slot-prefix NAME]] [--dev] [--demo] [--streams | --rules FILE]");
          return;
        }
        default -> fail("unknown argument " + args[i] + " (try --help)");
      }
    }
    if (port < 0 || port > 65_535) {
      fail("the port must be a number from 0 to 65535");
    }
    Path dataDir = dir == null || dir.isBlank() ? null : Path.of(dir).toAbsolutePath();
    TodoServer server;
    try {
      TodoServer.Config config =
          jdbcUrl == null || jdbcUrl.isBlank()
              ? TodoServer.Config.embedded(port, dataDir, dev)
              : TodoServer.Config.external(port, jdbcUrl, dbUser, dbPassword, dev, slotPrefix);
      server = TodoServer.start(rules == null ? config : config.withRules(rules));
    } catch (BindException e) {
      fail("port " + port + " is in use: pass --port <n> (or set PORT), 0 for any free port");
      return;
    } catch (IOException | SQLException | RuntimeException e) {
      fail(
          "cannot start: "
              + e.getMessage()
              + (dataDir == null ? "" : " (data directory " + dataDir + ")"));
      return;
    }
    DemoWriter writer = demo ? DemoWriter.start(server.dataSource()) : null;
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  if (writer != null) {
                    writer.close();
                  }
                  server.close();
                  stopped.countDown();
                },
                "todo-shutdown"));
    System.out.println("sync endpoint: " + server.baseUri());
    if (rules != null && rules.origin().equals("todo/sync-streams.yaml")) {
      System.out.println("page: " + server.baseUri() + "?streams=1 (the Sync Streams rules)");
    }
    System.out.println(
        "postgres: "
            + server.jdbcUrl()
            + (jdbcUrl == null || jdbcUrl.isBlank() ? "?user=postgres" : ""));
    if (dev) {
      System.out.println("dev token: " + server.devTokenUri() + "?user=<id>");
    }
    if (demo) {
      System.out.println(
          "demo: writing changes to a list of user 'demo' (get a token with ?user=demo)");
    }
    if (jdbcUrl == null || jdbcUrl.isBlank()) {
      System.out.println(
          "data: " + (dataDir == null ? "temporary (set SYNCLINE_DATA_DIR to keep it)" : dataDir));
    }
    System.out.println("press Ctrl-C to stop");
    stopped.await();
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      fail(flag + " needs a value");
    }
    return args[i];
  }

  private static int intOr(@Nullable String s, int fallback) {
    if (s == null || s.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static void fail(String message) {
    System.err.println("todo-server: " + message);
    System.exit(2);
  }
}
