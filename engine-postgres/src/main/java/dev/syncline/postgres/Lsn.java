package dev.syncline.postgres;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.spi.source.SourcePosition;
import java.util.Locale;

/**
 * A Postgres WAL position (log sequence number). Serialized as two 8-digit upper-case hex halves
 * ({@code 00000000/016B3748}) so that string order is WAL order.
 *
 * @param value the unsigned 64-bit position
 */
public record Lsn(long value) implements SourcePosition {
  /** The zero position. */
  public static final Lsn ZERO = new Lsn(0);

  /** Parses {@code X/Y} (Postgres' {@code pg_lsn} text, with or without padding). */
  public static Lsn parse(String text) {
    int slash = text.indexOf('/');
    if (slash <= 0 || slash == text.length() - 1) {
      throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "not an LSN: '" + text + "'");
    }
    try {
      long hi = Long.parseLong(text.substring(0, slash), 16);
      long lo = Long.parseLong(text.substring(slash + 1), 16);
      if (hi > 0xffffffffL || lo > 0xffffffffL || hi < 0 || lo < 0) {
        throw new NumberFormatException();
      }
      return new Lsn(hi << 32 | lo);
    } catch (NumberFormatException e) {
      throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "not an LSN: '" + text + "'");
    }
  }

  @Override
  public String serialize() {
    return String.format(Locale.ROOT, "%08X/%08X", value >>> 32, value & 0xffffffffL);
  }

  @Override
  public int compareTo(SourcePosition o) {
    return Long.compareUnsigned(value, ((Lsn) o).value);
  }

  /** Postgres' own text form ({@code 16/B374D848}). */
  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%X/%X", value >>> 32, value & 0xffffffffL);
  }
}
