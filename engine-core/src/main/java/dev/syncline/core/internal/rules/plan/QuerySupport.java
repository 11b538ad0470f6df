package dev.syncline.core.internal.rules.plan;

import dev.syncline.core.internal.rules.Messages;
import dev.syncline.core.internal.rules.sql.Ast;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/** Checks shared by all query kinds, and the detection of request values used by a query. */
final class QuerySupport {
  private QuerySupport() {}

  static Ast.Select requireSelect(String sql, Ast.Statement statement) throws QueryException {
    if (!(statement instanceof Ast.Select select)) {
      throw new QueryException(
          SqlProblem.fatal(
              Messages.ONLY_SELECT_STATEMENTS_ARE_SUPPORTED,
              statement.span().start(),
              statement.span().end()));
    }
    return select;
  }

  static List<SqlProblem> unsupportedFeatures(String sql, Ast.Select q) {
    List<SqlProblem> problems = new ArrayList<>();
    if (q.limitSpan() != null) {
      problems.add(
          SqlProblem.fatal(
              Messages.LIMIT_IS_NOT_SUPPORTED, q.limitSpan().start(), q.limitSpan().end()));
    }
    if (!q.orderBy().isEmpty()) {
      Ast.Span s = q.orderBy().get(0).span();
      problems.add(SqlProblem.fatal(Messages.ORDER_BY_IS_NOT_SUPPORTED, s.start(), s.end()));
    }
    if (q.having() != null) {
      problems.add(
          SqlProblem.fatal(
              Messages.HAVING_IS_NOT_SUPPORTED,
              q.having().span().start(),
              q.having().span().end()));
    }
    if (!q.groupBy().isEmpty()) {
      Ast.Span s = q.groupBy().get(0).span();
      problems.add(SqlProblem.fatal(Messages.GROUP_BY_IS_NOT_SUPPORTED, s.start(), s.end()));
    }
    if (q.distinct()) {
      problems.add(SqlProblem.fatal(Messages.DISTINCT_IS_NOT_SUPPORTED, 0, sql.length()));
    }
    if (q.forSpan() != null) {
      problems.add(
          SqlProblem.fatal(
              Messages.SELECT_FOR_IS_NOT_SUPPORTED, q.forSpan().start(), q.forSpan().end()));
    }
    return problems;
  }

  /**
   * What edition-3 streams refuse in a SELECT, as the reference's second compiler words it: HAVING
   * counts as GROUP BY, DISTINCT is taken, and a join other than an inner one is "FULL JOIN" (over
   * its ON condition, or the whole query when it has none).
   */
  static List<SqlProblem> unsupportedFeaturesEdition3(String sql, Ast.Select q) {
    List<SqlProblem> problems = new ArrayList<>();
    if (!q.groupBy().isEmpty()) {
      Ast.Span s = q.groupBy().get(0).span().to(q.groupBy().get(q.groupBy().size() - 1).span());
      problems.add(SqlProblem.fatal(Messages.GROUP_BY_IS_NOT_SUPPORTED, s.start(), s.end()));
    }
    if (q.having() != null) {
      Ast.Span s = q.having().span();
      problems.add(SqlProblem.fatal(Messages.GROUP_BY_IS_NOT_SUPPORTED, s.start(), s.end()));
    }
    if (q.limitSpan() != null) {
      problems.add(
          SqlProblem.fatal(
              Messages.LIMIT_IS_NOT_SUPPORTED, q.limitSpan().start(), q.limitSpan().end()));
    }
    if (!q.orderBy().isEmpty()) {
      Ast.Span s = q.orderBy().get(0).span().to(q.orderBy().get(q.orderBy().size() - 1).span());
      problems.add(SqlProblem.fatal(Messages.ORDER_BY_IS_NOT_SUPPORTED, s.start(), s.end()));
    }
    if (q.forSpan() != null) {
      problems.add(
          SqlProblem.fatal(Messages.FOR_IS_NOT_SUPPORTED, q.forSpan().start(), q.forSpan().end()));
    }
    int on = 0;
    for (Ast.FromItem item : q.from()) {
      String join = item.join();
      if (join == null || join.equals(",")) {
        continue;
      }
      boolean hasOn = !join.equals("cross join") && !join.equals("natural join");
      Ast.Span where =
          hasOn && on < q.joinConditions().size()
              ? withOnKeyword(sql, q.joinConditions().get(on).span())
              : q.span();
      if (hasOn) {
        on++;
      }
      if (!join.equals("join") && !join.equals("inner join")) {
        problems.add(
            SqlProblem.fatal(Messages.FULL_JOIN_IS_NOT_SUPPORTED, where.start(), where.end()));
      }
    }
    return problems;
  }

  /** {@code condition}'s span widened to the {@code ON} before it, as the reference marks it. */
  private static Ast.Span withOnKeyword(String sql, Ast.Span condition) {
    int i = condition.start();
    while (i > 0 && Character.isWhitespace(sql.charAt(i - 1))) {
      i--;
    }
    return i >= 2 && sql.regionMatches(true, i - 2, "on", 0, 2)
        ? new Ast.Span(i - 2, condition.end())
        : condition;
  }

  /**
   * The problem for a query whose buckets depend only on client-controlled values: fatal unless the
   * compiler was told to only warn (PowerSync's behaviour); the definition can opt in with {@code
   * accept_potentially_dangerous_queries: true}.
   */
  static SqlProblem dangerous(QueryContext ctx, String sql) {
    return ctx.dangerousQueriesAreWarnings()
        ? SqlProblem.warning(Messages.DANGEROUS_QUERY, 0, sql.length())
        : SqlProblem.fatal(
            Messages.DANGEROUS_QUERY + " " + Messages.DANGEROUS_QUERY_OPT_IN_DEFINITION,
            0,
            sql.length());
  }

  /** Which kinds of request values a set of clauses reads. */
  static final class RequestUsage {
    boolean authenticated;
    boolean unauthenticated;

    void accept(@Nullable Clause clause) {
      if (clause == null) {
        return;
      }
      if (clause instanceof Clause.RequestFunctionCall call) {
        authenticated |= call.usage() == RequestFunctions.Usage.AUTHENTICATED;
        unauthenticated |= call.usage() == RequestFunctions.Usage.UNAUTHENTICATED;
      } else if (clause instanceof Clause.TableParameterRef ref) {
        if (ref.table().equals("token_parameters")) {
          authenticated = true;
        } else if (ref.table().equals("user_parameters")) {
          unauthenticated = true;
        }
      } else if (clause instanceof Clause.ParameterMatch m && "or".equals(m.specialType())) {
        RequestUsage left = new RequestUsage();
        RequestUsage right = new RequestUsage();
        boolean[] first = {true};
        m.visitChildren(
            c -> {
              if (first[0]) {
                left.accept(c);
                first[0] = false;
              } else {
                right.accept(c);
              }
            });
        authenticated = left.authenticated && right.authenticated;
        unauthenticated |= left.unauthenticated || right.unauthenticated;
        return;
      }
      Consumer<Clause> visitor = this::accept;
      if (clause instanceof Clause.ParameterValue p) {
        p.visitChildren(visitor);
      } else if (clause instanceof Clause.ParameterMatch m) {
        m.visitChildren(visitor);
      }
    }

    void acceptAll(Collection<? extends Clause> clauses) {
      clauses.forEach(this::accept);
    }
  }
}
