package dev.syncline.examples.readme;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's Java blocks are the compiled regions of {@link ReadmeExamples}, word for word. */
class ReadmeExamplesTest {
  /** The repository: tests run in the module's directory. */
  private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

  @Test
  void every_java_block_of_the_readme_is_compiled_code() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
    String source =
        Files.readString(
            ROOT.resolve(
                "examples/todo-server/src/test/java/dev/syncline/examples/readme/ReadmeExamples.java"),
            StandardCharsets.UTF_8);
    List<String> blocks = new ArrayList<>();
    Matcher b = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    while (b.find()) {
      blocks.add(b.group(1));
    }
    List<String> regions = new ArrayList<>();
    Matcher r =
        Pattern.compile("// README:(?!end)\\w+\\n(.*?)// README:end", Pattern.DOTALL)
            .matcher(source);
    while (r.find()) {
      regions.add(r.group(1));
    }
    assertThat(regions).hasSize(3);
    // Compared without whitespace: the formatter may wrap the source differently from the README's
    // lines.
    assertThat(blocks.stream().map(ReadmeExamplesTest::words).toList())
        .containsExactlyElementsOf(regions.stream().map(ReadmeExamplesTest::words).toList());
  }

  private static String words(String code) {
    return code.replaceAll("\\s+", "");
  }
}
