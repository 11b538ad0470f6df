package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.postgres.internal.PgCatalog;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.postgres.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One schema per tenant, replicated end to end from a real Postgres through one slot: a stream over
 * {@code "%".test_data} reads the table in every schema, and {@code test_data.schema()} puts each
 * tenant's rows in that tenant's bucket (sync-rules 0.40, PowerSync Service 1.25).
 */
class SchemaPerTenantTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final String RULES =
      """
      config:
        edition: 3
      streams:
        stream:
          query: SELECT * FROM "%".test_data WHERE test_data.schema() = auth.parameter('tenant_schema')
      """;

  @Test
  void rowsOfEachSchemaLandInThatTenantsBucket() throws SQLException {
    try (var h = new ReplicationHarness(postgres, RULES, "t_tenants")) {
      try {
        for (String tenant : List.of("tenant_a", "tenant_b")) {
          h.sql(
              "DROP SCHEMA IF EXISTS " + tenant + " CASCADE",
              "CREATE SCHEMA " + tenant,
              "CREATE TABLE " + tenant + ".test_data (id text PRIMARY KEY, description text)");
        }
        h.sql(
            "INSERT INTO tenant_a.test_data VALUES ('a1', 'snapshot a')",
            "INSERT INTO tenant_b.test_data VALUES ('b1', 'snapshot b')");
        try (Connection c = postgres.dataSource().getConnection()) {
          PgCatalog.pinSessionSettings(c);
          assertThat(
                  new PgCatalog(c)
                      .tables(List.of(new TablePattern("default", "%", "test_data"))).stream()
                          .map(PgCatalog.TableInfo::ref))
              .containsExactly(
                  new TableRef("default", "tenant_a", "test_data"),
                  new TableRef("default", "tenant_b", "test_data"));
        }
        h.start(h.sourceBuilder().statusInterval(Duration.ofMillis(100)));
        h.sql(
            "INSERT INTO tenant_a.test_data VALUES ('a2', 'streamed a')",
            "INSERT INTO tenant_b.test_data VALUES ('b2', 'streamed b')",
            "UPDATE tenant_b.test_data SET description = 'changed' WHERE id = 'b1'",
            "DELETE FROM tenant_a.test_data WHERE id = 'a1'");
        Checkpoint c = h.awaitCaughtUp();
        assertThat(h.bucket("stream|0[\"tenant_a\"]", c))
            .isEqualTo(Map.of("test_data/a2", "{\"id\":\"a2\",\"description\":\"streamed a\"}"));
        assertThat(h.bucket("stream|0[\"tenant_b\"]", c))
            .isEqualTo(
                Map.of(
                    "test_data/b1", "{\"id\":\"b1\",\"description\":\"changed\"}",
                    "test_data/b2", "{\"id\":\"b2\",\"description\":\"streamed b\"}"));

        // A tenant added while replicating: found by the next status round, copied, then streamed.
        h.sql(
            "DROP SCHEMA IF EXISTS tenant_c CASCADE",
            "CREATE SCHEMA tenant_c",
            "CREATE TABLE tenant_c.test_data (id text PRIMARY KEY, description text)",
            "INSERT INTO tenant_c.test_data VALUES ('c1', 'before found')");
        Await.until(
            Duration.ofSeconds(60),
            () -> h.bucket("stream|0[\"tenant_c\"]", h.awaitCaughtUp()).containsKey("test_data/c1"),
            "the new tenant's existing row");
        h.sql("INSERT INTO tenant_c.test_data VALUES ('c2', 'after')");
        assertThat(h.bucket("stream|0[\"tenant_c\"]", h.awaitCaughtUp()))
            .isEqualTo(
                Map.of(
                    "test_data/c1", "{\"id\":\"c1\",\"description\":\"before found\"}",
                    "test_data/c2", "{\"id\":\"c2\",\"description\":\"after\"}"));
      } finally {
        h.sql(
            "DROP SCHEMA IF EXISTS tenant_a CASCADE",
            "DROP SCHEMA IF EXISTS tenant_b CASCADE",
            "DROP SCHEMA IF EXISTS tenant_c CASCADE");
      }
    }
  }
}
