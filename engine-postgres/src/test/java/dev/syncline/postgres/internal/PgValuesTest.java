package dev.syncline.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Conversion of Postgres text values per PowerSync protocol §8.3 (the adapter's half; rendering is
 * core's).
 */
class PgValuesTest {
  private final PgValues values =
      new PgValues(
          oid ->
              switch (oid) {
                case 90001 -> new PgType(oid, 'A', 90000, ','); // an array of an enum
                case 90002 -> new PgType(oid, 'A', 603, ';'); // box[]
                default -> PgType.scalar(oid);
              });

  private static final SourceValue.Precision US = SourceValue.Precision.MICROSECONDS;

  @Test
  void scalars() {
    assertThat(values.convert(PgValues.BOOL, "t")).isEqualTo(SqliteValue.of(1L));
    assertThat(values.convert(PgValues.BOOL, "f")).isEqualTo(SqliteValue.of(0L));
    assertThat(values.convert(PgValues.INT8, "9223372036854775807"))
        .isEqualTo(SqliteValue.of(Long.MAX_VALUE));
    assertThat(values.convert(PgValues.INT2, "-32768")).isEqualTo(SqliteValue.of(-32768L));
    assertThat(values.convert(PgValues.OID, "4294967295")).isEqualTo(SqliteValue.of(4294967295L));
    assertThat(values.convert(PgValues.FLOAT8, "0.1")).isEqualTo(SqliteValue.of(0.1));
    assertThat(values.convert(PgValues.FLOAT4, "1.1")).isEqualTo(SqliteValue.of(1.1));
    assertThat(((SqliteValue.RealValue) values.convert(PgValues.FLOAT8, "NaN")).value()).isNaN();
    assertThat(values.convert(PgValues.FLOAT8, "-Infinity"))
        .isEqualTo(SqliteValue.of(Double.NEGATIVE_INFINITY));
    assertThat(values.convert(PgValues.NUMERIC, "12345678901234567890.12345"))
        .isEqualTo(SqliteValue.of("12345678901234567890.12345"));
    assertThat(values.convert(790, "$12.34")).isEqualTo(SqliteValue.of("$12.34"));
    assertThat(values.convert(PgValues.JSONB, "{\"a\": [1, 2], \"b\": 1}"))
        .isEqualTo(SqliteValue.of("{\"a\": [1, 2], \"b\": 1}"));
    assertThat(values.convert(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
        .isEqualTo(SqliteValue.of("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
    assertThat(values.convert(1042, "ab   ")).isEqualTo(SqliteValue.of("ab   "));
    assertThat(values.convert(1186, "1 day 02:00:00")).isEqualTo(SqliteValue.of("1 day 02:00:00"));
    assertThat(values.convert(PgValues.PG_LSN, "0/16B3748"))
        .isEqualTo(SqliteValue.of("00000000/016B3748"));
    assertThat(values.convert(90000, "happy")).as("enum label").isEqualTo(SqliteValue.of("happy"));
    assertThat(((SqliteValue.BlobValue) values.convert(PgValues.BYTEA, "\\xdeadbeef")).value())
        .containsExactly(0xde, 0xad, 0xbe, 0xef);
    assertThat(((SqliteValue.BlobValue) values.convert(PgValues.BYTEA, "\\336\\255a\\\\")).value())
        .containsExactly(0xde, 0xad, 'a', '\\');
  }

  @Test
  void datesAndTimes() {
    assertThat(values.convert(PgValues.DATE, "2024-02-29")).isEqualTo(SqliteValue.of("2024-02-29"));
    assertThat(values.convert(PgValues.DATE, "infinity")).isEqualTo(SqliteValue.of("9999-12-31"));
    assertThat(values.convert(PgValues.DATE, "-infinity")).isEqualTo(SqliteValue.of("0000-01-01"));
    assertThat(values.convert(PgValues.TIMESTAMP, "2024-02-29 13:45:00.5"))
        .isEqualTo(new SourceValue.Timestamp("2024-02-29T13:45:00.5", US, US));
    assertThat(values.convert(PgValues.TIMESTAMP, "2024-02-29 13:45:00"))
        .isEqualTo(new SourceValue.Timestamp("2024-02-29T13:45:00", US, US));
    assertThat(values.convert(PgValues.TIMESTAMP, "infinity"))
        .isEqualTo(new SourceValue.Timestamp("9999-12-31T23:59:59", US, US));
    assertThat(values.convert(PgValues.TIMESTAMP, "0044-03-15 12:00:00 BC"))
        .isEqualTo(SqliteValue.NULL);
    assertThat(values.convert(PgValues.TIMESTAMP, "12024-02-29 13:45:00"))
        .isEqualTo(SqliteValue.NULL);
    assertThat(values.convert(PgValues.TIMESTAMP, "2024-02-29 13:45:00."))
        .isEqualTo(SqliteValue.NULL);
    assertThat(values.convert(PgValues.TIMESTAMP, "2024-02-29 13:45:00.123456789"))
        .isEqualTo(new SourceValue.Timestamp("2024-02-29T13:45:00.123456789", US, US));
    assertThat(values.convert(PgValues.TIMESTAMP, "2024-02-29 13:45:00.1234567890"))
        .isEqualTo(SqliteValue.NULL);
    assertThat(values.convert(PgValues.TIMESTAMPTZ, "2024-02-29 07:04:56.789+00"))
        .isEqualTo(new SourceValue.Timestamp("2024-02-29T07:04:56.789Z", US, US));
    assertThat(values.convert(PgValues.TIMESTAMPTZ, "2024-02-29 12:34:56.789+05:30"))
        .as("another session zone still gives UTC")
        .isEqualTo(new SourceValue.Timestamp("2024-02-29T07:04:56.789Z", US, US));
    assertThat(values.convert(PgValues.TIMESTAMPTZ, "2024-02-29 07:04:56+00"))
        .isEqualTo(new SourceValue.Timestamp("2024-02-29T07:04:56Z", US, US));
    assertThat(values.convert(PgValues.TIMESTAMPTZ, "12024-02-29 07:04:56+00"))
        .as("five-digit year")
        .isEqualTo(SqliteValue.NULL);
    assertThat(values.convert(PgValues.TIMESTAMPTZ, "2024-01-01 00:10:00-03:30"))
        .isEqualTo(new SourceValue.Timestamp("2024-01-01T03:40:00Z", US, US));
    assertThat(values.convert(PgValues.TIMESTAMPTZ, "-infinity"))
        .isEqualTo(new SourceValue.Timestamp("0000-01-01T00:00:00Z", US, US));
    assertThat(values.convert(PgValues.TIME, "23:59:59.999999"))
        .isEqualTo(new SourceValue.TimeOfDay("23:59:59.999999", US));
    assertThat(values.convert(1266, "12:00:00+02")).isEqualTo(SqliteValue.of("12:00:00+02"));
  }

  @Test
  void arrays() {
    assertThat(values.convert(1007, "{1,NULL,3}"))
        .isEqualTo(
            new SourceValue.SourceArray(
                List.of(SqliteValue.of(1L), SqliteValue.NULL, SqliteValue.of(3L))));
    assertThat(values.convert(1009, "{\"a,b\",NULL,\"c\\\"d\",\"\",plain}"))
        .isEqualTo(
            new SourceValue.SourceArray(
                List.of(
                    SqliteValue.of("a,b"),
                    SqliteValue.NULL,
                    SqliteValue.of("c\"d"),
                    SqliteValue.of(""),
                    SqliteValue.of("plain"))));
    assertThat(values.convert(1009, "{\"NULL\"}"))
        .as("a quoted NULL is text")
        .isEqualTo(new SourceValue.SourceArray(List.of(SqliteValue.of("NULL"))));
    assertThat(values.convert(1007, "{{1,2},{3,4}}"))
        .isEqualTo(
            new SourceValue.SourceArray(
                List.of(
                    new SourceValue.SourceArray(List.of(SqliteValue.of(1L), SqliteValue.of(2L))),
                    new SourceValue.SourceArray(List.of(SqliteValue.of(3L), SqliteValue.of(4L))))));
    assertThat(values.convert(1007, "[0:1]={5,6}"))
        .isEqualTo(new SourceValue.SourceArray(List.of(SqliteValue.of(5L), SqliteValue.of(6L))));
    assertThat(values.convert(1000, "{t,f}"))
        .isEqualTo(new SourceValue.SourceArray(List.of(true, false)));
    assertThat(values.convert(1185, "{\"2024-02-29 07:04:56+00\"}"))
        .isEqualTo(
            new SourceValue.SourceArray(
                List.of(new SourceValue.Timestamp("2024-02-29T07:04:56Z", US, US))));
    assertThat(values.convert(1007, "{}")).isEqualTo(new SourceValue.SourceArray(List.of()));
    assertThat(values.convert(90001, "{happy,sad}"))
        .as("user-defined array type from the catalog")
        .isEqualTo(
            new SourceValue.SourceArray(List.of(SqliteValue.of("happy"), SqliteValue.of("sad"))));
    assertThat(values.convert(90002, "{(1,1),(0,0);(2,2),(1,1)}"))
        .as("box[] uses ';'")
        .isEqualTo(
            new SourceValue.SourceArray(
                List.of(SqliteValue.of("(1,1),(0,0)"), SqliteValue.of("(2,2),(1,1)"))));
  }

  @Test
  void unparseableValuesAreKeptAsTextInsteadOfStoppingReplication() {
    assertThat(values.convert(PgValues.INT8, "not a number"))
        .isEqualTo(SqliteValue.of("not a number"));
    assertThat(values.convert(1007, "{1,2"))
        .as("unterminated array")
        .isEqualTo(SqliteValue.of("{1,2"));
    assertThat(values.convert(1007, "{1,x}")).isEqualTo(SqliteValue.of("{1,x}"));
  }
}
