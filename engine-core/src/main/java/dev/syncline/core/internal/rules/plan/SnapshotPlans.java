package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.internal.rules.sql.Ast;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.SQLDialect;
import org.jooq.conf.ParamType;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;

/**
 * Initial-snapshot queries, built with jOOQ: for each source table, only the columns the rules read (every column
 * when a query selects {@code *}). Wildcard table patterns are resolved by the source adapter and get no plan here.
 */
final class SnapshotPlans {
  private final Map<TablePattern, String> sql;

  SnapshotPlans(List<BucketDefinition> definitions, List<TablePattern> tables) {
    Map<TablePattern, Set<String>> columns = new LinkedHashMap<>();
    Set<TablePattern> star = new LinkedHashSet<>();
    for (BucketDefinition d : definitions) {
      for (DataQuery q : d.dataQueries()) {
        Set<String> cols = columns.computeIfAbsent(q.sourceTable, k -> new LinkedHashSet<>());
        if (collect(q.select, q.table().sqlName(), cols)) {
          star.add(q.sourceTable);
        }
      }
      for (ParameterQuery pq : d.parameterQueries()) {
        if (pq instanceof TableParameterQuery q) {
          Set<String> cols = columns.computeIfAbsent(q.sourceTable, k -> new LinkedHashSet<>());
          // Parameter queries are compiled from the statement text again to find their columns.
          try {
            Ast.Statement s = dev.syncline.core.internal.rules.sql.SqlParser.parse(q.sql).get(0);
            if (s instanceof Ast.Select select && collect(select, q.table.sqlName(), cols)) {
              star.add(q.sourceTable);
            }
          } catch (dev.syncline.core.internal.rules.sql.SqlSyntaxException e) {
            star.add(q.sourceTable);
          }
        }
      }
    }
    DSLContext dsl = DSL.using(SQLDialect.POSTGRES, new Settings().withRenderFormatted(false));
    Map<TablePattern, String> out = new LinkedHashMap<>();
    for (TablePattern t : tables) {
      if (t.isWildcard() || !columns.containsKey(t)) {
        continue;
      }
      var table = DSL.table(DSL.name(t.schema(), t.tablePattern()));
      String rendered;
      if (star.contains(t) || columns.get(t).isEmpty()) {
        rendered = dsl.select(DSL.asterisk()).from(table).getSQL(ParamType.INLINED);
      } else {
        List<Field<?>> fields = new ArrayList<>();
        for (String c : columns.get(t)) {
          fields.add(DSL.field(DSL.name(c)));
        }
        rendered = dsl.select(fields).from(table).getSQL(ParamType.INLINED);
      }
      out.put(t, rendered);
    }
    this.sql = Map.copyOf(out);
  }

  Map<TablePattern, String> sql() {
    return sql;
  }

  /** Adds the columns of {@code table} that the query reads; returns whether it selects {@code *}. */
  private static boolean collect(Ast.Select select, String table, Set<String> into) {
    boolean[] star = {false};
    List<Ast.Expr> exprs = new ArrayList<>();
    for (Ast.Column c : select.columns()) {
      exprs.add(c.expr());
    }
    if (select.where() != null) {
      exprs.add(select.where());
    }
    for (Ast.Expr e : exprs) {
      walk(e, table, into, star);
    }
    return star[0];
  }

  /** Adds the columns of {@code table} that an expression reads. */
  static void collectColumns(Ast.Expr e, String table, Set<String> into) {
    walk(e, table, into, new boolean[1]);
  }

  private static void walk(Ast.Expr e, String table, Set<String> into, boolean[] star) {
    if (e instanceof Ast.Ref r) {
      if (r.table() == null || r.table().name().equals(table)) {
        if (r.name().equals("*")) {
          star[0] = true;
        } else if (!r.name().equals("_table_suffix")) {
          into.add(r.name());
        }
      }
    } else if (e instanceof Ast.Binary b) {
      walk(b.left(), table, into, star);
      walk(b.right(), table, into, star);
    } else if (e instanceof Ast.Unary u) {
      walk(u.operand(), table, into, star);
    } else if (e instanceof Ast.Call c) {
      c.args().forEach(a -> walk(a, table, into, star));
    } else if (e instanceof Ast.Member m) {
      walk(m.operand(), table, into, star);
    } else if (e instanceof Ast.Cast c) {
      walk(c.operand(), table, into, star);
    } else if (e instanceof Ast.ListExpr l) {
      l.items().forEach(a -> walk(a, table, into, star));
    } else if (e instanceof Ast.Other o) {
      o.children().forEach(a -> walk(a, table, into, star));
    }
  }
}
