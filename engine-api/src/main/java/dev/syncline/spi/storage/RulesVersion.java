package dev.syncline.spi.storage;

import java.util.Objects;

/**
 * One deployed sync-rules version: its data is kept apart from other versions.
 *
 * @param id the version id, increasing; used in versioned bucket ids
 * @param content the sync config text
 * @param state where it is in its life cycle
 */
public record RulesVersion(long id, String content, State state) {
  /**
   * Life cycle: filled while the previous version serves, then active, then retired and dropped.
   */
  public enum State {
    /** Being filled (initial snapshot); not served to clients yet. */
    PROCESSING,
    /** Served to clients. */
    ACTIVE,
    /** Replaced by a newer version; its data may be dropped. */
    RETIRED
  }

  /** Validates the components. */
  public RulesVersion {
    Objects.requireNonNull(content, "content");
    Objects.requireNonNull(state, "state");
  }
}
