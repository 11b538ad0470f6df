package dev.syncline.spi.storage;

import dev.syncline.api.OpId;
import java.util.Objects;

/**
 * A consistent state of one rules version: every operation up to {@code opId}, covering the source
 * up to {@code position}.
 *
 * @param opId the highest op id covered
 * @param position the source position covered, serialized (order-preserving, see {@link
 *     dev.syncline.spi.source.SourcePosition#serialize()})
 */
public record Checkpoint(OpId opId, String position) {
  /** Validates the components. */
  public Checkpoint {
    Objects.requireNonNull(opId, "opId");
    Objects.requireNonNull(position, "position");
  }
}
