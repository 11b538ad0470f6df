package dev.syncline.core.internal.rules.plan;

import dev.syncline.core.internal.rules.Messages;
import dev.syncline.core.internal.rules.eval.SqlFunction;
import dev.syncline.core.internal.rules.eval.SqlFunctions;
import dev.syncline.core.internal.rules.eval.SqlValues;
import dev.syncline.core.internal.rules.sql.Ast;
import dev.syncline.core.internal.rules.sql.Ast.Expr;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Compiles one SQL expression tree to a {@code T}: the one walk over expression syntax that bucket
 * definitions ({@link ClauseCompiler}, to {@link Clause}s) and Sync Streams (the stream compiler,
 * to expressions that know what they depend on) share.
 *
 * <p>This class owns the walk and what every node means as a value: literals, each operator, CAST,
 * JSON members, SQL functions, CASE and BETWEEN. A subclass owns what the two kinds of rules do
 * differently: what a column reference or a request value ({@code request.*}, {@code auth.*}) is,
 * how compiled arguments combine into one (which mixes of row and request values are allowed, and
 * what is evaluated at compile time), and which forms its rules refuse with which message.
 *
 * <p>The two kinds of rules also report problems in a different order, as the reference does:
 * bucket definitions compile the operands of a node before checking the node (so an operand's
 * problems come first, and a node over a failed operand adds none of its own), streams check the
 * node first. {@link #checksNodeFirst()} chooses.
 *
 * <p>One instance per query; not thread-safe (what it compiles to is).
 *
 * @param <T> what an expression compiles to
 */
abstract class ExpressionCompiler<T> {
  /**
   * Operators the reference's first compiler (bucket definitions and edition-2 streams) evaluates,
   * besides {@code IN}.
   */
  static final Set<Ast.BinaryOp> LEGACY_OPERATORS =
      EnumSet.of(
          Ast.BinaryOp.EQ,
          Ast.BinaryOp.NE,
          Ast.BinaryOp.LT,
          Ast.BinaryOp.GT,
          Ast.BinaryOp.LE,
          Ast.BinaryOp.GE,
          Ast.BinaryOp.ADD,
          Ast.BinaryOp.SUBTRACT,
          Ast.BinaryOp.MULTIPLY,
          Ast.BinaryOp.DIVIDE,
          Ast.BinaryOp.CONCAT,
          Ast.BinaryOp.AND,
          Ast.BinaryOp.OR);

  /** The types {@code CAST} converts to. */
  static final Set<String> CAST_TYPES = Set.of("text", "numeric", "integer", "real", "blob");

  final SqlFunctions functions;
  final boolean exactIntegerLiterals;

  /** The query's SQL text, which spans index. */
  final String sql;

  /** Where problems go, in the order found. */
  final List<SqlProblem> problems;

  /**
   * @param functions the SQL functions of the rules' edition
   * @param exactIntegerLiterals whether integer literals keep every digit (edition 3) or go through
   *     a double as the reference's editions 1 and 2 do
   */
  ExpressionCompiler(
      SqlFunctions functions, boolean exactIntegerLiterals, String sql, List<SqlProblem> problems) {
    this.functions = functions;
    this.exactIntegerLiterals = exactIntegerLiterals;
    this.sql = sql;
    this.problems = problems;
  }

  // ---- what a subclass decides ----

  /** A constant value (a literal, or what a constant expression evaluated to). */
  abstract T constant(@Nullable Object value, Ast.Node at);

  /** A column reference. */
  abstract T column(Ast.Ref ref);

  /** A function with a schema: {@code request.user_id()}, {@code auth.parameter('x')}, ... */
  abstract T schemaCall(Ast.Call call);

  /**
   * {@code fn} applied to compiled arguments; an argument that failed is the answer (it was
   * reported already).
   */
  abstract T apply(Ast.Node at, SqlFunction fn, List<T> args, List<Expr> argExprs);

  /** Reports a problem over {@code at}; returns the compiled form of a failed expression. */
  abstract T error(String message, Ast.Span at);

  /** Reports a warning over {@code at}. */
  void warn(String message, Ast.Span at) {
    problems.add(SqlProblem.warning(message, at.start(), at.end()));
  }

  /** Whether {@code compiled} is a failed expression. */
  abstract boolean failed(T compiled);

  /** Whether a node is checked before its operands are compiled (see the class comment). */
  abstract boolean checksNodeFirst();

  /** Why the rules refuse {@code op}, or null when they support it. */
  abstract @Nullable String refusal(Ast.BinaryOp op);

  /** Why the rules refuse {@code op}, or null when they support it. */
  abstract @Nullable String refusal(Ast.UnaryOp op);

  /** Whether {@code x -> 1} (a numeric member) is taken (edition-3 streams). */
  boolean numericMembers() {
    return false;
  }

  /** Whether the rules evaluate CASE and BETWEEN (else they are "not supported here"). */
  abstract boolean supportsConditionals();

  /** The problem with calling {@code fn} with {@code call}'s arguments (their number), or null. */
  abstract @Nullable String arityProblem(Ast.Call call, SqlFunction fn);

  /**
   * A function call the rules refuse before looking the function up, reported; null when the call
   * may go on.
   */
  @Nullable T refuseCall(Ast.Call call) {
    return null;
  }

  /**
   * Combines two compiled operands of a binary operator the rules support: the operator's function
   * unless the subclass compiles the operator otherwise (bucket definitions compile {@code =},
   * {@code IN}, {@code AND} and {@code OR} into parameter matches).
   */
  T combine(Ast.Binary b, T left, T right) {
    return apply(b, binaryFunction(b.op()), List.of(left, right), List.of(b.left(), b.right()));
  }

  /** A subquery where the rules take none. */
  T subquery(Ast.SubSelect s) {
    return unsupported(s);
  }

  // ---- the walk ----

  /** Compiles {@code e}. */
  T compile(Expr e) {
    if (e instanceof Ast.NullLit) {
      return constant(null, e);
    } else if (isLiteral(e)) {
      return constant(literalValue(e, exactIntegerLiterals), e);
    } else if (e instanceof Ast.Ref ref) {
      return column(ref);
    } else if (e instanceof Ast.Binary b) {
      return binary(b);
    } else if (e instanceof Ast.Unary u) {
      return unary(u);
    } else if (e instanceof Ast.Member m) {
      return member(m);
    } else if (e instanceof Ast.Call c) {
      return c.schema() == null ? function(c) : schemaCall(c);
    } else if (e instanceof Ast.Cast c) {
      return cast(c);
    } else if (e instanceof Ast.Other o && supportsConditionals()) {
      if (o.kind() == Ast.OtherKind.CASE) {
        return caseExpr(o);
      } else if (o.kind() == Ast.OtherKind.BETWEEN) {
        return between(o);
      }
    } else if (e instanceof Ast.SubSelect s) {
      return subquery(s);
    }
    return unsupported(e);
  }

  /**
   * The standard refusal of a node kind: "{@code <kind>} not supported here" (EXISTS reads as an
   * unknown function, as the reference's parser gives it).
   */
  T unsupported(Expr e) {
    if (e instanceof Ast.Other o && o.kind() == Ast.OtherKind.EXISTS) {
      return error(Messages.FUNCTION_EXISTS_IS_NOT_DEFINED, e.span());
    }
    return error(e.type() + " not supported here", e.span());
  }

  /** A binary operator: refused, or its operands combined. */
  T binary(Ast.Binary b) {
    String refusal = refusal(b.op());
    if (refusal != null && checksNodeFirst()) {
      return error(refusal, b.span());
    }
    T left = compile(b.left());
    T right = compile(b.right());
    if (failed(left)) {
      return left;
    } else if (failed(right)) {
      return right;
    } else if (refusal != null) {
      return error(refusal, b.span());
    }
    return combine(b, left, right);
  }

  /** A unary operator: refused (before its operand is compiled), or applied. */
  T unary(Ast.Unary u) {
    String refusal = refusal(u.op());
    if (refusal != null) {
      return error(refusal, u.span());
    }
    T operand = compile(u.operand());
    return apply(u, unaryFunction(u.op()), List.of(operand), List.of(u.operand()));
  }

  /** {@code x -> 'key'} and {@code x ->> 'key'}. */
  T member(Ast.Member m) {
    String refusal =
        m.member() instanceof String || numericMembers()
            ? null
            : Messages.unsupportedMemberOperation(String.valueOf(m.op()));
    if (refusal != null && checksNodeFirst()) {
      return error(refusal, m.span());
    }
    T operand = compile(m.operand());
    if (refusal != null) {
      return error(refusal, m.span());
    }
    return apply(
        m,
        binaryFunction(m.op()),
        List.of(operand, constant(m.member(), m)),
        List.of(m.operand(), m));
  }

  /** {@code CAST(x AS type)} and {@code x::type}. */
  T cast(Ast.Cast c) {
    String to = c.typeName().toLowerCase(Locale.ROOT);
    boolean known = CAST_TYPES.contains(to);
    if (!known && checksNodeFirst()) {
      return castRefused(c, to);
    }
    T operand = compile(c.operand());
    if (!known) {
      return castRefused(c, to);
    }
    return apply(c, castFunction(to), List.of(operand), List.of(c.operand()));
  }

  /** Reports a CAST to a type the rules do not know. */
  T castRefused(Ast.Cast c, String to) {
    return error(Messages.castNotSupported(to), c.span());
  }

  /** A function without a schema: one of the SQL functions. */
  T function(Ast.Call c) {
    T refused = refuseCall(c);
    if (refused != null) {
      return refused;
    }
    SqlFunction fn = functions.named(c.name());
    if (fn == null) {
      return error(Messages.functionNotDefined(c.name()), c.span());
    }
    String arity = arityProblem(c, fn);
    if (arity != null && checksNodeFirst()) {
      T failed = error(arity, c.span());
      compileAll(c.args()); // the arguments' own problems are reported too, after
      return failed;
    }
    List<T> args = new ArrayList<>(c.args().size());
    for (Expr a : c.args()) {
      args.add(compile(a));
    }
    if (arity != null) {
      return error(arity, c.span());
    }
    return apply(c, withArity(fn, args.size()), args, c.args());
  }

  /**
   * {@code fn} called with {@code n} arguments: the first compiler checks no argument count, and
   * its functions, being JavaScript, see a missing argument as undefined (here NULL) and ignore
   * extra ones.
   */
  static SqlFunction withArity(SqlFunction fn, int n) {
    if (n >= fn.minArgs() && n <= fn.maxArgs()) {
      return fn;
    }
    int given = Math.min(Math.max(n, fn.minArgs()), fn.maxArgs());
    return new SqlFunction(
        fn.name(),
        n,
        n,
        a -> {
          @Nullable Object[] adjusted = new Object[given];
          System.arraycopy(a, 0, adjusted, 0, Math.min(a.length, given));
          return fn.call(adjusted);
        });
  }

  /**
   * {@code CASE [base] WHEN w THEN t ... [ELSE e] END}: children are the base, the pairs, then the
   * else.
   */
  T caseExpr(Ast.Other o) {
    List<Expr> children = o.children();
    boolean base = "base".equals(o.op());
    boolean otherwise = (children.size() - (base ? 1 : 0)) % 2 == 1;
    SqlFunction fn =
        new SqlFunction(
            "operator_case",
            children.size(),
            children.size(),
            a -> {
              int pairsEnd = a.length - (otherwise ? 1 : 0);
              for (int i = base ? 1 : 0; i + 1 < pairsEnd; i += 2) {
                boolean hit =
                    base
                        ? a[0] != null && a[i] != null && SqlValues.compare(a[0], a[i]) == 0
                        : SqlValues.truthy(a[i]);
                if (hit) {
                  return a[i + 1];
                }
              }
              return otherwise ? a[a.length - 1] : null;
            });
    return apply(o, fn, compileAll(children), children);
  }

  /** {@code x [NOT] BETWEEN low AND high}: children are x, low and high. */
  T between(Ast.Other o) {
    boolean negated = "NOT BETWEEN".equals(o.op());
    SqlFunction fn =
        new SqlFunction(
            negated ? "operator_not_between" : "operator_between",
            3,
            3,
            a -> {
              Object in =
                  a[0] == null || a[1] == null || a[2] == null
                      ? null
                      : SqlValues.compare(a[0], a[1]) >= 0 && SqlValues.compare(a[0], a[2]) <= 0
                          ? SqlValues.TRUE
                          : SqlValues.FALSE;
              return negated ? SqlValues.not(in) : in; // NOT BETWEEN is NOT (BETWEEN)
            });
    return apply(o, fn, compileAll(o.children()), o.children());
  }

  List<T> compileAll(List<Expr> exprs) {
    List<T> out = new ArrayList<>(exprs.size());
    for (Expr e : exprs) {
      out.add(compile(e));
    }
    return out;
  }

  // ---- the first compiler's rules (bucket definitions, edition-2 streams) ----

  /** Warns about upper-case letters in the unquoted parts of a column reference. */
  void checkRefCase(Ast.Ref ref) {
    if (ref.table() != null) {
      checkNameCase(ref.table());
    }
    if (!ref.quoted() && !ref.name().equals("*")) {
      checkCase(ref.nameSpan());
    }
  }

  /** Warns about upper-case letters in an unquoted table name. */
  void checkNameCase(Ast.QName name) {
    if (name.schema() != null || name.quoted()) {
      return;
    }
    checkCase(name.span());
  }

  /** Warns when the identifier at {@code span} has upper-case letters that SQL will fold. */
  void checkCase(Ast.Span span) {
    String source = sql.substring(span.start(), span.end());
    if (!source.toLowerCase(Locale.ROOT).equals(source)) {
      warn(Messages.unquotedIdentifierLowerCased(source), span);
    }
  }

  /** Why the first compiler refuses {@code op}, or null. */
  static @Nullable String legacyRefusal(Ast.BinaryOp op) {
    return op == Ast.BinaryOp.IN || LEGACY_OPERATORS.contains(op)
        ? null
        : Messages.operatorNotSupported(op.toString());
  }

  /** Why the first compiler refuses {@code op}, or null. */
  static @Nullable String legacyRefusal(Ast.UnaryOp op) {
    return switch (op) {
      case NOT, IS_NULL, IS_NOT_NULL -> null;
      default -> Messages.operatorIsNotSupported(op.toString());
    };
  }

  // ---- what each operator means ----

  /**
   * The function computing {@code op}'s value. {@code a != b} is {@code NOT (a = b)} where {@link
   * #notEqualIsNotEqual()} says so.
   */
  SqlFunction binaryFunction(Ast.BinaryOp op) {
    return switch (op) {
      case JSON -> functions.jsonExtractJson();
      case JSON_TEXT -> functions.jsonExtractSql();
      case NE -> notEqualIsNotEqual() ? NOT_EQUAL : operatorFunction("!=");
      default -> operatorFunction(op.sql());
    };
  }

  /**
   * Whether {@code a != b} means {@code NOT (a = b)}, which is true when a side is NULL (edition-3
   * streams), rather than SQL's NULL.
   */
  boolean notEqualIsNotEqual() {
    return false;
  }

  /** {@code NOT (a = b)}: a NULL comparison is not true, so its negation is. */
  private static final SqlFunction NOT_EQUAL =
      new SqlFunction(
          "operator_not_equal", 2, 2, a -> SqlValues.not(SqlValues.operator("=", a[0], a[1])));

  /** The function of a two-operand operator as {@link SqlValues#operator} evaluates it. */
  static SqlFunction operatorFunction(String op) {
    return new SqlFunction("operator" + op, 2, 2, a -> SqlValues.operator(op, a[0], a[1]));
  }

  /** The function computing {@code op}'s value. */
  static SqlFunction unaryFunction(Ast.UnaryOp op) {
    return switch (op) {
      case NOT -> new SqlFunction("operator_not", 1, 1, a -> SqlValues.not(a[0]));
      case IS_NULL ->
          new SqlFunction("operator_is_null", 1, 1, a -> SqlValues.operator("IS", a[0], null));
      case IS_NOT_NULL ->
          new SqlFunction(
              "operator_is_not_null", 1, 1, a -> SqlValues.operator("IS NOT", a[0], null));
      // x IS TRUE is x IS 1 (so 2 IS TRUE is false) and x IS FALSE is x IS 0, as the reference
      // compiles them.
      case IS_TRUE ->
          new SqlFunction(
              "operator_is_true", 1, 1, a -> SqlValues.operator("IS", a[0], SqlValues.TRUE));
      case IS_NOT_TRUE ->
          new SqlFunction(
              "operator_is_not_true",
              1,
              1,
              a -> SqlValues.operator("IS NOT", a[0], SqlValues.TRUE));
      case IS_FALSE ->
          new SqlFunction(
              "operator_is_false", 1, 1, a -> SqlValues.operator("IS", a[0], SqlValues.FALSE));
      case IS_NOT_FALSE ->
          new SqlFunction(
              "operator_is_not_false",
              1,
              1,
              a -> SqlValues.operator("IS NOT", a[0], SqlValues.FALSE));
      case PLUS -> new SqlFunction("operator_plus", 1, 1, a -> a[0]);
      case NEGATE -> throw new IllegalArgumentException("no value function for unary minus");
    };
  }

  /** {@code CAST(x AS to)}: NULL stays NULL. */
  static SqlFunction castFunction(String to) {
    return new SqlFunction(
        "operator_cast_" + to, 1, 1, a -> a[0] == null ? null : SqlValues.cast(a[0], to));
  }

  // ---- literals ----

  static boolean isLiteral(Expr e) {
    return e instanceof Ast.IntegerLit
        || e instanceof Ast.NumericLit
        || e instanceof Ast.StringLit
        || e instanceof Ast.BoolLit
        || e instanceof Ast.NullLit;
  }

  /**
   * The value of a literal (not NULL). Without {@code exactIntegerLiterals} (editions 1 and 2)
   * integers go through a double, as the reference does.
   */
  static Object literalValue(Expr expr, boolean exactIntegerLiterals) {
    if (expr instanceof Ast.BoolLit b) {
      return b.value() ? SqlValues.TRUE : SqlValues.FALSE;
    } else if (expr instanceof Ast.IntegerLit i) {
      return exactIntegerLiterals
          ? SqlValues.integerOf(new BigInteger(i.text()))
          : SqlValues.integerOf(new BigDecimal(Double.parseDouble(i.text())).toBigInteger());
    } else if (expr instanceof Ast.NumericLit n) {
      return Double.parseDouble(n.text());
    } else if (expr instanceof Ast.StringLit s) {
      return s.value();
    }
    throw new IllegalArgumentException(expr.type());
  }

  /**
   * Thrown when evaluating a constant expression at compile time fails; reported over the whole
   * query.
   */
  static final class StaticEvaluationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StaticEvaluationException(String message) {
      super(message);
    }

    @Override
    public String getMessage() {
      return Objects.requireNonNull(super.getMessage());
    }
  }
}
