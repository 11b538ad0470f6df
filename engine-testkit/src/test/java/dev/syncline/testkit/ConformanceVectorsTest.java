package dev.syncline.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.testkit.ConformanceSuite.VectorCase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every shared conformance vector ({@code ../shared/conformance/sync-rules}, produced by the
 * reference implementation) against the compiler: diagnostics, rows, parameter-index entries and
 * request resolution must all match; and the project's own vectors, asked of the reference the same
 * way.
 */
class ConformanceVectorsTest {
  static Path vectorDir() {
    String dir = System.getProperty("syncline.conformance.dir");
    Path path =
        dir != null ? Path.of(dir) : Path.of("..", "..", "shared", "conformance", "sync-rules");
    return path;
  }

  /**
   * The project's own vectors: cases written here ({@code src/test/oracle}, see its {@code
   * regenerate.sh}) with the answers of the reference implementation, kept as test resources.
   */
  static final Path OWN_VECTORS = Path.of("src", "test", "resources", "conformance", "own");

  @TestFactory
  Stream<DynamicTest> every_shared_vector_matches_the_reference() {
    List<VectorCase> cases = ConformanceSuite.load(vectorDir());
    assertThat(cases).hasSizeGreaterThan(300);
    return tests(cases, Set.of());
  }

  /**
   * Own vectors Syncline does not match yet, one case id per line (then {@code |} and what
   * differs), {@code #} comments: the open part of the rules-parity work, listed rather than
   * hidden.
   */
  static final Path KNOWN_DIFFERENCES = OWN_VECTORS.resolve("KNOWN_DIFFERENCES.txt");

  @TestFactory
  Stream<DynamicTest> every_own_vector_matches_the_reference_or_is_a_listed_difference()
      throws IOException {
    List<VectorCase> cases = ConformanceSuite.load(OWN_VECTORS);
    assertThat(cases).hasSizeGreaterThan(1_000);
    Set<String> known = new HashSet<>();
    for (String line : Files.readAllLines(KNOWN_DIFFERENCES)) {
      if (!line.isBlank() && !line.startsWith("#")) {
        known.add(line.split("\\|", 2)[0].strip());
      }
    }
    Set<String> ids = new HashSet<>();
    cases.forEach(c -> ids.add(c.id()));
    assertThat(ids).as("listed differences name existing cases").containsAll(known);
    return tests(cases, known);
  }

  /** One test per case: it matches the reference, or, when {@code known}, still differs. */
  private static Stream<DynamicTest> tests(List<VectorCase> cases, Set<String> known) {
    return cases.stream()
        .map(
            c ->
                DynamicTest.dynamicTest(
                    c.file() + " " + c.id(),
                    () -> {
                      List<String> failures = ConformanceSuite.check(c);
                      if (known.contains(c.id())) {
                        assertThat(failures)
                            .as(
                                c.id()
                                    + " matches the reference now: remove it from "
                                    + KNOWN_DIFFERENCES)
                            .isNotEmpty();
                      } else {
                        assertThat(failures).as(c.id()).isEmpty();
                      }
                    }));
  }
}
