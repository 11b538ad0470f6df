package dev.syncline.core.internal.rules.plan;

import dev.syncline.core.internal.rules.Messages;
import dev.syncline.core.internal.rules.sql.Ast;
import dev.syncline.core.internal.rules.sql.Ast.Expr;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Edition-3 streams may select from a subquery ({@code SELECT s.id FROM (SELECT id, owner AS o FROM
 * t WHERE ...) AS s WHERE s.o = ...}) or a common table expression, alone or joined with tables,
 * which the reference reads as the subquery's table seen through its columns. This rewrites such a
 * query into one over that table: references to the view's columns become the view's expressions,
 * {@code *} the view's columns, and the view's WHERE clause a condition of the query. A joined view
 * becomes its table under the view's name. Nodes keep their places in the query text, so
 * diagnostics point where the user wrote the expression. Stateless.
 */
final class InlineViews {
  private InlineViews() {}

  /**
   * {@code q} with its views inlined; views this cannot inline (over a join, or with clauses an
   * inlined view would lose: GROUP BY, LIMIT, DISTINCT, ...) are left for the compiler to refuse.
   *
   * @param error reports a problem of the query (a message and where)
   */
  static Ast.Select inline(Ast.Select q, BiConsumer<String, Ast.Span> error) {
    Map<String, Map<String, Expr>> views = new LinkedHashMap<>();
    List<Ast.FromItem> from = new ArrayList<>();
    List<Ast.Column> starColumns = new ArrayList<>();
    Expr viewWhere = null;
    boolean alone = q.from().size() == 1;
    for (Ast.FromItem item : q.from()) {
      Ast.Select inner =
          item instanceof Ast.FromSelect v && (alone || v.alias() != null)
              ? inline(v.select(), error)
              : null;
      if (!(item instanceof Ast.FromSelect view) || inner == null || !inlinable(inner)) {
        from.add(item);
        continue;
      }
      Ast.FromTable table = (Ast.FromTable) inner.from().get(0);
      String innerName = table.alias() != null ? table.alias() : table.name().name();
      // Alone, the view's table keeps its own name; joined, it takes the view's.
      String viewName = view.alias();
      Function<Expr, Expr> requalify =
          alone || viewName == null
              ? e -> e
              : e -> map(e, x -> requalified(x, innerName, viewName));
      // As the reference's subqueries: named columns only (the schema may be unknown, so * could
      // mean anything).
      Map<String, Expr> named = new LinkedHashMap<>();
      for (Ast.Column c : inner.columns()) {
        if (c.expr() instanceof Ast.Ref r && r.name().equals("*")) {
          error.accept(Messages.STAR_NOT_ALLOWED_IN_SUBQUERIES, r.span());
          continue;
        }
        Expr expr = requalify.apply(c.expr());
        String name =
            c.alias() != null ? c.alias() : c.expr() instanceof Ast.Ref r ? r.name() : null;
        if (name != null) {
          named.put(name, expr);
        }
        starColumns.add(new Ast.Column(expr, name, c.aliasSpan(), c.aliasQuoted(), c.span()));
      }
      views.put(view.alias() == null ? "" : view.alias(), named);
      from.add(
          alone ? table : new Ast.FromTable(table.name(), view.alias(), view.join(), view.span()));
      if (inner.where() != null) {
        Expr w = requalify.apply(inner.where());
        viewWhere = viewWhere == null ? w : and(viewWhere, w);
      }
    }
    if (views.isEmpty()) {
      return q;
    }
    Function<Expr, @Nullable Expr> viewRefs = x -> viewReference(x, views, alone, error);
    List<Ast.Column> columns = new ArrayList<>();
    for (Ast.Column c : q.columns()) {
      if (alone
          && c.expr() instanceof Ast.Ref r
          && r.name().equals("*")
          && isView(r.table(), views)) {
        columns.addAll(starColumns);
      } else {
        String alias =
            c.alias() != null ? c.alias() : c.expr() instanceof Ast.Ref r ? r.name() : null;
        Ast.Span aliasSpan = c.aliasSpan() != null ? c.aliasSpan() : c.expr().span();
        columns.add(
            new Ast.Column(
                map(c.expr(), viewRefs),
                alias,
                alias == null ? null : aliasSpan,
                c.aliasQuoted(),
                c.span()));
      }
    }
    Expr where = viewWhere;
    if (q.where() != null) {
      Expr outer = map(q.where(), viewRefs);
      where = where == null ? outer : and(where, outer);
    }
    List<Expr> on = new ArrayList<>();
    q.joinConditions().forEach(c -> on.add(map(c, viewRefs)));
    return q.with(columns, from, where, on);
  }

  /** A view over one table, without clauses inlining would lose. */
  private static boolean inlinable(Ast.Select inner) {
    return inner.from().size() == 1
        && inner.from().get(0) instanceof Ast.FromTable
        && !inner.distinct()
        && inner.groupBy().isEmpty()
        && inner.having() == null
        && inner.orderBy().isEmpty()
        && inner.limitSpan() == null
        && inner.forSpan() == null
        && inner.joinConditions().isEmpty();
  }

  private static Expr and(Expr a, Expr b) {
    return new Ast.Binary(Ast.BinaryOp.AND, a, b, b.span());
  }

  /** Whether a qualifier names a view (alone, no qualifier does too: it is the only table). */
  private static boolean isView(Ast.@Nullable QName table, Map<String, ?> views) {
    return table == null
        ? views.size() == 1
        : table.schema() == null && views.containsKey(table.name());
  }

  /** A column of the view's table, named by the view's alias instead. */
  private static @Nullable Expr requalified(Expr e, String table, String view) {
    if (e instanceof Ast.Ref r
        && !r.name().equals("*")
        && (r.table() == null || (r.table().schema() == null && r.table().name().equals(table)))) {
      Ast.QName q = new Ast.QName(null, view, r.span(), false);
      return new Ast.Ref(q, r.name(), r.nameSpan(), r.quoted(), r.span());
    } else if (e instanceof Ast.Call c
        && c.schema() != null
        && c.schema().equals(table)
        && TableRefs.metadataKey(c.name()) != null) {
      return new Ast.Call(view, c.name(), c.args(), c.distinct(), c.span());
    }
    return null;
  }

  /** A reference to a view's column: the view's expression (or an error when it has none). */
  private static @Nullable Expr viewReference(
      Expr e,
      Map<String, Map<String, Expr>> views,
      boolean alone,
      BiConsumer<String, Ast.Span> error) {
    if (e instanceof Ast.Ref r && !r.name().equals("*")) {
      if (r.table() == null && !alone) {
        return null; // unqualified with several tables: the compiler's to refuse
      }
      Map<String, Expr> named =
          r.table() == null
              ? views.values().iterator().next()
              : r.table().schema() == null ? views.get(r.table().name()) : null;
      if (named == null) {
        return null;
      }
      Expr column = named.get(r.name());
      if (column != null) {
        return column;
      }
      error.accept(Messages.COLUMN_NOT_FOUND_IN_SUBQUERY, r.span());
      return new Ast.NullLit(r.span());
    } else if (e instanceof Ast.Call c
        && c.schema() != null
        && views.containsKey(c.schema())
        && TableRefs.metadataKey(c.name()) != null) {
      int start = c.span().start();
      int end = Math.min(start + c.schema().length() + 1 + c.name().length(), c.span().end());
      error.accept(
          Messages.metadataOfSubquery(c.name().toLowerCase(Locale.ROOT)), new Ast.Span(start, end));
      return new Ast.NullLit(c.span());
    }
    return null;
  }

  /**
   * Rebuilds an expression, replacing each node for which {@code leaf} gives a replacement (nested
   * subqueries read their own tables and are kept).
   */
  static Expr map(Expr e, Function<Expr, @Nullable Expr> leaf) {
    Expr replaced = leaf.apply(e);
    if (replaced != null) {
      return replaced;
    } else if (e instanceof Ast.Call c) {
      return new Ast.Call(c.schema(), c.name(), all(c.args(), leaf), c.distinct(), c.span());
    } else if (e instanceof Ast.Binary b) {
      return new Ast.Binary(b.op(), map(b.left(), leaf), map(b.right(), leaf), b.span());
    } else if (e instanceof Ast.Unary u) {
      return new Ast.Unary(u.op(), map(u.operand(), leaf), u.span());
    } else if (e instanceof Ast.Member m) {
      return new Ast.Member(map(m.operand(), leaf), m.op(), m.member(), m.span());
    } else if (e instanceof Ast.Cast c) {
      return new Ast.Cast(map(c.operand(), leaf), c.typeName(), c.span(), c.typeSpan());
    } else if (e instanceof Ast.ListExpr l) {
      return new Ast.ListExpr(all(l.items(), leaf), l.span());
    } else if (e instanceof Ast.Other o) {
      return new Ast.Other(o.kind(), o.op(), all(o.children(), leaf), o.span());
    }
    return e;
  }

  private static List<Expr> all(List<Expr> exprs, Function<Expr, @Nullable Expr> leaf) {
    List<Expr> out = new ArrayList<>(exprs.size());
    exprs.forEach(x -> out.add(map(x, leaf)));
    return out;
  }
}
