package dev.syncline.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class StoredRulesTest {
  private static final String A =
      """
      bucket_definitions:
        owned:
          parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
          data:
            - SELECT * FROM lists WHERE id = bucket.list_id
        global:
          data:
            - SELECT * FROM settings
      """;

  @Test
  void theEnginesLineRoundTripsAndIsNotPartOfTheRules() {
    String stored = StoredRules.encode(A, Map.of("owned", 3, "global", 1));
    assertThat(stored)
        .startsWith(A)
        .endsWith("# syncline-bucket-versions: {\"global\":1,\"owned\":3}\n");
    assertThat(StoredRules.yaml(stored)).isEqualTo(A);
    assertThat(StoredRules.keptVersions(stored)).isEqualTo(Map.of("owned", 3, "global", 1));
    assertThat(StoredRules.sameRules(stored, A)).isTrue();
    assertThat(StoredRules.encode(A, Map.of())).isEqualTo(A);
    assertThat(StoredRules.keptVersions(A)).isEmpty();
    // Rules without a final newline compare equal to their stored form.
    String noNewline = A.strip();
    assertThat(StoredRules.sameRules(StoredRules.encode(noNewline, Map.of("owned", 1)), noNewline))
        .isTrue();
    // The line only counts as the last line; a user's comment of the same shape elsewhere is
    // theirs.
    String userComment = "# syncline-bucket-versions: {\"owned\":9}\n" + A;
    assertThat(StoredRules.keptVersions(userComment)).isEmpty();
    assertThat(StoredRules.yaml(userComment)).isEqualTo(userComment);
  }

  @Test
  void unchangedDefinitionsAreThoseEqualWithEverythingElseThatAffectsEvaluation() {
    String b =
        A.replace("SELECT * FROM settings", "SELECT id FROM settings")
            + """
          extra:
            data:
              - SELECT * FROM todos
        """;
    assertThat(StoredRules.unchangedDefinitions(A, b)).containsExactly("owned");
    // Reformatting alone changes nothing.
    assertThat(
            StoredRules.unchangedDefinitions(
                A,
                A.replace(
                    "data:\n      - SELECT * FROM settings", "data: [\"SELECT * FROM settings\"]")))
        .containsExactly("global", "owned");
    // A config change (e.g. compatibility options) may change every definition's output.
    assertThat(StoredRules.unchangedDefinitions(A, "config:\n  edition: 2\n" + A)).isEmpty();
    assertThat(
            StoredRules.unchangedDefinitions(A, "streams:\n  s:\n    query: SELECT * FROM a\n" + A))
        .isEmpty();
    assertThat(StoredRules.unchangedDefinitions(A, "not: [valid")).isEmpty();
  }
}
