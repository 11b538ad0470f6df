package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.SourceValue.Precision;
import org.jspecify.annotations.Nullable;

/**
 * The {@code config:} block's effect: edition and compatibility options. Edition 2 and later turn
 * on every option unless a flag overrides it.
 */
record Compatibility(
    int edition,
    @Nullable Boolean timestampsIso8601,
    @Nullable Boolean versionedBucketIds,
    @Nullable Boolean fixedJsonExtract,
    @Nullable Boolean customTypes,
    @Nullable Boolean sqliteEngine,
    @Nullable Precision maxTimePrecision) {

  static final Compatibility LEGACY = new Compatibility(1, null, null, null, null, null, null);

  private boolean enabled(@Nullable Boolean override, int fixedIn) {
    return override != null ? override : edition >= fixedIn;
  }

  boolean isoTimestamps() {
    return enabled(timestampsIso8601, 2);
  }

  boolean versionedBucketIdsEnabled() {
    return enabled(versionedBucketIds, 2);
  }

  boolean fixedJson() {
    return enabled(fixedJsonExtract, 2);
  }

  boolean customPostgresTypes() {
    return enabled(customTypes, 2);
  }

  boolean sqliteExpressionEngine() {
    return sqliteEngine != null && sqliteEngine;
  }
}
