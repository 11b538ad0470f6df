package dev.syncline.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The testkit is what users build their tests on, so it uses Syncline's public API only: no class
 * of it refers to an {@code internal} package (checked in the compiled classes, so a fully
 * qualified name in code counts as much as an import).
 */
class PublicApiOnlyTest {
  /** A class name in an internal package, as the constant pool spells it. */
  private static final Pattern INTERNAL = Pattern.compile("dev/syncline/[a-z/]*internal/");

  @Test
  void no_testkit_class_refers_to_an_internal_package() throws IOException, URISyntaxException {
    Path classes =
        Path.of(
            ConformanceRunner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> offenders;
    try (Stream<Path> files = Files.walk(classes)) {
      offenders =
          files
              .filter(f -> f.toString().endsWith(".class"))
              .filter(PublicApiOnlyTest::refersToInternals)
              .map(f -> classes.relativize(f).toString())
              .toList();
    }
    assertThat(classes.resolve("dev/syncline/testkit/ConformanceRunner.class")).exists();
    assertThat(offenders).as("testkit classes referring to dev.syncline.*.internal").isEmpty();
  }

  private static boolean refersToInternals(Path classFile) {
    try {
      // Class names in the constant pool are modified UTF-8; package names here are ASCII.
      String text = new String(Files.readAllBytes(classFile), StandardCharsets.ISO_8859_1);
      return INTERNAL.matcher(text).find();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
