package dev.syncline.api.rules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.TableRef;
import org.junit.jupiter.api.Test;

class TablePatternTest {
  private static TableRef table(String schema, String name) {
    return new TableRef(TableRef.DEFAULT_TAG, schema, name);
  }

  @Test
  void exactNamesMatchOneTable() {
    TablePattern p = new TablePattern("default", "public", "todos");
    assertThat(p.isWildcard()).isFalse();
    assertThat(p.isSchemaWildcard()).isFalse();
    assertThat(p.matches(table("public", "todos"))).isTrue();
    assertThat(p.matches(table("public", "todos2"))).isFalse();
    assertThat(p.matches(table("other", "todos"))).isFalse();
    assertThat(p.matches(new TableRef("other_db", "public", "todos"))).isFalse();
  }

  @Test
  void aSchemaWildcardSpansSchemasByPrefix() {
    TablePattern every = new TablePattern("default", "%", "todos");
    assertThat(every.isSchemaWildcard()).isTrue();
    assertThat(every.matches(table("tenant_a", "todos"))).isTrue();
    assertThat(every.matches(table("public", "todos"))).isTrue();
    assertThat(every.matches(table("tenant_a", "lists"))).isFalse();

    TablePattern tenants = new TablePattern("default", "tenant_%", "todos_%");
    assertThat(tenants.matches(table("tenant_b", "todos_2026"))).isTrue();
    assertThat(tenants.matches(table("public", "todos_2026"))).isFalse();
    assertThat(tenants.matches(table("tenant_b", "lists"))).isFalse();
    assertThat(tenants.matchesSchema("tenant_")).isTrue();
    assertThat(tenants.matchesSchema("tenant")).isFalse();
  }
}
