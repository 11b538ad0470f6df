package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.internal.rules.sql.Ast;
import dev.syncline.core.internal.rules.sql.SqlParser;
import dev.syncline.core.internal.rules.sql.SqlSyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.SelectFieldOrAsterisk;
import org.jooq.conf.ParamType;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;

/**
 * Initial-snapshot queries, built with jOOQ: for each source table, only the columns the rules read
 * (every column when a query selects {@code *}). Wildcard patterns (of table or schema names) are
 * resolved by the source adapter and get no plan here.
 */
final class SnapshotPlans {
  private final Map<TablePattern, String> sql;

  /**
   * @param fullRows tables read in full (by Sync Streams, whose plans are not analysed column by
   *     column)
   */
  SnapshotPlans(
      List<BucketDefinition> definitions, List<TablePattern> tables, Set<TablePattern> fullRows) {
    Map<TablePattern, Set<String>> columns = new LinkedHashMap<>();
    Set<TablePattern> star = new LinkedHashSet<>(fullRows);
    // Per table: the disjunction of what each reading query requires of a row; null once a query
    // requires nothing.
    Map<TablePattern, List<Set<String>>> requirements = new LinkedHashMap<>();
    Set<TablePattern> unrestricted = new LinkedHashSet<>(fullRows);
    for (TablePattern t : fullRows) {
      columns.computeIfAbsent(t, k -> new LinkedHashSet<>());
    }
    for (BucketDefinition d : definitions) {
      for (DataQuery q : d.dataQueries()) {
        add(
            q.sourceTable,
            q.select,
            q.table().sqlName(),
            columns,
            star,
            requirements,
            unrestricted);
      }
      for (ParameterQuery pq : d.parameterQueries()) {
        if (pq instanceof TableParameterQuery q) {
          try {
            Ast.Statement s = SqlParser.parse(q.sql).get(0);
            if (s instanceof Ast.Select select) {
              add(
                  q.sourceTable,
                  select,
                  q.table.sqlName(),
                  columns,
                  star,
                  requirements,
                  unrestricted);
            }
          } catch (SqlSyntaxException e) {
            star.add(q.sourceTable);
            unrestricted.add(q.sourceTable);
          }
        }
      }
    }
    DSLContext dsl = DSL.using(SQLDialect.POSTGRES, new Settings().withRenderFormatted(false));
    Map<TablePattern, String> out = new LinkedHashMap<>();
    for (TablePattern t : tables) {
      if (t.isWildcard() || t.isSchemaWildcard() || !columns.containsKey(t)) {
        continue;
      }
      var table = DSL.table(DSL.name(t.schema(), t.tablePattern()));
      List<SelectFieldOrAsterisk> fields = new ArrayList<>();
      if (star.contains(t) || columns.get(t).isEmpty()) {
        fields.add(DSL.asterisk());
      } else {
        for (String c : columns.get(t)) {
          fields.add(DSL.field(DSL.name(c)));
        }
      }
      Condition where = DSL.noCondition();
      if (!unrestricted.contains(t)) {
        List<Condition> alternatives = new ArrayList<>();
        for (Set<String> required : requirements.getOrDefault(t, List.of())) {
          alternatives.add(
              DSL.and(required.stream().map(c -> DSL.field(DSL.name(c)).isNotNull()).toList()));
        }
        where = DSL.or(alternatives);
      }
      out.put(t, dsl.select(fields).from(table).where(where).getSQL(ParamType.INLINED));
    }
    this.sql = Map.copyOf(out);
  }

  private static void add(
      TablePattern table,
      Ast.Select select,
      String name,
      Map<TablePattern, Set<String>> columns,
      Set<TablePattern> star,
      Map<TablePattern, List<Set<String>>> requirements,
      Set<TablePattern> unrestricted) {
    Set<String> cols = columns.computeIfAbsent(table, k -> new LinkedHashSet<>());
    if (collect(select, name, cols)) {
      star.add(table);
    }
    Set<String> required = new LinkedHashSet<>();
    if (select.where() != null) {
      requiredNonNull(select.where(), name, required);
    }
    if (required.isEmpty()) {
      unrestricted.add(table);
    } else {
      requirements.computeIfAbsent(table, k -> new ArrayList<>()).add(required);
    }
  }

  /**
   * Columns that must be non-null for any row to pass the filter: pushed into the snapshot query as
   * {@code IS NOT NULL}. Only conditions whose Postgres meaning cannot exclude a row the rules
   * would accept are used: a column matched against a request or bucket value ({@code col =
   * bucket.x}, {@code <request value> IN col}) never matches when NULL, and explicit {@code col IS
   * NOT NULL}. Value comparisons are not pushed down: the column's Postgres type is unknown here
   * and Postgres compares differently from the rules.
   */
  private static void requiredNonNull(Ast.Expr e, String table, Set<String> into) {
    if (e instanceof Ast.Binary b && b.op() == Ast.BinaryOp.AND) {
      requiredNonNull(b.left(), table, into);
      requiredNonNull(b.right(), table, into);
    } else if (e instanceof Ast.Unary u
        && u.op() == Ast.UnaryOp.IS_NOT_NULL
        && column(u.operand(), table) != null) {
      into.add(column(u.operand(), table));
    } else if (e instanceof Ast.Binary b && b.op() == Ast.BinaryOp.EQ) {
      if (column(b.left(), table) != null && isRequestSide(b.right())) {
        into.add(column(b.left(), table));
      } else if (column(b.right(), table) != null && isRequestSide(b.left())) {
        into.add(column(b.right(), table));
      }
    } else if (e instanceof Ast.Binary b
        && b.op() == Ast.BinaryOp.IN
        && isRequestSide(b.left())
        && column(b.right(), table) != null) {
      into.add(column(b.right(), table));
    }
  }

  private static @Nullable String column(Ast.Expr e, String table) {
    if (e instanceof Ast.Ref r
        && !r.name().equals("*")
        && !r.name().equals("_table_suffix")
        && (r.table() == null || (r.table().schema() == null && r.table().name().equals(table)))) {
      return r.name();
    }
    return null;
  }

  private static boolean isRequestSide(Ast.Expr e) {
    if (e instanceof Ast.Ref r) {
      return r.table() != null
          && Set.of("bucket", "token_parameters", "user_parameters").contains(r.table().name());
    } else if (e instanceof Ast.Call c) {
      return "request".equals(c.schema());
    } else if (e instanceof Ast.Member m) {
      return isRequestSide(m.operand());
    }
    return false;
  }

  Map<TablePattern, String> sql() {
    return sql;
  }

  /**
   * Adds the columns of {@code table} that the query reads; returns whether it selects {@code *}.
   */
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
