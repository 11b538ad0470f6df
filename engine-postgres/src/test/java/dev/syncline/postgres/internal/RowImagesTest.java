package dev.syncline.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.testkit.postgres.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link RowImages} may answer "no image needed" only for rows Postgres cannot TOAST: checked
 * against the stored size Postgres itself reports for random rows of many types.
 */
class RowImagesTest {
  @RegisterExtension static final TestPostgres POSTGRES = new TestPostgres();

  @Test
  void the_limit_is_postgres_threshold_or_the_tables_lower_target() {
    assertThat(RowImages.toastLimit(8192, 0))
        .isEqualTo(2032); // TOAST_TUPLE_THRESHOLD of 8 KiB pages
    assertThat(RowImages.toastLimit(32768, 0)).isEqualTo(8182 & ~7);
    assertThat(RowImages.toastLimit(8192, 256)).isEqualTo(256);
    assertThat(RowImages.toastLimit(8192, 4000)).isEqualTo(2032);
  }

  @Test
  void
      rows_the_bound_calls_small_are_stored_below_the_toast_limit_and_most_ordinary_rows_are_small()
          throws Exception {
    Random random = new Random(42);
    int small = 0;
    try (Connection c = POSTGRES.dataSource().getConnection();
        Statement s = c.createStatement()) {
      PgCatalog.pinSessionSettings(c);
      s.execute(
          "CREATE TABLE sized (id bigint PRIMARY KEY, name text, label varchar(200), code char(8), "
              + "amount numeric, ratio float8, flag bool, day date, at timestamptz, uid uuid, doc jsonb, meta json, "
              + "tags text[], nums int[], raw bytea, span int4range, spot point)");
      // No compression, so that pg_column_size(row) below is the size Postgres compares with its
      // threshold.
      s.execute(
          "ALTER TABLE sized "
              + String.join(
                  ", ",
                  List.of(
                          "name", "label", "code", "amount", "doc", "meta", "tags", "nums", "raw",
                          "span")
                      .stream()
                      .map(col -> "ALTER COLUMN " + col + " SET STORAGE EXTERNAL")
                      .toList()));
      for (int i = 0; i < 600; i++) {
        // Each row has one column of a random size, from ordinary to well past the threshold: rows
        // near the
        // threshold are where a bound that is too tight shows.
        int big = random.nextInt(6);
        int size = 20 + random.nextInt(random.nextBoolean() ? 150 : 600);
        s.execute(
            "INSERT INTO sized VALUES ("
                + i
                + ", "
                + text(random, big == 0 ? size * 3 : 12)
                + ", "
                + text(random, 30)
                + ", 'ab', "
                + (random.nextInt(1_000_000) / 100.0)
                + (big == 1 ? "1".repeat(size * 2) : "")
                + ", 0.5, true, '2026-11-25', now(), gen_random_uuid(), '"
                + json(random, big == 2 ? size : 4)
                + "', '{\"a\":1}', ARRAY["
                + texts(random, big == 3 ? size : 2)
                + "]::text[], ARRAY["
                + numbers(random, big == 4 ? size : 3)
                + "]::int[], decode('"
                + "ab".repeat(big == 5 ? size * 4 : 8)
                + "', 'hex'), int4range(1, "
                + (2 + random.nextInt(100))
                + "), point(1, 2))");
      }
      PgCatalog catalog = new PgCatalog(c);
      PgCatalog.TableInfo info =
          catalog.tables(List.of(new TablePattern("default", "public", "sized"))).get(0);
      PgValues values = new PgValues(catalog::type);
      int limit = RowImages.toastLimit(8192, 0);
      try (ResultSet rs =
          s.executeQuery("SELECT *, pg_column_size(sized.*) FROM sized ORDER BY id")) {
        int n = info.columns().size();
        while (rs.next()) {
          Map<String, SourceValue> row = new LinkedHashMap<>();
          for (int i = 0; i < n; i++) {
            row.put(
                info.columns().get(i),
                values.convertNullable(info.typeOids().get(i), rs.getString(i + 1)));
          }
          int stored = rs.getInt(n + 1);
          if (!info.images().needed(new SourceRow(row))) {
            small++;
            assertThat(stored).as("row %s was judged small", row.get("id")).isLessThan(limit);
          }
        }
      }
      // A row without one of the table's columns (not published) always keeps its image.
      assertThat(info.images().needed(SourceRow.builder().put("id", 1L).build())).isTrue();
    }
    assertThat(small).as("ordinary rows need no image").isGreaterThan(250);
  }

  private static String text(Random random, int chars) {
    StringBuilder sb = new StringBuilder("'");
    for (int i = 0; i < chars; i++) {
      int kind = random.nextInt(20);
      sb.append(
          kind == 0
              ? "é"
              : kind == 1
                  ? "😀"
                  : kind == 2 ? "''" : String.valueOf((char) ('a' + random.nextInt(26))));
    }
    return sb.append('\'').toString();
  }

  private static String json(Random random, int elements) {
    boolean ones = random.nextBoolean(); // [1,1,...]: the most bytes per character jsonb stores
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < elements; i++) {
      sb.append(i > 0 ? "," : "").append(ones || random.nextBoolean() ? "1" : "{\"k\":[]}");
    }
    return sb.append(']').toString();
  }

  private static String texts(Random random, int count) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < count; i++) {
      sb.append(i > 0 ? "," : "").append(text(random, 1 + random.nextInt(4)));
    }
    return sb.toString();
  }

  private static String numbers(Random random, int count) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.max(1, count); i++) {
      sb.append(i > 0 ? "," : "").append(random.nextInt(1000));
    }
    return sb.toString();
  }
}
