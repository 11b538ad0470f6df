package dev.syncline.api.rules;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The text of a sync config (PowerSync-compatible YAML: {@code bucket_definitions}, {@code config},
 * ...) and where it came from, for error messages.
 *
 * @param yaml the YAML text
 * @param origin a file name or other label shown in error messages
 */
public record SyncRulesSource(String yaml, String origin) {
  /** Validates the components. */
  public SyncRulesSource {
    Objects.requireNonNull(yaml, "yaml");
    Objects.requireNonNull(origin, "origin");
  }

  /** A source given as a string. */
  public static SyncRulesSource ofYaml(String yaml, String origin) {
    return new SyncRulesSource(yaml, origin);
  }

  /** Reads a UTF-8 file. */
  public static SyncRulesSource ofFile(Path file) {
    try {
      return new SyncRulesSource(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (NoSuchFileException e) {
      throw new SynclineException(
          ErrorCode.INVALID_INPUT_FILE,
          "cannot read sync rules file " + file + ": it does not exist",
          e);
    } catch (IOException e) {
      throw new SynclineException(
          ErrorCode.INVALID_INPUT_FILE,
          "cannot read sync rules file " + file + ": " + e.getMessage(),
          e);
    }
  }
}
