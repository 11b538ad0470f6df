package dev.syncline.core.rules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.core.internal.conformance.ConformanceSuite;
import dev.syncline.core.internal.conformance.ConformanceSuite.VectorCase;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every shared conformance vector. Cases whose config defines {@code streams:} belong to the
 * Sync Streams issue: until it lands, they must be rejected with a clear "not supported yet"
 * problem rather than silently syncing nothing.
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
