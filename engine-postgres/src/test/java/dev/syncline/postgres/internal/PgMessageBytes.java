package dev.syncline.postgres.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Writes pgoutput messages the way the walsender lays them out (big-endian, NUL-terminated
 * strings).
 */
final class PgMessageBytes {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final DataOutputStream out = new DataOutputStream(bytes);

  PgMessageBytes b(int v) throws IOException {
    out.writeByte(v);
    return this;
  }

  PgMessageBytes s16(int v) throws IOException {
    out.writeShort(v);
    return this;
  }

  PgMessageBytes i32(int v) throws IOException {
    out.writeInt(v);
    return this;
  }

  PgMessageBytes i64(long v) throws IOException {
    out.writeLong(v);
    return this;
  }

  PgMessageBytes str(String s) throws IOException {
    out.write(s.getBytes(StandardCharsets.UTF_8));
    out.writeByte(0);
    return this;
  }

  /** A tuple column in text form. */
  PgMessageBytes text(String s) throws IOException {
    byte[] v = s.getBytes(StandardCharsets.UTF_8);
    out.writeByte('t');
    out.writeInt(v.length);
    out.write(v);
    return this;
  }

  ByteBuffer buffer() {
    return ByteBuffer.wrap(bytes.toByteArray());
  }
}
