package dev.syncline.postgres.internal;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes {@code pgoutput} messages: a pure function from a message's bytes to a {@link
 * PgOutputMessage}. Inside a protocol-2 streamed block (between {@code StreamStart} and {@code
 * StreamStop}) data messages carry a leading transaction id; the caller says whether it is in such
 * a block. Malformed input raises {@link SynclineException} with {@link ErrorCode#SOURCE_PROTOCOL},
 * never another exception.
 */
public final class PgOutputDecoder {
  private PgOutputDecoder() {}

  /**
   * Decodes one message from {@code buffer}'s remaining bytes; the buffer's position is not
   * changed.
   */
  public static PgOutputMessage decode(ByteBuffer buffer, boolean inStreamBlock) {
    ByteBuffer b = buffer.duplicate();
    try {
      if (!b.hasRemaining()) {
        throw malformed("empty message");
      }
      char tag = (char) b.get();
      PgOutputMessage m =
          switch (tag) {
            case 'B' -> new PgOutputMessage.Begin(b.getLong(), b.getLong(), b.getInt());
            case 'C' ->
                new PgOutputMessage.Commit(b.get() & 0xff, b.getLong(), b.getLong(), b.getLong());
            case 'O' -> new PgOutputMessage.Origin(b.getLong(), string(b));
            case 'R' -> relation(b, xid(b, inStreamBlock));
            case 'Y' ->
                new PgOutputMessage.Type(xid(b, inStreamBlock), b.getInt(), string(b), string(b));
            case 'I' -> {
              int xid = xid(b, inStreamBlock);
              int rel = b.getInt();
              expect(b, 'N');
              yield new PgOutputMessage.Insert(xid, rel, tuple(b));
            }
            case 'U' -> {
              int xid = xid(b, inStreamBlock);
              int rel = b.getInt();
              char kind = (char) b.get();
              PgOutputMessage.TupleData old = null;
              char oldKind = '0';
              if (kind == 'K' || kind == 'O') {
                oldKind = kind;
                old = tuple(b);
                kind = (char) b.get();
              }
              if (kind != 'N') {
                throw malformed("update without a new tuple (got '" + kind + "')");
              }
              yield new PgOutputMessage.Update(xid, rel, oldKind, old, tuple(b));
            }
            case 'D' -> {
              int xid = xid(b, inStreamBlock);
              int rel = b.getInt();
              char kind = (char) b.get();
              if (kind != 'K' && kind != 'O') {
                throw malformed("delete without an old tuple (got '" + kind + "')");
              }
              yield new PgOutputMessage.Delete(xid, rel, kind, tuple(b));
            }
            case 'T' -> {
              int xid = xid(b, inStreamBlock);
              int n = b.getInt();
              int options = b.get() & 0xff;
              if (n < 0 || n > b.remaining() / 4) {
                throw malformed("truncate of " + n + " relations");
              }
              List<Integer> ids = new ArrayList<>(n);
              for (int i = 0; i < n; i++) {
                ids.add(b.getInt());
              }
              yield new PgOutputMessage.Truncate(xid, options, ids);
            }
            case 'M' -> {
              int xid = xid(b, inStreamBlock);
              boolean transactional = (b.get() & 1) != 0;
              long lsn = b.getLong();
              String prefix = string(b);
              int len = b.getInt();
              if (len < 0 || len > b.remaining()) {
                throw malformed("message content of " + len + " bytes");
              }
              byte[] content = new byte[len];
              b.get(content);
              yield new PgOutputMessage.Message(xid, transactional, lsn, prefix, content);
            }
            case 'S' -> new PgOutputMessage.StreamStart(b.getInt(), b.get() == 1);
            case 'E' -> new PgOutputMessage.StreamStop();
            case 'c' ->
                new PgOutputMessage.StreamCommit(
                    b.getInt(), b.get() & 0xff, b.getLong(), b.getLong(), b.getLong());
            case 'A' -> new PgOutputMessage.StreamAbort(b.getInt(), b.getInt());
            default ->
                throw malformed(
                    "unknown message type '" + tag + "' (0x" + Integer.toHexString(tag) + ")");
          };
      return m;
    } catch (BufferUnderflowException e) {
      throw malformed("message ends early");
    }
  }

  private static int xid(ByteBuffer b, boolean inStreamBlock) {
    return inStreamBlock ? b.getInt() : 0;
  }

  private static PgOutputMessage.Relation relation(ByteBuffer b, int xid) {
    int id = b.getInt();
    String namespace = string(b);
    String name = string(b);
    char identity = (char) b.get();
    int n = b.getShort() & 0xffff;
    List<PgOutputMessage.Column> columns = new ArrayList<>(Math.min(n, 1600));
    for (int i = 0; i < n; i++) {
      boolean key = (b.get() & 1) != 0;
      columns.add(new PgOutputMessage.Column(key, string(b), b.getInt(), b.getInt()));
    }
    return new PgOutputMessage.Relation(xid, id, namespace, name, identity, columns);
  }

  private static PgOutputMessage.TupleData tuple(ByteBuffer b) {
    int n = b.getShort() & 0xffff;
    if (n > b.remaining()) {
      throw malformed("tuple of " + n + " columns in " + b.remaining() + " bytes");
    }
    char[] kinds = new char[n];
    byte[][] values = new byte[n][];
    for (int i = 0; i < n; i++) {
      char kind = (char) b.get();
      kinds[i] = kind;
      switch (kind) {
        case 'n', 'u' -> {}
        case 't', 'b' -> {
          int len = b.getInt();
          if (len < 0 || len > b.remaining()) {
            throw malformed("column value of " + len + " bytes");
          }
          byte[] v = new byte[len];
          b.get(v);
          values[i] = v;
        }
        default -> throw malformed("unknown column kind '" + kind + "'");
      }
    }
    return new PgOutputMessage.TupleData(kinds, values);
  }

  private static void expect(ByteBuffer b, char expected) {
    char got = (char) b.get();
    if (got != expected) {
      throw malformed("expected '" + expected + "', got '" + got + "'");
    }
  }

  private static String string(ByteBuffer b) {
    int start = b.position();
    int end = start;
    while (end < b.limit() && b.get(end) != 0) {
      end++;
    }
    if (end >= b.limit()) {
      throw malformed("unterminated string");
    }
    byte[] bytes = new byte[end - start];
    b.get(bytes);
    b.get(); // the terminator
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static SynclineException malformed(String what) {
    return new SynclineException(ErrorCode.SOURCE_PROTOCOL, "malformed pgoutput message: " + what);
  }
}
