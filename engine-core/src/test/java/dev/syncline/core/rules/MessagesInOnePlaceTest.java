package dev.syncline.core.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The rules compilers' diagnostics come from {@code internal.rules.Messages}, so each message is
 * written once, in the reference's words: this fails when a compiler passes a text of its own to a
 * diagnostic (an {@code error}, {@code warn}, {@code SqlProblem}, YAML-level {@code add} or {@code
 * QueryException}).
 */
class MessagesInOnePlaceTest {
  private static final Path COMPILERS =
      Path.of("src/main/java/dev/syncline/core/internal/rules/plan");

  /** A diagnostic call whose message argument starts with a string literal. */
  private static final Pattern LITERAL_DIAGNOSTIC =
      Pattern.compile(
          "(\\b(error|warn|fatal|warning|QueryException)\\s*\\(|addAt\\([^;,]*,|"
              + "add\\(\\s*Severity\\.\\w+,|ComposeType\\(\\s*null,)\\s*\"");

  @Test
  void compilersWriteNoDiagnosticTextThemselves() throws IOException {
    List<String> offenders = new ArrayList<>();
    try (Stream<Path> files = Files.list(COMPILERS)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher m = LITERAL_DIAGNOSTIC.matcher(Files.readString(f));
        while (m.find()) {
          offenders.add(f.getFileName() + ": " + m.group());
        }
      }
    }
    assertThat(offenders).as("diagnostic texts outside Messages").isEmpty();
  }

  @Test
  void theCheckFindsALiteralMessage() {
    assertThat(LITERAL_DIAGNOSTIC.matcher("return error(\"Unknown function\", span);").find())
        .isTrue();
    assertThat(
            LITERAL_DIAGNOSTIC
                .matcher("problems.add(\n  SqlProblem.warning(\n    \"Column not found.\", 1, 2));")
                .find())
        .isTrue();
    assertThat(LITERAL_DIAGNOSTIC.matcher("error(Messages.UNKNOWN_FUNCTION, span)").find())
        .isFalse();
  }
}
