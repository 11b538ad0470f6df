package dev.syncline.testkit;

import dev.syncline.api.WireFormat;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Reads BSON sync lines back into JSON text (the types the server's BSON encoder writes, plus
 * double and null), for {@link ProtocolClient}. Stateless.
 */
final class BsonDecoder {
  private BsonDecoder() {}

  /** Reads the next document of a BSON stream as JSON text, or null at the end of the stream. */
  static @Nullable String next(InputStream in) throws IOException {
    byte[] len = in.readNBytes(4);
    if (len.length == 0) {
      return null;
    }
    if (len.length < 4) {
      throw new EOFException("truncated BSON document");
    }
    int length = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if (length < 5 || length > 64 * 1024 * 1024) {
      throw new IOException("invalid BSON document length " + length);
    }
    byte[] doc = new byte[length];
    System.arraycopy(len, 0, doc, 0, 4);
    new DataInputStream(in).readFully(doc, 4, length - 4);
    return toJson(doc);
  }

  /** One whole document as JSON text. */
  static String toJson(byte[] document) {
    ByteBuffer b = ByteBuffer.wrap(document).order(ByteOrder.LITTLE_ENDIAN);
    StringBuilder sb = new StringBuilder(document.length + 16);
    document(b, sb, false);
    return sb.toString();
  }

  private static void document(ByteBuffer b, StringBuilder sb, boolean array) {
    int start = b.position();
    int length = b.getInt();
    sb.append(array ? '[' : '{');
    boolean first = true;
    while (b.position() < start + length - 1) {
      byte type = b.get();
      String name = cstring(b);
      if (!first) {
        sb.append(',');
      }
      first = false;
      if (!array) {
        WireFormat.appendQuoted(sb, name);
        sb.append(':');
      }
      switch (type) {
        case 0x01 -> WireFormat.appendNumber(sb, b.getDouble());
        case 0x02 -> {
          int n = b.getInt();
          byte[] s = new byte[n - 1];
          b.get(s);
          b.get();
          WireFormat.appendQuoted(sb, new String(s, StandardCharsets.UTF_8));
        }
        case 0x03 -> document(b, sb, false);
        case 0x04 -> document(b, sb, true);
        case 0x08 -> sb.append(b.get() != 0);
        case 0x0A -> sb.append("null");
        case 0x10 -> sb.append(b.getInt());
        case 0x12 -> sb.append(b.getLong());
        default -> throw new IllegalArgumentException("unsupported BSON type " + type);
      }
    }
    b.get();
    sb.append(array ? ']' : '}');
  }

  private static String cstring(ByteBuffer b) {
    int start = b.position();
    while (b.get() != 0) {
      // scan to the terminator
    }
    byte[] s = new byte[b.position() - start - 1];
    b.position(start);
    b.get(s);
    b.get();
    return new String(s, StandardCharsets.UTF_8);
  }
}
