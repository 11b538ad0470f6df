package dev.syncline.api;

import java.util.List;
import java.util.Objects;

/**
 * A column value as a source adapter hands it to the sync rules.
 *
 * <p>Most values are plain {@link SqliteValue}s. A few source types render differently depending on
 * the sync config's compatibility options (edition, {@code timestamps_iso8601}, {@code
 * timestamp_max_precision}); those are kept in their source form here and rendered when the rules
 * evaluate the row:
 *
 * <ul>
 *   <li>{@link Timestamp}: a date-time; edition 1 renders {@code 2024-03-05 10:11:12.5Z}, ISO mode
 *       {@code 2024-03-05T10:11:12.500000Z};
 *   <li>{@link TimeOfDay}: a time without date;
 *   <li>{@link SourceArray}: a source-database array, rendered as JSON text.
 * </ul>
 */
public sealed interface SourceValue
    permits SqliteValue, SourceValue.Timestamp, SourceValue.TimeOfDay, SourceValue.SourceArray {

  /** Sub-second precision of a source type, or the cap a sync config puts on it. */
  enum Precision {
    /** Whole seconds. */
    SECONDS(0),
    /** Three fraction digits. */
    MILLISECONDS(3),
    /** Six fraction digits. */
    MICROSECONDS(6),
    /** Nine fraction digits. */
    NANOSECONDS(9);

    private final int digits;

    Precision(int digits) {
      this.digits = digits;
    }

    /** Number of sub-second digits. */
    public int digits() {
      return digits;
    }
  }

  /**
   * A source timestamp.
   *
   * @param iso8601 the value as {@code YYYY-MM-DDTHH:MM:SS[.fraction][Z]}; {@code Z} marks a UTC
   *     instant, no suffix a timestamp without time zone
   * @param precision the sub-second precision of the source column type
   * @param defaultPrecision the precision rendered when the sync config sets no {@code
   *     timestamp_max_precision}
   */
  record Timestamp(String iso8601, Precision precision, Precision defaultPrecision)
      implements SourceValue {
    /** Validates the components. */
    public Timestamp {
      Objects.requireNonNull(iso8601, "iso8601");
      Objects.requireNonNull(precision, "precision");
      Objects.requireNonNull(defaultPrecision, "defaultPrecision");
    }
  }

  /**
   * A source time of day.
   *
   * @param text the value as {@code HH:MM:SS[.fraction]}
   * @param precision the sub-second precision of the source column type
   */
  record TimeOfDay(String text, Precision precision) implements SourceValue {
    /** Validates the components. */
    public TimeOfDay {
      Objects.requireNonNull(text, "text");
      Objects.requireNonNull(precision, "precision");
    }
  }

  /**
   * A source-database array (e.g. a Postgres {@code text[]}), rendered as JSON text for the rules.
   *
   * @param elements elements: {@link SqliteValue}s (BLOBs become {@code null}), {@link Boolean}s
   *     (rendered as 1/0), nested {@link SourceArray}s, or other {@link SourceValue}s
   */
  record SourceArray(List<Object> elements) implements SourceValue {
    /** Copies the elements. */
    public SourceArray {
      elements = List.copyOf(elements);
    }
  }
}
