package dev.syncline.testkit;

import dev.syncline.api.SynclineException;
import dev.syncline.testkit.ConformanceSuite.VectorCase;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs a directory of sync-rules conformance vectors (every {@code *.json} file in it, in the
 * format of {@code shared/conformance/README.md}), prints one line per failed case and, last,
 * {@code N passed, M failed}. Exits with status 1 when any case failed, 2 when the directory cannot
 * be read.
 *
 * <pre>
 * mvn -q install -DskipTests
 * mvn -q -pl engine-testkit exec:java -Dexec.args=/absolute/path/to/vectors
 * </pre>
 */
public final class ConformanceRunner {
  private ConformanceRunner() {}

  /** Entry point; {@code args[0]} is the vector directory. */
  public static void main(String[] args) {
    if (args.length != 1) {
      System.err.println("usage: ConformanceRunner <directory of conformance vector *.json files>");
      System.exit(2);
    }
    int failed;
    try {
      failed = run(Path.of(args[0]), System.out);
    } catch (SynclineException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(failed == 0 ? 0 : 1);
  }

  /**
   * Runs the vectors, printing failures and the summary to {@code out}; returns the number of
   * failed cases.
   */
  public static int run(Path directory, PrintStream out) {
    List<VectorCase> cases = ConformanceSuite.load(directory);
    int passed = 0;
    int failed = 0;
    for (VectorCase c : cases) {
      List<String> failures = ConformanceSuite.check(c);
      if (failures.isEmpty()) {
        passed++;
      } else {
        failed++;
        out.println(
            "FAIL "
                + c.file()
                + " "
                + c.id()
                + ": "
                + String.join("; ", failures).replace('\n', ' '));
      }
    }
    out.println(passed + " passed, " + failed + " failed");
    return failed;
  }
}
