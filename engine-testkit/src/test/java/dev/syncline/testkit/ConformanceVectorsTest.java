package dev.syncline.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.testkit.ConformanceSuite.VectorCase;
import java.nio.file.Path;
import java.util.List;
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
    return tests(cases);
  }

  @TestFactory
  Stream<DynamicTest> every_own_vector_matches_the_reference() {
    List<VectorCase> cases = ConformanceSuite.load(OWN_VECTORS);
    assertThat(cases).hasSizeGreaterThan(1_000);
    return tests(cases);
  }

  private static Stream<DynamicTest> tests(List<VectorCase> cases) {
    return cases.stream()
        .map(
            c ->
                DynamicTest.dynamicTest(
                    c.file() + " " + c.id(),
                    () -> {
                      assertThat(ConformanceSuite.check(c)).as(c.id()).isEmpty();
                    }));
  }
}
