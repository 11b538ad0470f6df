package dev.syncline.examples.todo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.testkit.postgres.TestPostgres;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The official PowerSync web SDK ({@code @powersync/web}, unchanged, bundled with Vite into the
 * page the server serves) in headless Chromium: syncs, writes offline, reconnects, uploads, and a
 * second browser context sees the change; then the change is checked in Postgres. Runs {@code
 * web/test/browser.test.mjs} with Node.
 *
 * <p>Needs Node and Chromium ({@code CHROMIUM_PATH}, default {@code /usr/bin/chromium}). Without
 * Chromium the test is skipped, unless {@code SYNCLINE_REQUIRE_BROWSER=true} (set by CI), which
 * makes a missing browser a failure.
 */
class BrowserSdkTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  /**
   * The Chromium to use; aborts the test when there is none, unless {@code
   * SYNCLINE_REQUIRE_BROWSER=true} makes that a failure. Checks the page was built and {@code npm
   * ci} ran.
   */
  static String chromium() {
    String chromium = System.getenv().getOrDefault("CHROMIUM_PATH", "/usr/bin/chromium");
    boolean required = "true".equals(System.getenv("SYNCLINE_REQUIRE_BROWSER"));
    if (!new File(chromium).canExecute()) {
      assertThat(required)
          .as("Chromium is required (SYNCLINE_REQUIRE_BROWSER) but missing at " + chromium)
          .isFalse();
      Assumptions.abort(
          "no Chromium at " + chromium + " (apt-get install chromium, or set CHROMIUM_PATH)");
    }
    assertThat(Path.of("web/node_modules/playwright-core")).as("npm ci ran in the build").exists();
    assertThat(TodoServer.class.getClassLoader().getResource("web/index.html"))
        .as("the page was built")
        .isNotNull();
    return chromium;
  }

  /**
   * Runs a browser test script of {@code web/test} against {@code server}; returns the JSON line it
   * prints.
   */
  static JsonNode runScript(String script, TodoServer server, String chromium) throws Exception {
    Path web = Path.of("web").toAbsolutePath();
    ProcessBuilder pb = new ProcessBuilder("node", "test/" + script).directory(web.toFile());
    pb.environment().put("TODO_SERVER_PORT", String.valueOf(server.baseUri().getPort()));
    pb.environment().put("CHROMIUM_PATH", chromium);
    Path out = Files.createTempFile("browser-test", ".out");
    Path err = Files.createTempFile("browser-test", ".err");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    boolean finished = p.waitFor(5, TimeUnit.MINUTES);
    if (!finished) {
      p.destroyForcibly();
    }
    String stdout = Files.readString(out, StandardCharsets.UTF_8);
    String stderr = Files.readString(err, StandardCharsets.UTF_8);
    assertThat(finished && p.exitValue() == 0).as("%s: %s%n%s", script, stdout, stderr).isTrue();
    String last = stdout.strip().lines().reduce((a, b) -> b).orElse("");
    System.out.println(script + ": " + last);
    return new ObjectMapper().readTree(last);
  }

  @Test
  void theOfficialWebSdkSyncsWritesOfflineAndUploadsOnReconnect() throws Exception {
    String chromium = chromium();
    try (TodoServer server =
        TodoServer.start(
            TodoServer.Config.external(
                0,
                postgres.jdbcUrl(),
                postgres.user(),
                postgres.password(),
                true,
                "todo_browser"))) {
      JsonNode result = runScript("browser.test.mjs", server, chromium);

      // The offline write is in Postgres, once, as the user made it, and completed from the second
      // context.
      try (Connection c = postgres.dataSource().getConnection();
          PreparedStatement s =
              c.prepareStatement(
                  "SELECT t.description, t.created_by, t.completed, l.name, "
                      + "l.owner_id, (SELECT count(*) FROM todos WHERE list_id = l.id) FROM todos t JOIN lists l "
                      + "ON l.id = t.list_id WHERE t.id = ?::uuid")) {
        s.setString(1, result.get("todoId").asText());
        try (ResultSet rs = s.executeQuery()) {
          assertThat(rs.next()).as("the todo is in Postgres").isTrue();
          assertThat(rs.getString(1)).isEqualTo("Buy milk offline");
          assertThat(rs.getString(2)).isEqualTo(result.get("user").asText());
          assertThat(rs.getBoolean(3)).isTrue();
          assertThat(rs.getString(4)).isEqualTo(result.get("listName").asText());
          assertThat(rs.getString(5)).isEqualTo(result.get("user").asText());
          // the offline todo and the long one; B's was deleted from the page
          assertThat(rs.getLong(6)).isEqualTo(2);
        }
      }
    } finally {
      try (Connection c = postgres.dataSource().getConnection()) {
        c.createStatement()
            .execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    + "WHERE slot_name LIKE 'todo_browser%' AND NOT active");
      }
    }
  }
}
