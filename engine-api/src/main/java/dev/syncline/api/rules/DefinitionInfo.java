package dev.syncline.api.rules;

import java.util.Objects;

/**
 * A bucket definition or stream of a sync config.
 *
 * @param name its name
 * @param kind bucket definition or stream
 * @param subscribedByDefault whether clients get it without subscribing
 */
public record DefinitionInfo(String name, Kind kind, boolean subscribedByDefault) {
  /** What kind of definition. */
  public enum Kind {
    /** A legacy {@code bucket_definitions} entry. */
    BUCKET_DEFINITION,
    /** A {@code streams} entry. */
    STREAM
  }

  /** Validates the components. */
  public DefinitionInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
  }
}
