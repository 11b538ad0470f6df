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
import org.jspecify.annotations.Nullable;

/**
 * Edition-3 streams may select from a subquery ({@code SELECT s.id FROM (SELECT id, owner AS o FROM
 * t WHERE ...) AS s WHERE s.o = ...}), which the reference reads as the subquery's table seen
 * through its columns. This rewrites such a query into one over that table: the outer query's
 * references to the view's columns become the view's expressions, its {@code *} the view's columns,
 * and the two WHERE clauses one. Nodes keep their places in the query text, so diagnostics point
 * where the user wrote the expression. Stateless.
 */
final class InlineViews {
  private InlineViews() {}

  /**
   * {@code q} with its view inlined, or {@code q} itself when FROM is not exactly one subquery over
   * one table (without clauses an inlined view would lose: GROUP BY, LIMIT, DISTINCT, ...).
   *
   * @param error reports a problem of the outer query (a message and where)
   */
  static Ast.Select inline(Ast.Select q, BiConsumer<String, Ast.Span> error) {
    if (q.from().size() != 1 || !(q.from().get(0) instanceof Ast.FromSelect view)) {
      return q;
    }
    Ast.Select inner = inline(view.select(), error);
    if (inner.from().size() != 1
        || !(inner.from().get(0) instanceof Ast.FromTable)
        || inner.distinct()
        || !inner.groupBy().isEmpty()
        || inner.having() != null
        || !inner.orderBy().isEmpty()
        || inner.limitSpan() != null
        || inner.forSpan() != null) {
      return q;
    }
    // As the reference's subqueries: named columns only (the schema may be unknown, so * could
    // mean anything).
    Map<String, Expr> named = new LinkedHashMap<>();
    List<Ast.Column> viewColumns = new ArrayList<>();
    for (Ast.Column c : inner.columns()) {
      if (c.expr() instanceof Ast.Ref r && r.name().equals("*")) {
        error.accept(Messages.STAR_NOT_ALLOWED_IN_SUBQUERIES, r.span());
        continue;
      }
      viewColumns.add(c);
      if (c.alias() != null) {
        named.put(c.alias(), c.expr());
      } else if (c.expr() instanceof Ast.Ref r) {
        named.put(r.name(), c.expr());
      }
    }
    Rewriter rw = new Rewriter(view.alias(), named, error);
    List<Ast.Column> columns = new ArrayList<>();
    for (Ast.Column c : q.columns()) {
      if (c.expr() instanceof Ast.Ref r && r.name().equals("*") && rw.isView(r.table())) {
        columns.addAll(viewColumns);
      } else {
        String alias =
            c.alias() != null ? c.alias() : c.expr() instanceof Ast.Ref r ? r.name() : null;
        Ast.Span aliasSpan = c.aliasSpan() != null ? c.aliasSpan() : c.expr().span();
        columns.add(
            new Ast.Column(
                rw.rewrite(c.expr()),
                alias,
                alias == null ? null : aliasSpan,
                c.aliasQuoted(),
                c.span()));
      }
    }
    Expr where = inner.where();
    if (q.where() != null) {
      Expr outer = rw.rewrite(q.where());
      where = where == null ? outer : new Ast.Binary(Ast.BinaryOp.AND, where, outer, outer.span());
    }
    return new Ast.Select(
        q.distinct(),
        List.copyOf(columns),
        inner.from(),
        where,
        q.groupBy(),
        q.having(),
        q.orderBy(),
        q.limitSpan(),
        q.forSpan(),
        q.span(),
        inner.joinConditions(),
        q.usingSpan());
  }

  /** Replaces references to the view's columns with the view's expressions. */
  private static final class Rewriter {
    private final @Nullable String alias;
    private final Map<String, Expr> named;
    private final BiConsumer<String, Ast.Span> error;

    Rewriter(@Nullable String alias, Map<String, Expr> named, BiConsumer<String, Ast.Span> error) {
      this.alias = alias;
      this.named = named;
      this.error = error;
    }

    /** Whether a qualifier names the view (no qualifier does too: it is the only table). */
    boolean isView(Ast.@Nullable QName table) {
      return table == null || (table.schema() == null && table.name().equals(alias));
    }

    Expr rewrite(Expr e) {
      if (e instanceof Ast.Ref r) {
        if (r.name().equals("*") || !isView(r.table())) {
          return r;
        }
        Expr column = named.get(r.name());
        if (column != null) {
          return column;
        }
        error.accept(Messages.COLUMN_NOT_FOUND_IN_SUBQUERY, r.span());
        return new Ast.NullLit(r.span());
      } else if (e instanceof Ast.Call c) {
        String kind = c.name().toLowerCase(Locale.ROOT);
        if (c.schema() != null
            && c.schema().equals(alias)
            && TableRefs.metadataKey(c.name()) != null) {
          int start = c.span().start();
          int end = Math.min(start + c.schema().length() + 1 + c.name().length(), c.span().end());
          error.accept(Messages.metadataOfSubquery(kind), new Ast.Span(start, end));
          return new Ast.NullLit(c.span());
        }
        return new Ast.Call(c.schema(), c.name(), all(c.args()), c.distinct(), c.span());
      } else if (e instanceof Ast.Binary b) {
        return new Ast.Binary(b.op(), rewrite(b.left()), rewrite(b.right()), b.span());
      } else if (e instanceof Ast.Unary u) {
        return new Ast.Unary(u.op(), rewrite(u.operand()), u.span());
      } else if (e instanceof Ast.Member m) {
        return new Ast.Member(rewrite(m.operand()), m.op(), m.member(), m.span());
      } else if (e instanceof Ast.Cast c) {
        return new Ast.Cast(rewrite(c.operand()), c.typeName(), c.span(), c.typeSpan());
      } else if (e instanceof Ast.ListExpr l) {
        return new Ast.ListExpr(all(l.items()), l.span());
      } else if (e instanceof Ast.Other o) {
        return new Ast.Other(o.kind(), o.op(), all(o.children()), o.span());
      }
      return e; // literals; a nested subquery reads its own tables
    }

    private List<Expr> all(List<Expr> exprs) {
      List<Expr> out = new ArrayList<>(exprs.size());
      exprs.forEach(x -> out.add(rewrite(x)));
      return out;
    }
  }
}
