package dev.syncline.api.rules;

import dev.syncline.api.BucketId;
import java.util.List;
import java.util.Objects;

/**
 * A bucket a client receives, with its priority and why.
 *
 * @param bucket the bucket
 * @param priority 0 (highest) to 3
 * @param reasons why the client receives it
 */
public record ResolvedBucket(BucketId bucket, int priority, List<InclusionReason> reasons) {
  /** Validates and copies the components. */
  public ResolvedBucket {
    Objects.requireNonNull(bucket, "bucket");
    if (priority < 0 || priority > 3) {
      throw new IllegalArgumentException("priority must be 0..3, got " + priority);
    }
    reasons = List.copyOf(reasons);
  }
}
