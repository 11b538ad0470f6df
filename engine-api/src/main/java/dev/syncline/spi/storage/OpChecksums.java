package dev.syncline.spi.storage;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Operation checksums exactly as PowerSync computes them (protocol §3.3): the first four bytes,
 * little-endian, of SHA-256 over {@code put.<type>.<id>.<data>} or {@code delete.<subkey>}, UTF-8
 * encoded with unpaired surrogates as U+FFFD (as Node.js does), and their sums (unsigned 32-bit).
 * Part of the storage contract: a {@link NewOp}'s checksum is one of these, and a storage's {@link
 * BucketStorage#checksums} sums them with {@link #add}; clients compare the sums with their own.
 * Stateless and thread-safe.
 */
public final class OpChecksums {
  private OpChecksums() {}

  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("SHA-256 is required by every Java platform", e);
            }
          });

  /** Checksum of a PUT. */
  public static long put(String objectType, String objectId, String data) {
    return put(SHA256.get(), objectType, objectId, data);
  }

  /**
   * {@link #put(String, String, String)} with a SHA-256 digest of the caller's (one thread's, in a
   * loop).
   */
  public static long put(MessageDigest sha256, String objectType, String objectId, String data) {
    return le32(sha256.digest(utf8("put." + objectType + "." + objectId + "." + data)));
  }

  /** Checksum of a REMOVE. */
  public static long remove(String subkey) {
    return le32Sha256("delete." + subkey);
  }

  /** Sum of two checksums, mod 2^32, unsigned. */
  public static long add(long a, long b) {
    return (a + b) & 0xffffffffL;
  }

  /** The checksum as a signed 32-bit value, as checkpoint lines send it. */
  public static int toWire(long unsigned) {
    return (int) unsigned;
  }

  static long le32Sha256(String s) {
    return le32(SHA256.get().digest(utf8(s)));
  }

  private static long le32(byte[] d) {
    return (d[0] & 0xffL) | (d[1] & 0xffL) << 8 | (d[2] & 0xffL) << 16 | (d[3] & 0xffL) << 24;
  }

  private static byte[] utf8(String s) {
    boolean wellFormed = true;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < s.length()
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          wellFormed = false;
          break;
        }
      }
    }
    if (wellFormed) {
      return s.getBytes(StandardCharsets.UTF_8);
    }
    CharsetEncoder encoder =
        StandardCharsets.UTF_8
            .newEncoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE)
            .replaceWith(new byte[] {(byte) 0xef, (byte) 0xbf, (byte) 0xbd});
    try {
      ByteBuffer b = encoder.encode(CharBuffer.wrap(s));
      byte[] out = new byte[b.remaining()];
      b.get(out);
      return out;
    } catch (CharacterCodingException e) {
      throw new IllegalStateException(e);
    }
  }
}
