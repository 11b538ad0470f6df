package dev.syncline.core.internal.rules.sql;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * AST of the sync-rules SQL subset. Offsets are indices into the SQL string; {@code end} is
 * exclusive.
 */
public final class Ast {
  private Ast() {}

  /** A source range. */
  public record Span(int start, int end) {
    /** The smallest span covering both. */
    public Span to(Span other) {
      return new Span(Math.min(start, other.start), Math.max(end, other.end));
    }
  }

  /** Anything with a position. */
  public interface Node {
    /** Where the node is in the SQL text. */
    Span span();
  }

  /** An expression. {@link #type()} is the node kind name used in "not supported" messages. */
  public sealed interface Expr extends Node
      permits IntegerLit,
          NumericLit,
          StringLit,
          BoolLit,
          NullLit,
          Ref,
          Call,
          Binary,
          Unary,
          Member,
          Cast,
          Other,
          ListExpr,
          SubSelect {
    /** The node kind, e.g. {@code case}, {@code list}. */
    String type();
  }

  /** An integer literal (digits only). */
  public record IntegerLit(String text, Span span) implements Expr {
    @Override
    public String type() {
      return "integer";
    }
  }

  /** A numeric literal with a fraction or exponent. */
  public record NumericLit(String text, Span span) implements Expr {
    @Override
    public String type() {
      return "numeric";
    }
  }

  /** A string literal. */
  public record StringLit(String value, Span span) implements Expr {
    @Override
    public String type() {
      return "string";
    }
  }

  /** TRUE or FALSE. */
  public record BoolLit(boolean value, Span span) implements Expr {
    @Override
    public String type() {
      return "boolean";
    }
  }

  /** NULL. */
  public record NullLit(Span span) implements Expr {
    @Override
    public String type() {
      return "null";
    }
  }

  /** A possibly qualified name: {@code [schema.]table} or {@code alias}. */
  public record QName(@Nullable String schema, String name, Span span, boolean quoted)
      implements Node {}

  /**
   * A column reference {@code [[schema.]table.]name}; {@code name} may be {@code *}.
   *
   * @param table the qualifier, or null
   * @param nameSpan where the column name itself is
   */
  public record Ref(@Nullable QName table, String name, Span nameSpan, boolean quoted, Span span)
      implements Expr {
    @Override
    public String type() {
      return "ref";
    }
  }

  /** A function call {@code [schema.]name(args)}. */
  public record Call(
      @Nullable String schema, String name, List<Expr> args, boolean distinct, Span span)
      implements Expr {
    /** A call without DISTINCT. */
    public Call(@Nullable String schema, String name, List<Expr> args, Span span) {
      this(schema, name, args, false, span);
    }

    @Override
    public String type() {
      return "call";
    }
  }

  /** The operator of a {@link Binary} (and of a JSON {@link Member}); {@link #sql} as written. */
  public enum BinaryOp {
    OR("OR"),
    AND("AND"),
    EQ("="),
    NE("!="),
    LT("<"),
    GT(">"),
    LE("<="),
    GE(">="),
    IN("IN"),
    NOT_IN("NOT IN"),
    LIKE("LIKE"),
    NOT_LIKE("NOT LIKE"),
    ILIKE("ILIKE"),
    NOT_ILIKE("NOT ILIKE"),
    IS_DISTINCT_FROM("IS DISTINCT FROM"),
    IS_NOT_DISTINCT_FROM("IS NOT DISTINCT FROM"),
    CONCAT("||"),
    OVERLAPS("&&"),
    CONTAINS("@>"),
    CONTAINED_BY("<@"),
    JSON("->"),
    JSON_TEXT("->>"),
    ADD("+"),
    SUBTRACT("-"),
    MULTIPLY("*"),
    DIVIDE("/"),
    MODULO("%"),
    BIT_AND("&"),
    BIT_OR("|"),
    SHIFT_LEFT("<<"),
    SHIFT_RIGHT(">>");

    private final String sql;

    BinaryOp(String sql) {
      this.sql = sql;
    }

    /** The operator as SQL spells it (upper case for words): what diagnostics show. */
    public String sql() {
      return sql;
    }

    /** The operator spelled {@code sql} (as {@link #sql()} gives it). */
    public static BinaryOp of(String sql) {
      for (BinaryOp op : values()) {
        if (op.sql.equals(sql)) {
          return op;
        }
      }
      throw new IllegalArgumentException("not a binary operator: " + sql);
    }

    @Override
    public String toString() {
      return sql;
    }
  }

  /** The operator of a {@link Unary}; {@link #sql} as written. */
  public enum UnaryOp {
    NOT("NOT"),
    NEGATE("-"),
    PLUS("+"),
    IS_NULL("IS NULL"),
    IS_NOT_NULL("IS NOT NULL"),
    IS_TRUE("IS TRUE"),
    IS_NOT_TRUE("IS NOT TRUE"),
    IS_FALSE("IS FALSE"),
    IS_NOT_FALSE("IS NOT FALSE");

    private final String sql;

    UnaryOp(String sql) {
      this.sql = sql;
    }

    /** The operator as SQL spells it: what diagnostics show. */
    public String sql() {
      return sql;
    }

    /** The operator spelled {@code sql} (as {@link #sql()} gives it). */
    public static UnaryOp of(String sql) {
      for (UnaryOp op : values()) {
        if (op.sql.equals(sql)) {
          return op;
        }
      }
      throw new IllegalArgumentException("not a unary operator: " + sql);
    }

    @Override
    public String toString() {
      return sql;
    }
  }

  /** A binary operation. */
  public record Binary(BinaryOp op, Expr left, Expr right, Span span) implements Expr {
    @Override
    public String type() {
      return "binary";
    }
  }

  /** A unary operation. */
  public record Unary(UnaryOp op, Expr operand, Span span) implements Expr {
    @Override
    public String type() {
      return "unary";
    }
  }

  /**
   * JSON member access {@code operand -> 'key'} ({@code op} is {@link BinaryOp#JSON} or {@link
   * BinaryOp#JSON_TEXT}); member is a String or, for a numeric key, a Long.
   */
  public record Member(Expr operand, BinaryOp op, Object member, Span span) implements Expr {
    @Override
    public String type() {
      return "member";
    }
  }

  /**
   * {@code CAST(x AS t)} or {@code x::t}; the type name as written, lower case.
   *
   * @param typeSpan where the type name is
   */
  public record Cast(Expr operand, String typeName, Span span, Span typeSpan) implements Expr {
    @Override
    public String type() {
      return "cast";
    }
  }

  /** A parenthesized expression list, as on the right of {@code IN (a, b)}. */
  public record ListExpr(List<Expr> items, Span span) implements Expr {
    @Override
    public String type() {
      return "list";
    }
  }

  /** A scalar subquery or {@code IN (SELECT ...)}. */
  public record SubSelect(Select select, Span span) implements Expr {
    @Override
    public String type() {
      return "select";
    }
  }

  /**
   * Syntax the parser accepts but sync rules of edition 1 and 2 do not evaluate: CASE ({@code
   * case}), BETWEEN ({@code ternary}), array literals ({@code array}), parameters, keywords like
   * CURRENT_TIMESTAMP. Children are kept for later editions.
   *
   * @param kind the node kind name
   * @param op the operator for {@code ternary} ({@code BETWEEN}, {@code NOT BETWEEN}); {@code base}
   *     for a {@code case} with a base expression ({@code CASE x WHEN ...}, the first child); else
   *     null
   * @param children the sub-expressions, in order
   */
  public record Other(OtherKind kind, @Nullable String op, List<Expr> children, Span span)
      implements Expr {
    @Override
    public String type() {
      return kind.typeName();
    }
  }

  /** The kind of an {@link Other} node; {@link #typeName} is what "not supported" messages show. */
  public enum OtherKind {
    /** {@code CASE ... END}. */
    CASE("case"),
    /** {@code x [NOT] BETWEEN a AND b}. */
    BETWEEN("ternary"),
    /** An array literal {@code ARRAY[...]} or {@code [...]}. */
    ARRAY("array"),
    /** An array subscript {@code x[i]}. */
    ARRAY_INDEX("arrayIndex"),
    /** {@code EXISTS (SELECT ...)}. */
    EXISTS("exists"),
    /** A value keyword such as {@code CURRENT_TIMESTAMP}. */
    KEYWORD("keyword"),
    /** A statement parameter ({@code $1}, {@code ?}). */
    PARAMETER("parameter");

    private final String typeName;

    OtherKind(String typeName) {
      this.typeName = typeName;
    }

    /** The node kind's name as the reference parser gives it. */
    public String typeName() {
      return typeName;
    }
  }

  /** One output column: an expression and an optional alias. */
  public record Column(
      Expr expr, @Nullable String alias, @Nullable Span aliasSpan, boolean aliasQuoted, Span span)
      implements Node {}

  /** A FROM item. */
  public sealed interface FromItem extends Node permits FromTable, FromCall, FromSelect {
    /** The alias, or null. */
    @Nullable String alias();

    /**
     * How it is joined to the previous item ({@code null} for the first, {@code ,} for a comma).
     */
    @Nullable String join();
  }

  /** A table, with its location covering the name only. */
  public record FromTable(QName name, @Nullable String alias, @Nullable String join, Span span)
      implements FromItem {}

  /** A table-valued function call, e.g. {@code json_each(x) AS t}. */
  public record FromCall(Call call, @Nullable String alias, @Nullable String join, Span span)
      implements FromItem {}

  /** A subquery in FROM; the location covers the parentheses and the alias. */
  public record FromSelect(Select select, @Nullable String alias, @Nullable String join, Span span)
      implements FromItem {}

  /** A statement. */
  public sealed interface Statement extends Node permits Select, OtherStatement {}

  /** A non-SELECT statement (rejected by the compiler). */
  public record OtherStatement(String keyword, Span span) implements Statement {}

  /**
   * A SELECT.
   *
   * @param limitSpan where the LIMIT/OFFSET clause is (the LIMIT expression, or the OFFSET clause),
   *     or null
   * @param joinConditions the {@code ON} conditions of joins, in order
   * @param usingSpan where the first {@code USING} clause is, or null
   */
  public record Select(
      boolean distinct,
      List<Column> columns,
      List<FromItem> from,
      @Nullable Expr where,
      List<Expr> groupBy,
      @Nullable Expr having,
      List<Expr> orderBy,
      @Nullable Span limitSpan,
      @Nullable Span forSpan,
      Span span,
      List<Expr> joinConditions,
      @Nullable Span usingSpan)
      implements Statement {
    /** A SELECT without joins. */
    public Select(
        boolean distinct,
        List<Column> columns,
        List<FromItem> from,
        @Nullable Expr where,
        List<Expr> groupBy,
        @Nullable Expr having,
        List<Expr> orderBy,
        @Nullable Span limitSpan,
        @Nullable Span forSpan,
        Span span) {
      this(
          distinct, columns, from, where, groupBy, having, orderBy, limitSpan, forSpan, span,
          List.of(), null);
    }

    /** This SELECT with other result columns, FROM items, WHERE and join conditions. */
    public Select with(
        List<Column> columns,
        List<FromItem> from,
        @Nullable Expr where,
        List<Expr> joinConditions) {
      return new Select(
          distinct,
          List.copyOf(columns),
          List.copyOf(from),
          where,
          groupBy,
          having,
          orderBy,
          limitSpan,
          forSpan,
          span,
          List.copyOf(joinConditions),
          usingSpan);
    }
  }
}
