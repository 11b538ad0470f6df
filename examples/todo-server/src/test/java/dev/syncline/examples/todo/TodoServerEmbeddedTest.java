package dev.syncline.examples.todo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.testkit.ProtocolClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's main job: the server on its embedded default, nothing installed; with a data
 * directory, the database and the development key survive a restart.
 */
class TodoServerEmbeddedTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void runsOnItsEmbeddedPostgresAndKeepsItsDataBetweenRuns(@TempDir Path dir) throws Exception {
    String list = UUID.randomUUID().toString();
    String token;
    try (TodoServer server = TodoServer.start(TodoServer.Config.embedded(0, dir, true))) {
      assertThat(server.jdbcUrl()).startsWith("jdbc:postgresql://localhost:");
      token = JSON.readTree(get(server.devTokenUri() + "?user=alice").body()).get("token").asText();
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(server.baseUri().resolve("/api/upload"))
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"client_id\":\"c\",\"transaction_id\":1,\"ops\":[{\"op\":"
                              + "\"PUT\",\"table\":\"lists\",\"id\":\""
                              + list
                              + "\",\"data\":{\"name\":\"Kept\",\"owner_id\":"
                              + "\"alice\"}}]}"))
                  .header("Authorization", "Bearer " + token)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      try (ProtocolClient client = ProtocolClient.connect(server.baseUri(), token)) {
        TodoServerTest.await(() -> client.table("lists").containsKey(list), "the list arrives");
      }
    }
    try (TodoServer again = TodoServer.start(TodoServer.Config.embedded(0, dir, true));
        ProtocolClient client = ProtocolClient.connect(again.baseUri(), token)) {
      client.awaitCheckpoints(1, Duration.ofSeconds(60));
      assertThat(client.table("lists")).containsOnlyKeys(list);
      assertThat(again.engine().health().activeVersion())
          .as("the same rules version, no new snapshot")
          .isEqualTo(1);
    }
  }

  private static HttpResponse<String> get(String uri) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(uri)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
