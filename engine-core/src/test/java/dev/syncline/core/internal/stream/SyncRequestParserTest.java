package dev.syncline.core.internal.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.stream.SyncRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SyncRequestParserTest {
  static final AuthContext AUTH =
      new AuthContext(Map.of("sub", "u1"), Instant.parse("2026-11-24T13:00:00Z"));

  static SyncRequest parse(String json) {
    return SyncRequestParser.parse(json.getBytes(StandardCharsets.UTF_8), AUTH);
  }

  @Test
  void parses_the_request_the_official_client_sends() {
    SyncRequest r =
        parse(
            """
        {"buckets":[{"name":"1#mybucket[]","after":"2"}],"include_checksum":true,"raw_data":true,
         "binary_data":true,"client_id":"c-1","parameters":null,
         "streams":{"include_defaults":true,"subscriptions":[]},"app_metadata":{"v":"1"},"unknown":42}
        """);
    assertThat(r.buckets()).containsEntry("1#mybucket[]", new OpId(2));
    assertThat(r.clientId()).isEqualTo("c-1");
    assertThat(r.rawData()).isTrue();
    assertThat(r.request().clientParameters()).isEmpty();
    assertThat(r.request().claims()).containsEntry("sub", "u1");
  }

  @Test
  void subscriptions_and_parameters_are_kept() {
    SyncRequest r =
        parse(
            """
        {"parameters":{"project":"p1"},"streams":{"include_defaults":false,"subscriptions":[
          {"stream":"list_todos","parameters":{"list":"l1"},"override_priority":1},
          {"stream":"all","parameters":null,"override_priority":null}]}}
        """);
    assertThat(r.request().clientParameters()).containsEntry("project", "p1");
    assertThat(r.request().includeDefaults()).isFalse();
    assertThat(r.request().subscriptions()).hasSize(2);
    assertThat(r.request().subscriptions().get(0).overridePriority()).isEqualTo(1);
    assertThat(r.request().subscriptions().get(1).parameters()).isEmpty();
  }

  @Test
  void malformed_bodies_are_invalid_requests_listing_every_problem() {
    for (String bad :
        new String[] {
          "not json",
          "[1]",
          "{\"buckets\":{}}",
          "{\"buckets\":[{\"name\":1}]}",
          "{\"buckets\":[{\"name\":\"b\",\"after\":\"x\"}]}",
          "{\"parameters\":[1]}",
          "{\"client_id\":5}",
          "{\"streams\":{\"subscriptions\":[{\"stream\":\"s\"}]}}",
          "{\"a\":1,\"a\":2}"
        }) {
      assertThatThrownBy(() -> parse(bad))
          .as(bad)
          .isInstanceOfSatisfying(
              SynclineException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
    }
    assertThatThrownBy(() -> parse("{\"raw_data\":\"yes\",\"client_id\":5}"))
        .hasMessageContaining("raw_data must be a boolean")
        .hasMessageContaining("client_id must be a string");
    assertThatThrownBy(
            () -> SyncRequestParser.parse(new byte[SyncRequestParser.MAX_BODY_BYTES + 1], AUTH))
        .hasMessageContaining("larger than");
  }

  /**
   * A request with many mistakes gets the first ten and a count: its answer stays small however
   * large it is.
   */
  @Test
  void many_problems_are_listed_ten_and_counted() {
    StringBuilder body = new StringBuilder("{\"buckets\":[");
    for (int i = 0; i < 50_000; i++) {
      body.append(i == 0 ? "" : ",").append(i);
    }
    body.append("],\"client_id\":\"").append("c".repeat(200)).append("\"}");
    assertThatThrownBy(
            () -> SyncRequestParser.parse(body.toString().getBytes(StandardCharsets.UTF_8), AUTH))
        .isInstanceOfSatisfying(
            SynclineException.class,
            e -> {
              assertThat(e.getMessage())
                  .contains("buckets[9] must be")
                  .doesNotContain("buckets[10]")
                  .endsWith("; and 49991 more problems");
              assertThat(ErrorEnvelope.of(e).length()).isLessThan(1_000);
            });
    assertThat(ErrorEnvelope.of(ErrorCode.INVALID_REQUEST, "x".repeat(100_000)).length())
        .as("any description is cut")
        .isLessThan(ErrorEnvelope.MAX_DESCRIPTION + 200);
    assertThat(
            ErrorEnvelope.of(
                ErrorCode.INVALID_REQUEST, "x".repeat(ErrorEnvelope.MAX_DESCRIPTION - 2) + "😀😀"))
        .as("never half a character")
        .doesNotContain("\\ud83d\"")
        .contains("\u2026");
  }

  @Test
  void errors_become_the_protocols_envelope_without_internals() {
    assertThat(ErrorEnvelope.of(new SynclineException(ErrorCode.AUTH_EXPIRED, "JWT has expired")))
        .isEqualTo(
            "{\"error\":{\"name\":\"AuthorizationError\",\"code\":\"PSYNC_S2103\",\"status\":401,"
                + "\"description\":\"JWT has expired\"}}");
    assertThat(ErrorEnvelope.of(new IllegalStateException("secret internals")))
        .isEqualTo(
            "{\"error\":{\"name\":\"ServiceError\",\"code\":\"PSYNC_S0001\",\"status\":500,"
                + "\"description\":\"Internal error\"}}");
  }
}
