package dev.syncline.core.internal.stream;

import dev.syncline.api.OpType;
import dev.syncline.api.stream.SyncLine;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * Writes sync lines as BSON documents (content type {@code application/vnd.powersync.bson-stream},
 * PowerSync protocol §1.1): one self-delimiting document per line, the same fields as NDJSON; op
 * ids and data as strings, op checksums as int64, bucket checksums as int32. Stateless and
 * thread-safe.
 */
public final class BsonEncoder {
  private BsonEncoder() {}

  /** The line as one BSON document. */
  public static byte[] encode(SyncLine line) {
    Doc root = new Doc();
    if (line instanceof SyncLine.Checkpoint c) {
      Doc d = new Doc().string("last_op_id", c.lastOpId().toString());
      if (c.writeCheckpoint() != null) {
        d.string("write_checkpoint", c.writeCheckpoint());
      }
      d.array("buckets", buckets(c.buckets()));
      Doc streams = new Doc();
      for (int i = 0; i < c.streams().size(); i++) {
        SyncLine.StreamDescription s = c.streams().get(i);
        Doc errors = new Doc();
        for (int j = 0; j < s.errors().size(); j++) {
          SyncLine.StreamError e = s.errors().get(j);
          Doc error =
              e.subscription() == null
                  ? new Doc().string("subscription", "default")
                  : new Doc().int32("subscription", e.subscription());
          errors.doc(Integer.toString(j), error.string("message", e.message()));
        }
        streams.doc(
            Integer.toString(i),
            new Doc()
                .string("name", s.name())
                .bool("is_default", s.isDefault())
                .array("errors", errors));
      }
      d.array("streams", streams);
      root.doc("checkpoint", d);
    } else if (line instanceof SyncLine.CheckpointDiff c) {
      Doc d = new Doc().string("last_op_id", c.lastOpId().toString());
      if (c.writeCheckpoint() != null) {
        d.string("write_checkpoint", c.writeCheckpoint());
      }
      d.array("updated_buckets", buckets(c.updatedBuckets()));
      Doc removed = new Doc();
      for (int i = 0; i < c.removedBuckets().size(); i++) {
        removed.string(Integer.toString(i), c.removedBuckets().get(i));
      }
      d.array("removed_buckets", removed);
      root.doc("checkpoint_diff", d);
    } else if (line instanceof SyncLine.Data data) {
      Doc ops = new Doc();
      for (int i = 0; i < data.ops().size(); i++) {
        SyncLine.Op op = data.ops().get(i);
        Doc o = new Doc().string("op_id", op.opId().toString()).string("op", op.op().name());
        if (op.op() == OpType.PUT || op.op() == OpType.REMOVE) {
          o.string("object_type", Objects.requireNonNull(op.objectType()))
              .string("object_id", Objects.requireNonNull(op.objectId()));
        }
        o.int64("checksum", op.checksum());
        if (op.op() == OpType.PUT || op.op() == OpType.REMOVE) {
          o.string("subkey", Objects.requireNonNull(op.subkey()));
        }
        if (op.op() == OpType.PUT) {
          o.string("data", Objects.requireNonNull(op.data()));
        }
        ops.doc(Integer.toString(i), o);
      }
      root.doc(
          "data",
          new Doc()
              .string("bucket", data.bucket())
              .string("after", data.after().toString())
              .bool("has_more", data.hasMore())
              .array("data", ops)
              .string("next_after", data.nextAfter().toString()));
    } else if (line instanceof SyncLine.CheckpointComplete c) {
      root.doc("checkpoint_complete", new Doc().string("last_op_id", c.lastOpId().toString()));
    } else if (line instanceof SyncLine.PartialCheckpointComplete p) {
      root.doc(
          "partial_checkpoint_complete",
          new Doc().string("last_op_id", p.lastOpId().toString()).int32("priority", p.priority()));
    } else if (line instanceof SyncLine.TokenExpiresIn t) {
      root.int64("token_expires_in", t.seconds());
    }
    return root.bytes();
  }

  private static Doc buckets(List<SyncLine.BucketState> buckets) {
    Doc arr = new Doc();
    for (int i = 0; i < buckets.size(); i++) {
      SyncLine.BucketState b = buckets.get(i);
      Doc subs = new Doc();
      for (int j = 0; j < b.subscriptions().size(); j++) {
        SyncLine.Subscription s = b.subscriptions().get(j);
        subs.doc(
            Integer.toString(j), new Doc().int32(s.isDefault() ? "default" : "sub", s.index()));
      }
      arr.doc(
          Integer.toString(i),
          new Doc()
              .string("bucket", b.bucket())
              .int32("checksum", b.checksum())
              .int64("count", b.count())
              .int32("priority", b.priority())
              .array("subscriptions", subs));
    }
    return arr;
  }

  /** A BSON document being written. */
  private static final class Doc {
    private final ByteArrayOutputStream body = new ByteArrayOutputStream(64);

    private void name(int type, String name) {
      body.write(type);
      body.writeBytes(name.getBytes(StandardCharsets.UTF_8));
      body.write(0);
    }

    private void int32Raw(int v) {
      body.write(v);
      body.write(v >>> 8);
      body.write(v >>> 16);
      body.write(v >>> 24);
    }

    Doc string(String name, String value) {
      name(0x02, name);
      byte[] b = value.getBytes(StandardCharsets.UTF_8);
      int32Raw(b.length + 1);
      body.writeBytes(b);
      body.write(0);
      return this;
    }

    Doc int32(String name, int value) {
      name(0x10, name);
      int32Raw(value);
      return this;
    }

    Doc int64(String name, long value) {
      name(0x12, name);
      int32Raw((int) value);
      int32Raw((int) (value >>> 32));
      return this;
    }

    Doc bool(String name, boolean value) {
      name(0x08, name);
      body.write(value ? 1 : 0);
      return this;
    }

    Doc doc(String name, Doc value) {
      name(0x03, name);
      body.writeBytes(value.bytes());
      return this;
    }

    Doc array(String name, Doc value) {
      name(0x04, name);
      body.writeBytes(value.bytes());
      return this;
    }

    byte[] bytes() {
      byte[] content = body.toByteArray();
      int length = content.length + 5;
      byte[] out = new byte[length];
      out[0] = (byte) length;
      out[1] = (byte) (length >>> 8);
      out[2] = (byte) (length >>> 16);
      out[3] = (byte) (length >>> 24);
      System.arraycopy(content, 0, out, 4, content.length);
      out[length - 1] = 0;
      return out;
    }
  }
}
