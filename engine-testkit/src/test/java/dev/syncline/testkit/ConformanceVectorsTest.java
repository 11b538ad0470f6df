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
 * request resolution must all match.
 */
class ConformanceVectorsTest {
  static Path vectorDir() {
    String dir = System.getProperty("syncline.conformance.dir");
    Path path =
        dir != null ? Path.of(dir) : Path.of("..", "..", "shared", "conformance", "sync-rules");
    return path;
  }

  @TestFactory
  Stream<DynamicTest> every_vector_matches_the_reference() {
    List<VectorCase> cases = ConformanceSuite.load(vectorDir());
    assertThat(cases).hasSizeGreaterThan(300);
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
