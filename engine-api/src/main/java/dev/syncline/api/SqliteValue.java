package dev.syncline.api;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One of SQLite's five storage classes: NULL, 64-bit INTEGER, REAL, TEXT, BLOB. This is what rows
 * look like to the sync rules and to clients.
 */
public sealed interface SqliteValue extends SourceValue
    permits SqliteValue.NullValue,
        SqliteValue.IntegerValue,
        SqliteValue.RealValue,
        SqliteValue.TextValue,
        SqliteValue.BlobValue {

  /** The SQL NULL. */
  NullValue NULL = new NullValue();

  /** Returns the value for a {@code long}. */
  static IntegerValue of(long value) {
    return new IntegerValue(value);
  }

  /** Returns the value for a {@code double}. */
  static RealValue of(double value) {
    return new RealValue(value);
  }

  /** Returns the value for a string, or {@link #NULL} for {@code null}. */
  static SqliteValue of(@Nullable String value) {
    return value == null ? NULL : new TextValue(value);
  }

  /**
   * SQLite's name of the storage class: {@code null}, {@code integer}, {@code real}, {@code text},
   * {@code blob}.
   */
  String typeName();

  /** The SQL NULL. Use {@link SqliteValue#NULL}. */
  record NullValue() implements SqliteValue {
    @Override
    public String typeName() {
      return "null";
    }
  }

  /** A 64-bit signed INTEGER. */
  record IntegerValue(long value) implements SqliteValue {
    @Override
    public String typeName() {
      return "integer";
    }
  }

  /** A REAL (IEEE 754 double). */
  record RealValue(double value) implements SqliteValue {
    @Override
    public String typeName() {
      return "real";
    }
  }

  /** A TEXT value. */
  record TextValue(String value) implements SqliteValue {
    /** Rejects {@code null}; use {@link SqliteValue#NULL}. */
    public TextValue {
      Objects.requireNonNull(value, "value");
    }

    @Override
    public String typeName() {
      return "text";
    }
  }

  /** A BLOB. The bytes are copied on the way in and out; equality is by content. */
  @SuppressWarnings(
      "ArrayRecordComponent") // copied in and out, equals and hashCode compare contents
  record BlobValue(byte[] value) implements SqliteValue {
    /** Copies the bytes. */
    public BlobValue {
      value = value.clone();
    }

    /** A copy of the bytes. */
    @Override
    public byte[] value() {
      return value.clone();
    }

    @Override
    public String typeName() {
      return "blob";
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof BlobValue b && Arrays.equals(value, b.value);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(value);
    }

    @Override
    public String toString() {
      return "BlobValue[" + HexFormat.of().formatHex(value) + "]";
    }
  }
}
