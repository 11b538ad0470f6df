package dev.syncline.core.internal.storage;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SynclineException;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Packs: several ops of one bucket, written by one batch, stored as one row of the JDBC storage's
 * op log. A row per op costs a table row and an index entry each (as much again as the op's own
 * bytes for a typical row); a pack of eight costs one of each. The row's op id is the pack's last,
 * {@code first_op_id} its first, {@code op_count} the number of ops and {@code checksum} the plain
 * sum of theirs, so that range queries, sums and counts over rows stay what they were, except for
 * the at most one pack per bucket that straddles a range's end, which readers decode.
 *
 * <p>A pack holds PUT and REMOVE ops only (MOVE and CLEAR come from compaction, which writes single
 * rows), at most {@link #MAX_OPS} of them within {@link #MAX_SPAN} op ids, and stops growing at
 * about {@link #MAX_CHARS} characters so that Postgres keeps it in the table uncompressed. Its text
 * is a sequence of entries: {@code <op id minus the previous one's (0 for the first)> P|R
 * <checksum> , <type> <id> <subkey> [<data>]}, where each string is {@code <length in UTF-16
 * units>:<characters>} (data only for PUT). Lengths instead of escapes: no character of the values
 * is special. Stateless and thread-safe.
 */
public final class OpPacks {
  private OpPacks() {}

  /**
   * The most op ids a pack spans ({@code last - first}); a range's straddling pack is found within
   * it.
   */
  public static final long MAX_SPAN = 10_000;

  /** The most ops in a pack. */
  public static final int MAX_OPS = 32;

  /** About the most characters of a pack's text (one op longer than that is a row of its own). */
  public static final int MAX_CHARS = 1_600;

  /** Op-log rows of a batch, to insert as they are. */
  public record Row(
      String bucket,
      long opId,
      @Nullable Long firstOpId,
      int count,
      String op,
      @Nullable String objectType,
      @Nullable String objectId,
      @Nullable String subkey,
      @Nullable String data,
      long checksum) {}

  /** The op name a pack row stores ({@code op} column). */
  public static final String PACK = "PACK";

  /**
   * The rows for a batch's ops, whose op ids are {@code firstOpId}, {@code firstOpId + 1}, ... in
   * list order: each bucket's ops packed in order, single ops as rows of their own.
   */
  public static List<Row> rows(List<NewOp> ops, long firstOpId) {
    List<Row> out = new ArrayList<>(ops.size() < 4 ? ops.size() : ops.size() / 4);
    Map<String, Builder> open = new HashMap<>();
    for (int i = 0; i < ops.size(); i++) {
      NewOp op = ops.get(i);
      long id = firstOpId + i;
      Builder b = open.get(op.bucket());
      if (b != null && !b.fits(op, id)) {
        out.add(b.row());
        b = null;
      }
      if (b == null) {
        open.put(op.bucket(), new Builder(op, id));
      } else {
        b.add(op, id);
      }
    }
    open.values().forEach(b -> out.add(b.row()));
    return out;
  }

  /** A pack being built: its first op, and its text once it has a second. */
  private static final class Builder {
    private final NewOp first;
    private final long firstId;
    private @Nullable StringBuilder text;
    private long lastId;
    private int count = 1;
    private long checksum;

    Builder(NewOp first, long id) {
      this.first = first;
      this.firstId = id;
      this.lastId = id;
      this.checksum = first.checksum();
    }

    boolean fits(NewOp op, long id) {
      int length = text == null ? size(first) : text.length();
      return count < MAX_OPS && id - firstId <= MAX_SPAN && length + size(op) <= MAX_CHARS;
    }

    void add(NewOp op, long id) {
      if (text == null) {
        text = new StringBuilder(MAX_CHARS + 64);
        entry(text, 0, first);
      }
      entry(text, id - lastId, op);
      lastId = id;
      count++;
      checksum += op.checksum();
    }

    Row row() {
      if (text == null) {
        return new Row(
            first.bucket(),
            firstId,
            null,
            1,
            first.op().name(),
            first.objectType(),
            first.objectId(),
            first.subkey(),
            first.data(),
            first.checksum());
      }
      return new Row(
          first.bucket(),
          lastId,
          firstId,
          count,
          PACK,
          null,
          null,
          null,
          text.toString(),
          checksum);
    }
  }

  /**
   * About the length of an op's entry in a pack's text (its numbers and length prefixes: up to 30
   * characters).
   */
  private static int size(NewOp op) {
    return 30
        + op.objectType().length()
        + op.objectId().length()
        + op.subkey().length()
        + (op.data() == null ? 0 : op.data().length());
  }

  private static void entry(StringBuilder out, long delta, NewOp op) {
    out.append(delta).append(op.op() == OpType.PUT ? 'P' : 'R').append(op.checksum()).append(',');
    string(out, op.objectType());
    string(out, op.objectId());
    string(out, op.subkey());
    if (op.data() != null) {
      string(out, op.data());
    }
  }

  private static void string(StringBuilder out, String s) {
    out.append(s.length()).append(':').append(s);
  }

  /**
   * Calls {@code sink} with the pack's ops whose op ids are in {@code (after, upTo]}, ascending.
   *
   * @throws SynclineException {@link ErrorCode#STORAGE_FAILED} if the text is not a pack's
   */
  public static void decode(
      String bucket, long firstOpId, String text, long after, long upTo, Consumer<OpRecord> sink) {
    Reader r = new Reader(text);
    long id = firstOpId;
    boolean first = true;
    while (r.pos < text.length()) {
      long delta = r.number();
      if (first ? delta != 0 : delta <= 0) {
        throw r.corrupt("op ids must ascend");
      }
      first = false;
      id += delta;
      char kind = r.next();
      if (kind != 'P' && kind != 'R') {
        throw r.corrupt("unknown op kind '" + kind + "'");
      }
      long checksum = r.number();
      r.expect(',');
      boolean wanted = id > after && id <= upTo;
      String type = r.string(wanted);
      String objectId = r.string(wanted);
      String subkey = r.string(wanted);
      String data = kind == 'P' ? r.string(wanted) : null;
      if (wanted) {
        sink.accept(
            new OpRecord(
                new OpId(id),
                bucket,
                kind == 'P' ? OpType.PUT : OpType.REMOVE,
                type,
                objectId,
                subkey,
                data,
                checksum,
                null));
      }
    }
  }

  /** Sum (plain, not reduced) and count of the pack's ops in {@code (after, upTo]}. */
  public static long[] sum(String bucket, long firstOpId, String text, long after, long upTo) {
    long[] out = new long[2];
    decode(
        bucket,
        firstOpId,
        text,
        after,
        upTo,
        op -> {
          out[0] += op.checksum();
          out[1]++;
        });
    return out;
  }

  private static final class Reader {
    private final String text;
    private int pos;

    Reader(String text) {
      this.text = text;
    }

    char next() {
      if (pos >= text.length()) {
        throw corrupt("it ends early");
      }
      return text.charAt(pos++);
    }

    void expect(char c) {
      if (next() != c) {
        throw corrupt("expected '" + c + "'");
      }
    }

    long number() {
      int start = pos;
      long v = 0;
      while (pos < text.length()
          && text.charAt(pos) >= '0'
          && text.charAt(pos) <= '9'
          && pos - start < 19) {
        v = v * 10 + (text.charAt(pos++) - '0');
      }
      if (pos == start) {
        throw corrupt("expected a number");
      }
      return v;
    }

    /** The next string, or null past it if not {@code wanted}. */
    @Nullable String string(boolean wanted) {
      long length = number();
      expect(':');
      if (length > text.length() - pos) {
        throw corrupt("a value is longer than the rest");
      }
      String s = wanted ? text.substring(pos, pos + (int) length) : null;
      pos += (int) length;
      return s;
    }

    SynclineException corrupt(String why) {
      return new SynclineException(
          ErrorCode.STORAGE_FAILED, "a stored op pack is corrupt at character " + pos + ": " + why);
    }
  }
}
