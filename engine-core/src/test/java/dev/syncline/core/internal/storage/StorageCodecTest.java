package dev.syncline.core.internal.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.spi.storage.Placement;
import dev.syncline.spi.storage.SourceKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What JdbcBucketStorage stores decodes to exactly what was stored; look-up keys keep their text.
 */
class StorageCodecTest {
  private static final String AWKWARD = "q\"b\\s/\n\t\u0001é😀\ud800end";

  @Test
  void row_images_of_every_value_kind_round_trip() {
    Map<String, SourceValue> columns = new LinkedHashMap<>();
    columns.put("text", SqliteValue.of(AWKWARD));
    columns.put(AWKWARD, SqliteValue.of("key with escapes"));
    columns.put("int", SqliteValue.of(Long.MIN_VALUE));
    columns.put("real", SqliteValue.of(0.1));
    columns.put("nan", SqliteValue.of(Double.NaN));
    columns.put("blob", new SqliteValue.BlobValue(new byte[] {0, (byte) 0xff}));
    columns.put("null", SqliteValue.NULL);
    columns.put(
        "ts",
        new SourceValue.Timestamp(
            "2024-03-05T10:11:12.123456Z",
            SourceValue.Precision.MICROSECONDS,
            SourceValue.Precision.MILLISECONDS));
    columns.put(
        "time", new SourceValue.TimeOfDay("08:09:10.25", SourceValue.Precision.MICROSECONDS));
    columns.put(
        "array",
        new SourceValue.SourceArray(
            List.of(
                true,
                false,
                SqliteValue.of("x"),
                SqliteValue.NULL,
                new SourceValue.SourceArray(List.of(SqliteValue.of(1L))))));
    SourceRow row = new SourceRow(columns);
    SourceRow back = StorageCodec.image(StorageCodec.image(row));
    assertThat(back.columns().keySet()).containsExactlyElementsOf(columns.keySet());
    assertThat(StorageCodec.image(back)).isEqualTo(StorageCodec.image(row));
    assertThat(back.columns().get("text")).isEqualTo(SqliteValue.of(AWKWARD));
    assertThat(back.columns().get("ts")).isEqualTo(columns.get("ts"));
    assertThat(back.columns().get("array")).isEqualTo(columns.get("array"));
  }

  @Test
  void placements_whose_table_and_row_id_the_key_implies_are_stored_short_and_read_back_exactly() {
    TableRef todos = TableRef.of("public", "todos");
    for (String[] keyAndId :
        new String[][] {{"[42]", "42"}, {"[-7]", "-7"}, {"[\"a-1 é\"]", "a-1 é"}}) {
      SourceKey key = new SourceKey(todos, keyAndId[0]);
      List<Placement> placements =
          List.of(
              new Placement("g[]", "todos", keyAndId[1], 5),
              new Placement("other[]", "lists", keyAndId[1], 6),
              new Placement("x[]", "todos", "9" + keyAndId[1], 7));
      String text = StorageCodec.placements(placements, key);
      assertThat(text).startsWith("[[\"g[]\",5],[\"other[]\",\"lists\",");
      assertThat(StorageCodec.placements(text, key)).isEqualTo(placements);
    }
    // Keys that imply no row id keep the full form.
    for (String key :
        List.of("[1,2]", "[\"a\\\"b\"]", "[\"a\\\\b\"]", "[]", "[-]", "[\"\"]", "[1.5]", "plain")) {
      SourceKey k = new SourceKey(todos, key);
      List<Placement> placements = List.of(new Placement("g[]", "todos", key, 5));
      String text = StorageCodec.placements(placements, k);
      assertThat(text).as(key).contains("\"todos\"");
      assertThat(StorageCodec.placements(text, k)).isEqualTo(placements);
    }
    // What earlier versions stored (always the full form) reads as before.
    assertThat(
            StorageCodec.placements("[[\"g[]\",\"todos\",\"42\",5]]", new SourceKey(todos, "[42]")))
        .containsExactly(new Placement("g[]", "todos", "42", 5));
    assertThatThrownBy(
            () -> StorageCodec.placements("[[\"g[]\",5]]", new SourceKey(todos, "[1,2]")))
        .isInstanceOfSatisfying(
            SynclineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STORAGE_FAILED));
  }

  @Test
  void placements_look_ups_and_parameter_rows_round_trip() {
    List<Placement> placements =
        List.of(
            new Placement("1#b[\"" + AWKWARD + "\"]", "todos", AWKWARD, 4294967295L),
            new Placement("g[]", "t", "", 0));
    SourceKey key = new SourceKey(TableRef.of("public", "todos"), "[\"" + AWKWARD + "\"]");
    assertThat(StorageCodec.placements(StorageCodec.placements(placements, key), key))
        .isEqualTo(placements);
    assertThat(StorageCodec.placements(StorageCodec.placements(List.of(), key), key)).isEmpty();

    List<ParameterLookup> lookups =
        List.of(
            new ParameterLookup(
                "by_list#1",
                List.of(
                    SqliteValue.of(AWKWARD),
                    SqliteValue.of(3L),
                    SqliteValue.of(2.5),
                    SqliteValue.NULL)),
            new ParameterLookup("lookup#0", List.of()));
    assertThat(StorageCodec.lookups(StorageCodec.lookups(lookups))).isEqualTo(lookups);

    Map<String, SqliteValue> parameters = new LinkedHashMap<>();
    parameters.put("0", SqliteValue.of(AWKWARD));
    parameters.put("result", SqliteValue.of(7L));
    assertThat(StorageCodec.rows(StorageCodec.rows(List.of(parameters, Map.of()))))
        .containsExactly(parameters, Map.of());
  }

  @Test
  void look_up_keys_keep_the_text_existing_databases_hold() {
    // Keys are compared as text in storage: their format must never drift.
    assertThat(
            StorageCodec.lookup(
                new ParameterLookup(
                    "by_list#1",
                    List.of(
                        SqliteValue.of("a\"b"),
                        SqliteValue.of(3L),
                        SqliteValue.of(2.5),
                        SqliteValue.NULL))))
        .isEqualTo("[\"by_list#1\",\"t:a\\\"b\",\"i:3\"," + "\"r:2.5\",\"n\"]");
  }

  @Test
  void stored_keys_of_ascending_integers_ascend_as_text_and_every_key_round_trips() {
    List<Long> ids =
        List.of(0L, 1L, 9L, 10L, 99L, 100L, 123_456L, 999_999L, 1_000_000L, Long.MAX_VALUE);
    List<String> stored = ids.stream().map(id -> StorageCodec.storedKey("[" + id + "]")).toList();
    assertThat(stored)
        .isSorted()
        .startsWith("a[0]", "a[1]", "a[9]", "b[10]")
        .endsWith("s[9223372036854775807]");
    // Bytewise, as COLLATE "C" compares: the letters are ASCII, so String order is byte order here.
    for (int i = 1; i < stored.size(); i++) {
      assertThat(stored.get(i - 1).compareTo(stored.get(i))).isNegative();
    }
    List<String> others =
        List.of(
            "[-5]",
            "[1,2]",
            "[\"10\"]",
            "[1.5]",
            "[]",
            "[12345678901234567890]",
            "[null]",
            "[\"x'cafe'\"]",
            "[" + AWKWARD + "]",
            "plain",
            "",
            "~",
            "a[1]",
            "[");
    for (String key : others) {
      assertThat(StorageCodec.sourceKey(StorageCodec.storedKey(key))).as(key).isEqualTo(key);
    }
    for (Long id : ids) {
      assertThat(StorageCodec.sourceKey(StorageCodec.storedKey("[" + id + "]")))
          .isEqualTo("[" + id + "]");
    }
    assertThat(StorageCodec.storedKey("[1,2]")).isEqualTo("[1,2]");
    assertThat(StorageCodec.storedKey("plain")).isEqualTo("~plain");
    assertThat(StorageCodec.storedKey("a[1]"))
        .isEqualTo("~a[1]")
        .isNotEqualTo(StorageCodec.storedKey("[1]"));
    assertThat(StorageCodec.storedKey("[12345678901234567890]"))
        .isEqualTo("[12345678901234567890]");
  }
}
