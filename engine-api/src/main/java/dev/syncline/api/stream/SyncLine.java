package dev.syncline.api.stream;

import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** One line of the sync stream (PowerSync protocol §2.2). */
public sealed interface SyncLine
    permits SyncLine.Checkpoint,
        SyncLine.CheckpointDiff,
        SyncLine.Data,
        SyncLine.CheckpointComplete,
        SyncLine.PartialCheckpointComplete,
        SyncLine.TokenExpiresIn {

  /**
   * A bucket's state in a checkpoint line.
   *
   * @param bucket the bucket name
   * @param checksum the checksum as sent: signed 32-bit
   * @param count number of operations
   * @param priority 0..3
   * @param subscriptions why the client has it: {@code {"default": i}} indexes {@code streams},
   *     {@code {"sub": i}} the request's subscriptions
   */
  record BucketState(
      String bucket, int checksum, long count, int priority, List<Subscription> subscriptions) {
    /** Copies the list. */
    public BucketState {
      Objects.requireNonNull(bucket, "bucket");
      subscriptions = List.copyOf(subscriptions);
    }
  }

  /**
   * A bucket's reason in {@link BucketState#subscriptions()}.
   *
   * @param isDefault true for {@code {"default": index}}, false for {@code {"sub": index}}
   * @param index the index
   */
  record Subscription(boolean isDefault, int index) {}

  /**
   * A definition or stream in a full checkpoint's {@code streams}.
   *
   * @param name its name
   * @param isDefault whether the client gets it without subscribing
   * @param errors problems resolving its subscriptions for this connection (the stream still syncs
   *     what it could)
   */
  record StreamDescription(String name, boolean isDefault, List<StreamError> errors) {
    /** Copies the list. */
    public StreamDescription {
      Objects.requireNonNull(name, "name");
      errors = List.copyOf(errors);
    }

    /** A description without errors. */
    public StreamDescription(String name, boolean isDefault) {
      this(name, isDefault, List.of());
    }
  }

  /**
   * A problem resolving one subscription of a stream.
   *
   * @param subscription the index of the subscription in the request's {@code
   *     streams.subscriptions}, or null for the default subscription (sent as {@code "default"})
   * @param message what went wrong
   */
  record StreamError(@Nullable Integer subscription, String message) {
    /** Validates the message. */
    public StreamError {
      Objects.requireNonNull(message, "message");
    }
  }

  /** {@code checkpoint}: every bucket the client should hold. */
  record Checkpoint(
      OpId lastOpId,
      @Nullable String writeCheckpoint,
      List<BucketState> buckets,
      List<StreamDescription> streams)
      implements SyncLine {
    /** Copies the lists. */
    public Checkpoint {
      buckets = List.copyOf(buckets);
      streams = List.copyOf(streams);
    }
  }

  /**
   * {@code checkpoint_diff}: buckets new or changed since the last checkpoint line, and buckets
   * gone.
   */
  record CheckpointDiff(
      OpId lastOpId,
      @Nullable String writeCheckpoint,
      List<BucketState> updatedBuckets,
      List<String> removedBuckets)
      implements SyncLine {
    /** Copies the lists. */
    public CheckpointDiff {
      updatedBuckets = List.copyOf(updatedBuckets);
      removedBuckets = List.copyOf(removedBuckets);
    }
  }

  /**
   * One operation in a data line.
   *
   * @param checksum unsigned 32-bit
   */
  record Op(
      OpId opId,
      OpType op,
      @Nullable String objectType,
      @Nullable String objectId,
      @Nullable String subkey,
      @Nullable String data,
      long checksum) {}

  /** {@code data}: operations of one bucket, ascending, after {@code after}. */
  record Data(String bucket, OpId after, OpId nextAfter, boolean hasMore, List<Op> ops)
      implements SyncLine {
    /** Copies the list. */
    public Data {
      ops = List.copyOf(ops);
    }
  }

  /** {@code checkpoint_complete}: everything up to the checkpoint was sent. */
  record CheckpointComplete(OpId lastOpId) implements SyncLine {}

  /** {@code partial_checkpoint_complete}: buckets of this priority and higher are complete. */
  record PartialCheckpointComplete(OpId lastOpId, int priority) implements SyncLine {}

  /** {@code token_expires_in}: seconds until the token expires; 0 ends the stream. */
  record TokenExpiresIn(long seconds) implements SyncLine {}
}
