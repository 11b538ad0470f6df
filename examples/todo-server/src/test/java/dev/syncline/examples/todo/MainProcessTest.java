package dev.syncline.examples.todo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.testkit.ProtocolClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's main job as a process: it prints the sync endpoint, the database and the token
 * endpoint on their own lines, serves, writes demo changes with {@code --demo}, and stops cleanly
 * on SIGTERM (what Ctrl-C's SIGINT also triggers: the shutdown hook).
 */
class MainProcessTest {
  @Test
  void printsItsEndpointsServesAndStopsCleanly(@TempDir Path dir) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "--port",
                "0",
                "--dev",
                "--demo")
            .redirectErrorStream(true);
    pb.environment().put("SYNCLINE_DATA_DIR", dir.toString());
    Process p = pb.start();
    List<String> output = new CopyOnWriteArrayList<>();
    Thread drain = null;
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String sync = null;
      String postgres = null;
      String token = null;
      String line;
      while ((line = out.readLine()) != null) {
        output.add(line);
        if (line.startsWith("sync endpoint: ")) {
          sync = line.substring("sync endpoint: ".length());
        } else if (line.startsWith("postgres: ")) {
          postgres = line.substring("postgres: ".length());
        } else if (line.startsWith("dev token: ")) {
          token = line.substring("dev token: ".length());
        } else if (line.startsWith("press Ctrl-C")) {
          break;
        }
      }
      assertThat(sync).as("%s", output).matches("http://127\\.0\\.0\\.1:[0-9]+");
      assertThat(postgres).startsWith("jdbc:postgresql://localhost:");
      assertThat(token).isEqualTo(sync + "/dev/token?user=<id>");
      drain = new Thread(() -> out.lines().forEach(output::add));
      drain.setDaemon(true);
      drain.start();

      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(token.replace("<id>", "demo"))).build(),
                  HttpResponse.BodyHandlers.ofString());
      String jwt = new ObjectMapper().readTree(r.body()).get("token").asText();
      try (ProtocolClient demo = ProtocolClient.connect(URI.create(sync), jwt)) {
        // The demo writer keeps adding todos to the demo user's list: they stream in.
        TodoServerTest.await(
            () -> demo.table("todos").size() >= 3, "demo changes stream to the client");
        int seen = demo.completedCheckpoints();
        TodoServerTest.await(() -> demo.completedCheckpoints() > seen + 2, "and keep coming");
      }
    } finally {
      p.destroy(); // SIGTERM: the shutdown hook closes the server, the engine and Postgres
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("stopped in time; output %s", output).isTrue();
    if (drain != null) {
      drain.join(10_000);
    }
    assertThat(output).noneMatch(l -> l.contains("Exception"));
    // The embedded Postgres stopped with it: its lock file is gone.
    assertThat(dir.resolve("postgres/postmaster.pid")).doesNotExist();
  }
}
