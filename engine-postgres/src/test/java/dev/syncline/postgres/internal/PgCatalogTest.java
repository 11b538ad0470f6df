package dev.syncline.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.postgres.internal.PgCatalog.TableInfo;
import dev.syncline.testkit.postgres.TestPostgres;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Which tables and key columns the catalog finds, on a real Postgres. */
class PgCatalogTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static TablePattern table(String pattern) {
    return new TablePattern(TableRef.DEFAULT_TAG, "public", pattern);
  }

  @Test
  void key_columns_follow_the_replica_identity() throws Exception {
    postgres.execute(
        "CREATE TABLE by_pk (a int, b text, c text, PRIMARY KEY (b, a))",
        "CREATE TABLE by_index (id int PRIMARY KEY, code text NOT NULL, note text)",
        "CREATE UNIQUE INDEX by_index_code ON by_index (code)",
        "ALTER TABLE by_index REPLICA IDENTITY USING INDEX by_index_code",
        "CREATE TABLE full_with_pk (id int PRIMARY KEY, v text)",
        "ALTER TABLE full_with_pk REPLICA IDENTITY FULL",
        "CREATE TABLE full_without_pk (x int, y text)",
        "ALTER TABLE full_without_pk REPLICA IDENTITY FULL");
    try (Connection c = postgres.dataSource().getConnection()) {
      List<TableInfo> tables =
          new PgCatalog(c)
              .tables(
                  List.of(
                      table("by_pk"),
                      table("by_index"),
                      table("full_with_pk"),
                      table("full_without_pk")));
      assertThat(tables)
          .extracting(t -> t.ref().name(), TableInfo::keyColumns, TableInfo::replicaIdentity)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple("by_pk", List.of("b", "a"), 'd'),
              org.assertj.core.groups.Tuple.tuple("by_index", List.of("code"), 'i'),
              // FULL: the primary key still names the row (every column would change its id with
              // every update); without one, all columns do.
              org.assertj.core.groups.Tuple.tuple("full_with_pk", List.of("id"), 'f'),
              org.assertj.core.groups.Tuple.tuple("full_without_pk", List.of("x", "y"), 'f'));
      assertThat(tables.get(0).columns()).containsExactly("a", "b", "c");
    }
  }

  @Test
  void a_wildcard_finds_every_table_with_the_prefix_and_only_those() throws Exception {
    postgres.execute(
        "CREATE TABLE log_2025 (id int PRIMARY KEY)",
        "CREATE TABLE log_2026 (id int PRIMARY KEY)",
        "CREATE TABLE logbook (id int PRIMARY KEY)",
        "CREATE TABLE other_log (id int PRIMARY KEY)");
    try (Connection c = postgres.dataSource().getConnection()) {
      assertThat(new PgCatalog(c).tables(List.of(table("log_%"))))
          .extracting(t -> t.ref().name())
          .containsExactly("log_2025", "log_2026");
    }
  }

  @Test
  void a_table_without_a_key_is_refused_with_the_fix() throws Exception {
    postgres.execute(
        "CREATE TABLE no_key (a int, b text)",
        "CREATE TABLE \"Nothing\" (id int PRIMARY KEY)",
        "ALTER TABLE \"Nothing\" REPLICA IDENTITY NOTHING");
    try (Connection c = postgres.dataSource().getConnection()) {
      PgCatalog catalog = new PgCatalog(c);
      assertThatThrownBy(() -> catalog.tables(List.of(table("no_key"), table("Nothing"))))
          .isInstanceOfSatisfying(
              SynclineException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_MISCONFIGURED))
          .hasMessageContaining("table public.no_key has no primary key")
          .hasMessageContaining("ALTER TABLE \"public\".\"no_key\" REPLICA IDENTITY USING INDEX")
          .hasMessageContaining("table public.Nothing has REPLICA IDENTITY NOTHING")
          .hasMessageContaining("ALTER TABLE \"public\".\"Nothing\"");
    }
  }

  @Test
  void identifiers_are_always_quoted_with_quotes_doubled() {
    assertThat(PgCatalog.quoteIdent("todos")).isEqualTo("\"todos\"");
    assertThat(PgCatalog.quoteIdent("my \"table\"")).isEqualTo("\"my \"\"table\"\"\"");
  }
}
