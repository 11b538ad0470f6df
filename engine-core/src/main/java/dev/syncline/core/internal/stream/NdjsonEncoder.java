package dev.syncline.core.internal.stream;

import dev.syncline.api.OpType;
import dev.syncline.api.WireFormat;
import dev.syncline.api.stream.SyncLine;
import java.util.List;
import java.util.Objects;

/**
 * Writes sync lines as NDJSON exactly as the PowerSync service does: field names and order as
 * recorded from the real service, op ids as strings, op checksums unsigned, bucket checksums
 * signed. Stateless and thread-safe.
 */
public final class NdjsonEncoder {
  private NdjsonEncoder() {}

  /** The line's JSON text followed by a newline. */
  public static String encode(SyncLine line) {
    StringBuilder sb = new StringBuilder(256);
    append(sb, line);
    return sb.append('\n').toString();
  }

  /** Appends the line's JSON text (no newline). */
  public static void append(StringBuilder sb, SyncLine line) {
    if (line instanceof SyncLine.Checkpoint c) {
      sb.append("{\"checkpoint\":{\"last_op_id\":\"").append(c.lastOpId()).append('"');
      if (c.writeCheckpoint() != null) {
        sb.append(",\"write_checkpoint\":");
        WireFormat.appendQuoted(sb, c.writeCheckpoint());
      }
      sb.append(",\"buckets\":");
      buckets(sb, c.buckets());
      sb.append(",\"streams\":[");
      for (int i = 0; i < c.streams().size(); i++) {
        SyncLine.StreamDescription s = c.streams().get(i);
        if (i > 0) {
          sb.append(',');
        }
        sb.append("{\"name\":");
        WireFormat.appendQuoted(sb, s.name());
        sb.append(",\"is_default\":").append(s.isDefault()).append(",\"errors\":[");
        for (int j = 0; j < s.errors().size(); j++) {
          SyncLine.StreamError e = s.errors().get(j);
          sb.append(j > 0 ? ",{\"subscription\":" : "{\"subscription\":");
          if (e.subscription() == null) {
            sb.append("\"default\"");
          } else {
            sb.append(e.subscription().intValue());
          }
          sb.append(",\"message\":");
          WireFormat.appendQuoted(sb, e.message());
          sb.append('}');
        }
        sb.append("]}");
      }
      sb.append("]}}");
    } else if (line instanceof SyncLine.CheckpointDiff d) {
      sb.append("{\"checkpoint_diff\":{\"last_op_id\":\"").append(d.lastOpId()).append('"');
      if (d.writeCheckpoint() != null) {
        sb.append(",\"write_checkpoint\":");
        WireFormat.appendQuoted(sb, d.writeCheckpoint());
      }
      sb.append(",\"updated_buckets\":");
      buckets(sb, d.updatedBuckets());
      sb.append(",\"removed_buckets\":[");
      for (int i = 0; i < d.removedBuckets().size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        WireFormat.appendQuoted(sb, d.removedBuckets().get(i));
      }
      sb.append("]}}");
    } else if (line instanceof SyncLine.Data d) {
      sb.append("{\"data\":{\"bucket\":");
      WireFormat.appendQuoted(sb, d.bucket());
      sb.append(",\"after\":\"")
          .append(d.after())
          .append("\",\"has_more\":")
          .append(d.hasMore())
          .append(",\"data\":[");
      for (int i = 0; i < d.ops().size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        op(sb, d.ops().get(i));
      }
      sb.append("],\"next_after\":\"").append(d.nextAfter()).append("\"}}");
    } else if (line instanceof SyncLine.CheckpointComplete c) {
      sb.append("{\"checkpoint_complete\":{\"last_op_id\":\"").append(c.lastOpId()).append("\"}}");
    } else if (line instanceof SyncLine.PartialCheckpointComplete p) {
      sb.append("{\"partial_checkpoint_complete\":{\"last_op_id\":\"")
          .append(p.lastOpId())
          .append("\",\"priority\":")
          .append(p.priority())
          .append("}}");
    } else if (line instanceof SyncLine.TokenExpiresIn t) {
      sb.append("{\"token_expires_in\":").append(t.seconds()).append('}');
    }
  }

  private static void buckets(StringBuilder sb, List<SyncLine.BucketState> buckets) {
    sb.append('[');
    for (int i = 0; i < buckets.size(); i++) {
      SyncLine.BucketState b = buckets.get(i);
      if (i > 0) {
        sb.append(',');
      }
      sb.append("{\"bucket\":");
      WireFormat.appendQuoted(sb, b.bucket());
      sb.append(",\"checksum\":")
          .append(b.checksum())
          .append(",\"count\":")
          .append(b.count())
          .append(",\"priority\":")
          .append(b.priority())
          .append(",\"subscriptions\":[");
      for (int j = 0; j < b.subscriptions().size(); j++) {
        SyncLine.Subscription s = b.subscriptions().get(j);
        if (j > 0) {
          sb.append(',');
        }
        sb.append(s.isDefault() ? "{\"default\":" : "{\"sub\":").append(s.index()).append('}');
      }
      sb.append("]}");
    }
    sb.append(']');
  }

  private static void op(StringBuilder sb, SyncLine.Op op) {
    sb.append("{\"op_id\":\"")
        .append(op.opId())
        .append("\",\"op\":\"")
        .append(op.op().name())
        .append('"');
    if (op.op() == OpType.PUT || op.op() == OpType.REMOVE) {
      sb.append(",\"object_type\":");
      WireFormat.appendQuoted(sb, Objects.requireNonNull(op.objectType())); // set on PUT/REMOVE
      sb.append(",\"object_id\":");
      WireFormat.appendQuoted(sb, Objects.requireNonNull(op.objectId())); // set on PUT/REMOVE
    }
    sb.append(",\"checksum\":").append(op.checksum());
    if (op.op() == OpType.PUT || op.op() == OpType.REMOVE) {
      sb.append(",\"subkey\":");
      WireFormat.appendQuoted(sb, Objects.requireNonNull(op.subkey())); // set on PUT/REMOVE
    }
    if (op.op() == OpType.PUT) {
      sb.append(",\"data\":");
      WireFormat.appendQuoted(sb, Objects.requireNonNull(op.data())); // set on PUT/REMOVE
    }
    sb.append('}');
  }
}
