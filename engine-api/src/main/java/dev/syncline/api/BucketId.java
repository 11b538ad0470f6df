package dev.syncline.api;

import java.util.Objects;

/**
 * A bucket: a partition of synced data. The name is what clients see and is rendered exactly as the
 * PowerSync protocol (§5.1) does: {@code <prefix><JSON array of parameter values>}, e.g. {@code
 * global[]}, {@code by_user["u1"]}, {@code 3#lists[42,"a"]}.
 *
 * @param name the wire name
 * @param definition the bucket definition (or stream) that produced it
 */
public record BucketId(String name, String definition) {
  /** Validates the components. */
  public BucketId {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(definition, "definition");
  }

  @Override
  public String toString() {
    return name;
  }
}
