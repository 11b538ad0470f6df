package dev.syncline.spi.storage;

import java.util.Objects;

/**
 * A bucket's checksum and operation count at a checkpoint (PowerSync protocol §3.4).
 *
 * @param bucket the bucket
 * @param checksum sum of its operations' checksums mod 2^32, unsigned
 * @param count number of stored operations up to the checkpoint
 */
public record BucketChecksum(String bucket, long checksum, long count) {
  /** Validates the components. */
  public BucketChecksum {
    Objects.requireNonNull(bucket, "bucket");
  }

  /** The checksum as the protocol sends it in checkpoint lines: a signed 32-bit integer. */
  public int wireChecksum() {
    return (int) checksum;
  }
}
