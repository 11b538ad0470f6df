package dev.syncline.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.spi.storage.OpChecksums;
import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A client's replica: decodes NDJSON sync lines and applies them as the PowerSync client core does
 * (protocol §3.1), verifying every bucket's checksum at each (partial) checkpoint completion and
 * failing loudly on a mismatch. {@link ProtocolClient} keeps one per stream; a test that produces
 * sync lines by other means (a transport of its own, a recorded stream) can feed them to one
 * directly. Not thread-safe.
 *
 * <pre>{@code
 * ClientReplica replica = new ClientReplica();
 * lines.forEach(replica::accept); // throws AssertionError on a checksum mismatch
 * assertThat(replica.table("todos")).containsKey("todo-1");
 * }</pre>
 */
public final class ClientReplica {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One bucket's stored rows and checksum accumulators. */
  static final class Bucket {
    final Map<String, String> rows = new LinkedHashMap<>();
    final Map<String, Long> rowChecksums = new HashMap<>();
    long add;
    long op;
    long expected;
    int priority = 3;

    /** The last op id received: what a reconnecting client asks to continue after. */
    String after = "0";
  }

  final Map<String, Bucket> buckets = new LinkedHashMap<>();
  @Nullable String lastOpId;
  @Nullable String writeCheckpoint;
  int completed;

  /**
   * Applies one line.
   *
   * @throws AssertionError when a checksum does not match or the line breaks the protocol
   */
  public void accept(String line) {
    JsonNode n;
    try {
      n = JSON.readTree(line);
    } catch (IOException e) {
      throw new AssertionError("not a JSON line: " + line, e);
    }
    if (n.has("checkpoint")) {
      JsonNode c = n.get("checkpoint");
      lastOpId = c.get("last_op_id").asText();
      writeCheckpoint = c.has("write_checkpoint") ? c.get("write_checkpoint").asText() : null;
      Map<String, Bucket> keep = new LinkedHashMap<>();
      for (JsonNode b : c.get("buckets")) {
        Bucket bucket = buckets.getOrDefault(b.get("bucket").asText(), new Bucket());
        bucket.expected = b.get("checksum").asLong() & 0xffffffffL;
        bucket.priority = b.get("priority").asInt();
        keep.put(b.get("bucket").asText(), bucket);
      }
      buckets.clear();
      buckets.putAll(keep);
    } else if (n.has("checkpoint_diff")) {
      JsonNode d = n.get("checkpoint_diff");
      lastOpId = d.get("last_op_id").asText();
      writeCheckpoint = d.has("write_checkpoint") ? d.get("write_checkpoint").asText() : null;
      for (JsonNode b : d.get("updated_buckets")) {
        Bucket bucket = buckets.computeIfAbsent(b.get("bucket").asText(), k -> new Bucket());
        bucket.expected = b.get("checksum").asLong() & 0xffffffffL;
        bucket.priority = b.get("priority").asInt();
      }
      d.get("removed_buckets").forEach(r -> buckets.remove(r.asText()));
    } else if (n.has("data")) {
      JsonNode d = n.get("data");
      Bucket b = buckets.get(d.get("bucket").asText());
      if (b == null) {
        throw new AssertionError("data for a bucket not in the checkpoint: " + line);
      }
      for (JsonNode op : d.get("data")) {
        b.after = op.get("op_id").asText();
        String key =
            op.path("object_type").asText()
                + "/"
                + op.path("object_id").asText()
                + "/"
                + op.path("subkey").asText();
        long checksum = op.get("checksum").asLong();
        switch (op.get("op").asText()) {
          case "PUT", "REMOVE" -> {
            Long old = b.rowChecksums.remove(key);
            b.rows.remove(key);
            if (old != null) {
              b.add = OpChecksums.add(b.add, old);
              b.op = OpChecksums.add(b.op, -old);
            }
            if (op.get("op").asText().equals("PUT")) {
              b.rows.put(key, op.get("data").asText());
              b.rowChecksums.put(key, checksum);
              b.op = OpChecksums.add(b.op, checksum);
            } else {
              b.add = OpChecksums.add(b.add, checksum);
            }
          }
          case "MOVE" -> b.add = OpChecksums.add(b.add, checksum);
          case "CLEAR" -> {
            b.rows.clear();
            b.rowChecksums.clear();
            b.add = checksum;
            b.op = 0;
          }
          default -> throw new AssertionError("unknown op " + op);
        }
      }
      if (d.hasNonNull("next_after")) {
        b.after = d.get("next_after").asText();
      }
    } else if (n.has("checkpoint_complete")) {
      verify(4);
      completed++;
    } else if (n.has("partial_checkpoint_complete")) {
      verify(n.get("partial_checkpoint_complete").get("priority").asInt());
    }
  }

  private void verify(int maxPriority) {
    buckets.forEach(
        (name, b) -> {
          if (b.priority <= maxPriority && OpChecksums.add(b.add, b.op) != b.expected) {
            throw new AssertionError(
                "checksum mismatch for "
                    + name
                    + ": expected "
                    + b.expected
                    + " got "
                    + OpChecksums.add(b.add, b.op));
          }
        });
  }

  /** The op id of the last checkpoint line. */
  public @Nullable String lastOpId() {
    return lastOpId;
  }

  /** The write checkpoint of the last checkpoint line. */
  public @Nullable String writeCheckpoint() {
    return writeCheckpoint;
  }

  /** How many checkpoints completed (and verified). */
  public int completed() {
    return completed;
  }

  /**
   * The op id up to which each held bucket has received its ops, as a reconnecting client sends in
   * {@code buckets[].after}: the last op of the last data line, not the last checkpoint's (a stream
   * that ended in the middle of a checkpoint's data leaves the bucket behind it, and the rest must
   * still come).
   */
  public Map<String, String> positions() {
    Map<String, String> out = new LinkedHashMap<>();
    buckets.forEach((name, b) -> out.put(name, b.after));
    return out;
  }

  /**
   * The rows of one table as the client sees them: row id to data JSON (the newest op wins across
   * buckets).
   */
  public Map<String, String> table(String table) {
    Map<String, String> out = new LinkedHashMap<>();
    String prefix = table + "/";
    buckets
        .values()
        .forEach(
            b ->
                b.rows.forEach(
                    (key, data) -> {
                      // Keys are type/id/subkey; ids may contain slashes, subkeys and table names
                      // do not.
                      if (key.startsWith(prefix)) {
                        out.put(key.substring(prefix.length(), key.lastIndexOf('/')), data);
                      }
                    }));
    return out;
  }

  /** The priority of each held bucket. */
  public Map<String, Integer> priorities() {
    Map<String, Integer> out = new LinkedHashMap<>();
    buckets.forEach((name, b) -> out.put(name, b.priority));
    return out;
  }

  /** Visible rows across buckets: row key to data. */
  public Map<String, String> rows() {
    Map<String, String> all = new LinkedHashMap<>();
    buckets.values().forEach(b -> all.putAll(b.rows));
    return all;
  }
}
