package dev.syncline.core.internal.rules.sql;

import dev.syncline.core.internal.rules.Messages;
import dev.syncline.core.internal.rules.sql.Ast.Binary;
import dev.syncline.core.internal.rules.sql.Ast.BinaryOp;
import dev.syncline.core.internal.rules.sql.Ast.BoolLit;
import dev.syncline.core.internal.rules.sql.Ast.Call;
import dev.syncline.core.internal.rules.sql.Ast.Cast;
import dev.syncline.core.internal.rules.sql.Ast.Column;
import dev.syncline.core.internal.rules.sql.Ast.Expr;
import dev.syncline.core.internal.rules.sql.Ast.FromCall;
import dev.syncline.core.internal.rules.sql.Ast.FromItem;
import dev.syncline.core.internal.rules.sql.Ast.FromSelect;
import dev.syncline.core.internal.rules.sql.Ast.FromTable;
import dev.syncline.core.internal.rules.sql.Ast.IntegerLit;
import dev.syncline.core.internal.rules.sql.Ast.ListExpr;
import dev.syncline.core.internal.rules.sql.Ast.Member;
import dev.syncline.core.internal.rules.sql.Ast.NullLit;
import dev.syncline.core.internal.rules.sql.Ast.NumericLit;
import dev.syncline.core.internal.rules.sql.Ast.Other;
import dev.syncline.core.internal.rules.sql.Ast.OtherKind;
import dev.syncline.core.internal.rules.sql.Ast.OtherStatement;
import dev.syncline.core.internal.rules.sql.Ast.QName;
import dev.syncline.core.internal.rules.sql.Ast.Ref;
import dev.syncline.core.internal.rules.sql.Ast.Select;
import dev.syncline.core.internal.rules.sql.Ast.Span;
import dev.syncline.core.internal.rules.sql.Ast.Statement;
import dev.syncline.core.internal.rules.sql.Ast.StringLit;
import dev.syncline.core.internal.rules.sql.Ast.SubSelect;
import dev.syncline.core.internal.rules.sql.Ast.Unary;
import dev.syncline.core.internal.rules.sql.Ast.UnaryOp;
import dev.syncline.core.internal.rules.sql.Lexer.Kind;
import dev.syncline.core.internal.rules.sql.Lexer.Token;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Recursive-descent parser for the sync-rules SQL subset. Accepts more than the compiler supports
 * (joins, CASE, subqueries, ...) so that the compiler can name the unsupported feature with its
 * position instead of reporting a syntax error. Stateless entry point; each call uses its own
 * parser instance.
 */
public final class SqlParser {
  /** Words that end an expression or cannot be an implicit alias. */
  private static final Set<String> RESERVED =
      Set.of(
          "select",
          "from",
          "where",
          "and",
          "or",
          "not",
          "as",
          "in",
          "is",
          "null",
          "true",
          "false",
          "case",
          "when",
          "then",
          "else",
          "end",
          "cast",
          "join",
          "on",
          "using",
          "group",
          "by",
          "order",
          "limit",
          "offset",
          "having",
          "distinct",
          "like",
          "ilike",
          "between",
          "union",
          "intersect",
          "except",
          "inner",
          "left",
          "right",
          "full",
          "outer",
          "cross",
          "natural",
          "all",
          "any",
          "some",
          "exists",
          "for",
          "with",
          "asc",
          "desc",
          "nulls",
          "fetch",
          "into",
          "array",
          "window",
          "returning",
          "lateral",
          "values",
          "similar",
          "isnull",
          "notnull",
          "escape",
          "collate");

  private static final Set<String> KEYWORD_VALUES =
      Set.of(
          "current_timestamp",
          "current_date",
          "current_time",
          "localtime",
          "localtimestamp",
          "current_user",
          "session_user",
          "current_role",
          "current_catalog",
          "current_schema");

  /**
   * Deepest expression nesting accepted; deeper input is rejected instead of exhausting the stack.
   */
  static final int MAX_DEPTH = 200;

  private final String sql;
  private final List<Token> tokens;
  private int pos;
  private int depth;

  private SqlParser(String sql, List<Token> tokens) {
    this.sql = sql;
    this.tokens = tokens;
  }

  /**
   * Parses one or more statements separated by semicolons.
   *
   * @throws SqlSyntaxException with the position of the offending token
   */
  public static List<Statement> parse(String sql) throws SqlSyntaxException {
    SqlParser p = new SqlParser(sql, Lexer.tokenize(sql));
    return p.statements();
  }

  /** Parses a single expression (used by tests and tools). */
  public static Expr parseExpression(String sql) throws SqlSyntaxException {
    SqlParser p = new SqlParser(sql, Lexer.tokenize(sql));
    Expr e = p.expr();
    p.expectEof();
    return e;
  }

  private List<Statement> statements() throws SqlSyntaxException {
    List<Statement> result = new ArrayList<>();
    while (true) {
      while (peek().isOp(";")) {
        pos++;
      }
      if (peek().kind() == Kind.EOF) {
        break;
      }
      result.add(statement());
      if (!peek().isOp(";") && peek().kind() != Kind.EOF) {
        throw unexpected(peek(), "\";\" or end of input");
      }
    }
    if (result.isEmpty()) {
      throw new SqlSyntaxException("Unexpected end of input", sql.length(), sql.length());
    }
    return result;
  }

  private Statement statement() throws SqlSyntaxException {
    Token t = peek();
    if (t.isWord("select") || t.isWord("with")) {
      if (t.isWord("with")) {
        throw unexpected(t, "SELECT");
      }
      return select();
    }
    if (t.kind() == Kind.WORD
        && Set.of("insert", "update", "delete", "create", "drop", "alter", "truncate")
            .contains(t.text())) {
      // Consume the rest of the statement; the compiler rejects it with its location.
      // The location of an UPDATE ends with its SET keyword, as the reference's parser reports it.
      int start = t.start();
      int end = t.end();
      Integer setEnd = null;
      while (peek().kind() != Kind.EOF && !peek().isOp(";")) {
        Token n = next();
        end = n.end();
        if (setEnd == null && t.isWord("update") && n.isWord("set")) {
          setEnd = end;
        }
      }
      return new OtherStatement(t.text(), new Span(start, setEnd != null ? setEnd : end));
    }
    throw unexpected(t, "SELECT");
  }

  private Select select() throws SqlSyntaxException {
    Token selectToken = expectWord("select");
    boolean distinct = false;
    if (peek().isWord("distinct")) {
      pos++;
      distinct = true;
      if (peek().isWord("on")) {
        pos++;
        expectOp("(");
        exprList();
        expectOp(")");
      }
    } else if (peek().isWord("all")) {
      pos++;
    }
    List<Column> columns = new ArrayList<>();
    if (!isClauseStart(peek())) {
      do {
        columns.add(column());
      } while (acceptOp(","));
    }
    List<FromItem> from = new ArrayList<>();
    List<Expr> joinConditions = new ArrayList<>();
    Span usingSpan = null;
    if (acceptWord("from")) {
      from.add(fromItem(null));
      while (true) {
        if (acceptOp(",")) {
          from.add(fromItem(","));
          continue;
        }
        String join = joinKeyword();
        if (join == null) {
          break;
        }
        FromItem item = fromItem(join);
        from.add(item);
        if (acceptWord("on")) {
          joinConditions.add(expr());
        } else if (peek().isWord("using")) {
          Token using = next();
          expectOp("(");
          do {
            identifier();
          } while (acceptOp(","));
          Token close = expectOp(")");
          if (usingSpan == null) {
            usingSpan = new Span(using.start(), close.end());
          }
        }
      }
    }
    Expr where = null;
    if (acceptWord("where")) {
      where = expr();
    }
    List<Expr> groupBy = List.of();
    if (peek().isWord("group")) {
      pos++;
      expectWord("by");
      groupBy = exprList();
    }
    Expr having = null;
    if (acceptWord("having")) {
      having = expr();
    }
    List<Expr> orderBy = List.of();
    if (peek().isWord("order")) {
      pos++;
      expectWord("by");
      List<Expr> items = new ArrayList<>();
      do {
        items.add(expr());
        if (peek().isWord("asc") || peek().isWord("desc")) {
          pos++;
        }
        if (acceptWord("nulls")) {
          if (!acceptWord("first") && !acceptWord("last")) {
            throw unexpected(peek(), "FIRST or LAST");
          }
        }
      } while (acceptOp(","));
      orderBy = items;
    }
    Span limitSpan = null;
    while (peek().isWord("limit") || peek().isWord("offset")) {
      Token kw = next();
      Expr value;
      if (kw.isWord("limit") && peek().isWord("all")) {
        Token all = next();
        value = new Other(OtherKind.KEYWORD, null, List.of(), new Span(all.start(), all.end()));
      } else {
        value = expr();
      }
      if (kw.isWord("offset") && (peek().isWord("rows") || peek().isWord("row"))) {
        pos++;
      }
      Span s = kw.isWord("limit") ? value.span() : new Span(kw.start(), value.span().end());
      if (limitSpan == null) {
        limitSpan = s;
      }
    }
    Span forSpan = null;
    if (peek().isWord("for")) {
      Token f = next();
      int start = f.start();
      int end = f.end();
      boolean first = true;
      while (peek().kind() == Kind.WORD && !isClauseStart(peek())) {
        Token w = next();
        if (first) {
          start = w.start(); // the reference marks the locking clause after FOR
          first = false;
        }
        end = w.end();
      }
      forSpan = new Span(start, end);
    }
    int end = tokens.get(pos - 1).end();
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
        new Span(selectToken.start(), end),
        List.copyOf(joinConditions),
        usingSpan);
  }

  private static boolean isClauseStart(Token t) {
    return t.kind() == Kind.EOF
        || t.isOp(";")
        || t.isOp(")")
        || (t.kind() == Kind.WORD
            && Set.of(
                    "from",
                    "where",
                    "group",
                    "having",
                    "order",
                    "limit",
                    "offset",
                    "for",
                    "union",
                    "intersect",
                    "except")
                .contains(t.text()));
  }

  private @Nullable String joinKeyword() throws SqlSyntaxException {
    Token t = peek();
    if (t.isWord("join")) {
      pos++;
      return "join";
    }
    if (t.isWord("inner") || t.isWord("cross") || t.isWord("natural")) {
      pos++;
      expectWord("join");
      return t.text() + " join";
    }
    if (t.isWord("left") || t.isWord("right") || t.isWord("full")) {
      pos++;
      acceptWord("outer");
      expectWord("join");
      return t.text() + " join";
    }
    return null;
  }

  private Column column() throws SqlSyntaxException {
    Token t = peek();
    Expr e;
    if (t.isOp("*")) {
      pos++;
      Span s = new Span(t.start(), t.end());
      e = new Ref(null, "*", s, false, s);
    } else {
      e = expr();
    }
    String alias = null;
    Span aliasSpan = null;
    boolean quoted = false;
    if (acceptWord("as")) {
      Token a = next();
      if (a.kind() == Kind.WORD || a.kind() == Kind.QUOTED_IDENT) {
        alias = a.text();
        aliasSpan = new Span(a.start(), a.end());
        quoted = a.kind() == Kind.QUOTED_IDENT;
      } else {
        throw unexpected(a, "an alias");
      }
    } else if (isImplicitAlias(peek())) {
      Token a = next();
      alias = a.text();
      aliasSpan = new Span(a.start(), a.end());
      quoted = a.kind() == Kind.QUOTED_IDENT;
    }
    Span span = aliasSpan == null ? e.span() : e.span().to(aliasSpan);
    return new Column(e, alias, aliasSpan, quoted, span);
  }

  private static boolean isImplicitAlias(Token t) {
    return t.kind() == Kind.QUOTED_IDENT || (t.kind() == Kind.WORD && !RESERVED.contains(t.text()));
  }

  private FromItem fromItem(@Nullable String join) throws SqlSyntaxException {
    Token t = peek();
    if (t.isOp("(")) {
      pos++;
      if (!peek().isWord("select")) {
        throw unexpected(peek(), "SELECT");
      }
      Select sub = select();
      Token close = expectOp(")");
      String alias = null;
      int end = close.end();
      if (acceptWord("as") || isImplicitAlias(peek())) {
        Token a = next();
        if (a.kind() != Kind.WORD && a.kind() != Kind.QUOTED_IDENT) {
          throw unexpected(a, "an alias");
        }
        alias = a.text();
        end = a.end();
      }
      return new FromSelect(sub, alias, join, new Span(t.start(), end));
    }
    QName name = qualifiedName();
    if (peek().isOp("(")) {
      Call call = callArgs(name.schema(), name.name(), name.span().start());
      String alias = tableAlias();
      return new FromCall(call, alias, join, call.span());
    }
    boolean as = peek().kind() == Kind.WORD && peek().text().equalsIgnoreCase("as");
    String alias = tableAlias();
    // As the reference's parser places it: with AS, the table's location runs to the alias' end;
    // with an implicit alias, it is the name alone.
    Span span = as ? new Span(name.span().start(), tokens.get(pos - 1).end()) : name.span();
    return new FromTable(name, alias, join, span);
  }

  private @Nullable String tableAlias() throws SqlSyntaxException {
    if (acceptWord("as")) {
      Token a = next();
      if (a.kind() != Kind.WORD && a.kind() != Kind.QUOTED_IDENT) {
        throw unexpected(a, "an alias");
      }
      return a.text();
    }
    if (isImplicitAlias(peek())) {
      return next().text();
    }
    return null;
  }

  private QName qualifiedName() throws SqlSyntaxException {
    Token first = identifierToken();
    if (peek().isOp(".")
        && (peekAt(1).kind() == Kind.WORD || peekAt(1).kind() == Kind.QUOTED_IDENT)) {
      pos++;
      Token second = identifierToken();
      return new QName(
          first.text(),
          second.text(),
          new Span(first.start(), second.end()),
          second.kind() == Kind.QUOTED_IDENT);
    }
    return new QName(
        null,
        first.text(),
        new Span(first.start(), first.end()),
        first.kind() == Kind.QUOTED_IDENT);
  }

  private Token identifierToken() throws SqlSyntaxException {
    Token t = next();
    if (t.kind() == Kind.QUOTED_IDENT || (t.kind() == Kind.WORD && !RESERVED.contains(t.text()))) {
      return t;
    }
    throw unexpected(t, "an identifier");
  }

  private String identifier() throws SqlSyntaxException {
    return identifierToken().text();
  }

  private List<Expr> exprList() throws SqlSyntaxException {
    List<Expr> list = new ArrayList<>();
    do {
      list.add(expr());
    } while (acceptOp(","));
    return list;
  }

  // ---- expressions, lowest precedence first ----

  Expr expr() throws SqlSyntaxException {
    if (++depth > MAX_DEPTH) {
      Token t = peek();
      throw new SqlSyntaxException(
          "Expression nested too deeply (more than " + MAX_DEPTH + " levels)", t.start(), t.end());
    }
    try {
      return or();
    } finally {
      depth--;
    }
  }

  private Expr or() throws SqlSyntaxException {
    Expr left = and();
    while (peek().isWord("or")) {
      pos++;
      Expr right = and();
      left = new Binary(BinaryOp.OR, left, right, left.span().to(right.span()));
    }
    return left;
  }

  private Expr and() throws SqlSyntaxException {
    Expr left = not();
    while (peek().isWord("and")) {
      pos++;
      Expr right = not();
      left = new Binary(BinaryOp.AND, left, right, left.span().to(right.span()));
    }
    return left;
  }

  private Expr not() throws SqlSyntaxException {
    if (peek().isWord("not")) {
      Token t = next();
      Expr operand = nested(this::not);
      return new Unary(UnaryOp.NOT, operand, new Span(t.start(), operand.span().end()));
    }
    return is();
  }

  private Expr is() throws SqlSyntaxException {
    Expr left = comparison();
    while (true) {
      if (peek().isWord("is")) {
        pos++;
        boolean negated = acceptWord("not");
        Token t = next();
        String suffix;
        if (t.isWord("null")) {
          suffix = "NULL";
        } else if (t.isWord("true")) {
          suffix = "TRUE";
        } else if (t.isWord("false")) {
          suffix = "FALSE";
        } else if (t.isWord("distinct")) {
          expectWord("from");
          Expr right = comparison();
          left =
              new Binary(
                  negated ? BinaryOp.IS_NOT_DISTINCT_FROM : BinaryOp.IS_DISTINCT_FROM,
                  left,
                  right,
                  left.span().to(right.span()));
          continue;
        } else {
          throw unexpected(t, "NULL, TRUE or FALSE");
        }
        left =
            new Unary(
                UnaryOp.of("IS " + (negated ? "NOT " : "") + suffix),
                left,
                new Span(left.span().start(), t.end()));
      } else if (peek().isWord("isnull") || peek().isWord("notnull")) {
        Token t = next();
        left =
            new Unary(
                t.isWord("isnull") ? UnaryOp.IS_NULL : UnaryOp.IS_NOT_NULL,
                left,
                new Span(left.span().start(), t.end()));
      } else {
        return left;
      }
    }
  }

  private Expr comparison() throws SqlSyntaxException {
    Expr left = inLike();
    while (true) {
      Token t = peek();
      BinaryOp op = null;
      if (t.kind() == Kind.OP) {
        switch (t.text()) {
          case "=", "<", ">", "<=", ">=" -> op = BinaryOp.of(t.text());
          case "!=", "<>" -> op = BinaryOp.NE;
          default -> {}
        }
      }
      if (op == null) {
        return left;
      }
      pos++;
      Expr right = inLike();
      left = new Binary(op, left, right, left.span().to(right.span()));
    }
  }

  private Expr inLike() throws SqlSyntaxException {
    Expr left = otherOp();
    while (true) {
      boolean negated = false;
      int save = pos;
      if (peek().isWord("not")
          && (peekAt(1).isWord("in")
              || peekAt(1).isWord("like")
              || peekAt(1).isWord("ilike")
              || peekAt(1).isWord("between"))) {
        pos++;
        negated = true;
      }
      Token t = peek();
      if (t.isWord("in")) {
        pos++;
        Expr right = inRight();
        left =
            new Binary(
                negated ? BinaryOp.NOT_IN : BinaryOp.IN, left, right, left.span().to(right.span()));
      } else if (t.isWord("like") || t.isWord("ilike")) {
        pos++;
        Expr right = otherOp();
        BinaryOp op = BinaryOp.of((negated ? "NOT " : "") + t.text().toUpperCase(Locale.ROOT));
        left = new Binary(op, left, right, left.span().to(right.span()));
      } else if (t.isWord("between")) {
        pos++;
        acceptWord("symmetric");
        Expr low = otherOp();
        expectWord("and");
        Expr high = otherOp();
        left =
            new Other(
                OtherKind.BETWEEN,
                negated ? "NOT BETWEEN" : "BETWEEN",
                List.of(left, low, high),
                left.span().to(high.span()));
      } else {
        pos = save;
        return left;
      }
    }
  }

  private Expr inRight() throws SqlSyntaxException {
    Token t = peek();
    if (t.isOp("(")) {
      pos++;
      if (peek().isWord("select")) {
        Select sub = select();
        expectOp(")");
        return new SubSelect(sub, sub.span()); // as the reference: without the parentheses
      }
      List<Expr> items = exprList();
      expectOp(")");
      if (items.size() == 1) {
        // "x IN (expr)" is "x IN expr": a single parenthesized expression, not a list.
        return items.get(0);
      }
      return new ListExpr(items, listSpan(items));
    }
    return otherOp();
  }

  private Expr otherOp() throws SqlSyntaxException {
    Expr left = additive();
    while (true) {
      Token t = peek();
      if (t.isOp("||")
          || t.isOp("&&")
          || t.isOp("@>")
          || t.isOp("<@")
          || t.isOp("&")
          || t.isOp("|")
          || t.isOp("<<")
          || t.isOp(">>")) {
        pos++;
        Expr right = additive();
        left = new Binary(BinaryOp.of(t.text()), left, right, left.span().to(right.span()));
      } else if (t.isOp("->") || t.isOp("->>")) {
        pos++;
        Token m = peek();
        if (m.kind() == Kind.STRING) {
          pos++;
          left =
              new Member(
                  left, BinaryOp.of(t.text()), m.text(), new Span(left.span().start(), m.end()));
        } else if (m.kind() == Kind.INTEGER) {
          pos++;
          left =
              new Member(
                  left,
                  BinaryOp.of(t.text()),
                  Long.parseLong(m.text()),
                  new Span(left.span().start(), m.end()));
        } else {
          Expr right = additive();
          left = new Binary(BinaryOp.of(t.text()), left, right, left.span().to(right.span()));
        }
      } else {
        return left;
      }
    }
  }

  private Expr additive() throws SqlSyntaxException {
    Expr left = multiplicative();
    while (peek().isOp("+") || peek().isOp("-")) {
      Token t = next();
      Expr right = multiplicative();
      left = new Binary(BinaryOp.of(t.text()), left, right, left.span().to(right.span()));
    }
    return left;
  }

  private Expr multiplicative() throws SqlSyntaxException {
    Expr left = unary();
    while (peek().isOp("*") || peek().isOp("/") || peek().isOp("%")) {
      Token t = next();
      Expr right = unary();
      left = new Binary(BinaryOp.of(t.text()), left, right, left.span().to(right.span()));
    }
    return left;
  }

  private Expr unary() throws SqlSyntaxException {
    Token t = peek();
    if (t.isOp("-") || t.isOp("+")) {
      pos++;
      Token n = peek();
      // A sign directly on a number literal is part of the literal.
      if (t.isOp("-")
          && (n.kind() == Kind.INTEGER || n.kind() == Kind.NUMERIC)
          && n.start() == t.end()
          && !peekAt(1).isOp("::")) {
        pos++;
        String text = "-" + n.text();
        Span s = new Span(t.start(), n.end());
        return postfix(
            n.kind() == Kind.INTEGER ? new IntegerLit(text, s) : new NumericLit(text, s));
      }
      Expr operand = nested(this::unary);
      return new Unary(UnaryOp.of(t.text()), operand, new Span(t.start(), operand.span().end()));
    }
    return postfix(primary());
  }

  private interface ExprParser {
    Expr parse() throws SqlSyntaxException;
  }

  /** Parses a nested operand, counting it against {@link #MAX_DEPTH}. */
  private Expr nested(ExprParser parser) throws SqlSyntaxException {
    if (++depth > MAX_DEPTH) {
      Token t = peek();
      throw new SqlSyntaxException(
          "Expression nested too deeply (more than " + MAX_DEPTH + " levels)", t.start(), t.end());
    }
    try {
      return parser.parse();
    } finally {
      depth--;
    }
  }

  private Expr postfix(Expr e) throws SqlSyntaxException {
    while (true) {
      if (peek().isOp("::")) {
        pos++;
        Token type = typeName();
        e =
            new Cast(
                e,
                type.text(),
                new Span(e.span().start(), type.end()),
                new Span(type.start(), type.end()));
      } else if (peek().isOp("[")) {
        pos++;
        Expr index = expr();
        Token close = expectOp("]");
        e =
            new Other(
                OtherKind.ARRAY_INDEX,
                null,
                List.of(e, index),
                new Span(e.span().start(), close.end()));
      } else {
        return e;
      }
    }
  }

  private Token typeName() throws SqlSyntaxException {
    Token t = next();
    if (t.kind() != Kind.WORD && t.kind() != Kind.QUOTED_IDENT) {
      throw unexpected(t, "a type name");
    }
    Token last = t;
    String name = t.text();
    // Multi-word types such as "double precision", and modifiers like varchar(10).
    while (peek().kind() == Kind.WORD
        && Set.of("precision", "varying", "without", "with", "time", "zone")
            .contains(peek().text())) {
      last = next();
      name = name + " " + last.text();
    }
    if (peek().isOp("(")) {
      pos++;
      while (!peek().isOp(")")) {
        if (peek().kind() == Kind.EOF) {
          throw unexpected(peek(), "\")\"");
        }
        pos++;
      }
      last = next();
    }
    if (peek().isOp("[") && peekAt(1).isOp("]")) {
      pos++;
      last = next();
      name = name + "[]";
    }
    return new Token(Kind.WORD, name, t.start(), last.end());
  }

  private Expr primary() throws SqlSyntaxException {
    Token t = next();
    Span s = new Span(t.start(), t.end());
    switch (t.kind()) {
      case INTEGER:
        return new IntegerLit(t.text(), s);
      case NUMERIC:
        if (Double.isInfinite(Double.parseDouble(t.text()))) {
          // The reference's parser fails on a number beyond a double's range, over the whole text.
          throw new SqlSyntaxException("Unexpected end of input", 0, sql.length());
        }
        return new NumericLit(t.text(), s);
      case STRING:
        return new StringLit(t.text(), s);
      case PARAM:
        return new Other(OtherKind.PARAMETER, null, List.of(), s);
      case OP:
        if (t.text().equals("(")) {
          if (peek().isWord("select")) {
            Select sub = select();
            expectOp(")");
            return new SubSelect(sub, sub.span()); // as the reference: without the parentheses
          }
          Expr inner = expr();
          if (peek().isOp(",")) {
            List<Expr> items = new ArrayList<>();
            items.add(inner);
            while (acceptOp(",")) {
              items.add(expr());
            }
            expectOp(")");
            return new ListExpr(items, listSpan(items));
          }
          expectOp(")");
          return inner;
        }
        throw unexpected(t, "an expression");
      case QUOTED_IDENT:
        return refOrCall(t);
      case WORD:
        switch (t.text()) {
          case "null":
            return new NullLit(s);
          case "true":
            return new BoolLit(true, s);
          case "false":
            return new BoolLit(false, s);
          case "cast":
            {
              expectOp("(");
              Expr operand = expr();
              expectWord("as");
              Token type = typeName();
              Token close = expectOp(")");
              return new Cast(
                  operand,
                  type.text(),
                  new Span(t.start(), close.end()),
                  new Span(type.start(), type.end()));
            }
          case "case":
            return caseExpr(t);
          case "array":
            {
              Token open = next();
              if (!open.isOp("[")) {
                throw unexpected(open, "\"[\"");
              }
              List<Expr> items = peek().isOp("]") ? List.of() : exprList();
              Token close = expectOp("]");
              return new Other(OtherKind.ARRAY, null, items, new Span(t.start(), close.end()));
            }
          case "exists":
            {
              expectOp("(");
              Select sub = select();
              Token close = expectOp(")");
              return new Other(
                  OtherKind.EXISTS,
                  null,
                  List.of(new SubSelect(sub, new Span(t.start(), close.end()))),
                  new Span(t.start(), close.end()));
            }
          default:
            if (KEYWORD_VALUES.contains(t.text()) && !peek().isOp("(")) {
              return new Other(OtherKind.KEYWORD, null, List.of(), s);
            }
            if (t.text().equals("any") && peek().isOp("(")) {
              // "= ANY(x)": the reference's parser reads a call of a function "any"
              return callArgs(null, t.text(), t.start());
            }
            if (RESERVED.contains(t.text())) {
              throw unexpected(t, "an expression");
            }
            return refOrCall(t);
        }
      default:
        throw unexpected(t, "an expression");
    }
  }

  /** A list's span, as the reference's parser gives it: its items, without the parentheses. */
  private static Span listSpan(List<Expr> items) {
    return items.get(0).span().to(items.get(items.size() - 1).span());
  }

  private Expr caseExpr(Token caseToken) throws SqlSyntaxException {
    List<Expr> children = new ArrayList<>();
    boolean base = false;
    if (!peek().isWord("when")) {
      children.add(expr());
      base = true;
    }
    if (!peek().isWord("when")) {
      throw unexpected(peek(), "WHEN");
    }
    while (acceptWord("when")) {
      children.add(expr());
      expectWord("then");
      children.add(expr());
    }
    if (acceptWord("else")) {
      children.add(expr());
    }
    Token end = expectWord("end");
    return new Other(
        OtherKind.CASE, base ? "base" : null, children, new Span(caseToken.start(), end.end()));
  }

  private Expr refOrCall(Token first) throws SqlSyntaxException {
    boolean quoted = first.kind() == Kind.QUOTED_IDENT;
    if (peek().isOp("(")) {
      return callArgs(null, first.text(), first.start());
    }
    if (!peek().isOp(".")) {
      Span s = new Span(first.start(), first.end());
      return new Ref(null, first.text(), s, quoted, s);
    }
    // a.b, a.b.c, a.*, a.b(...)
    List<Token> parts = new ArrayList<>();
    parts.add(first);
    while (peek().isOp(".")) {
      pos++;
      Token part = next();
      if (part.isOp("*")) {
        parts.add(part);
        break;
      }
      if (part.kind() != Kind.WORD && part.kind() != Kind.QUOTED_IDENT) {
        throw unexpected(part, "an identifier");
      }
      parts.add(part);
    }
    Token last = parts.get(parts.size() - 1);
    if (parts.size() == 2 && peek().isOp("(") && !last.isOp("*")) {
      return callArgs(first.text(), last.text(), first.start());
    }
    if (parts.size() > 3) {
      throw unexpected(last, "at most schema.table.column");
    }
    QName table;
    if (parts.size() == 3) {
      table =
          new QName(
              parts.get(0).text(),
              parts.get(1).text(),
              new Span(parts.get(0).start(), parts.get(1).end()),
              parts.get(1).kind() == Kind.QUOTED_IDENT);
    } else {
      table =
          new QName(
              null,
              parts.get(0).text(),
              new Span(parts.get(0).start(), parts.get(0).end()),
              parts.get(0).kind() == Kind.QUOTED_IDENT);
    }
    String name = last.isOp("*") ? "*" : last.text();
    return new Ref(
        table,
        name,
        new Span(last.start(), last.end()),
        last.kind() == Kind.QUOTED_IDENT,
        new Span(first.start(), last.end()));
  }

  private Call callArgs(@Nullable String schema, String name, int start) throws SqlSyntaxException {
    expectOp("(");
    List<Expr> args = new ArrayList<>();
    boolean distinct = false;
    if (!peek().isOp(")")) {
      distinct = acceptWord("distinct");
      if (peek().isOp("*") && peekAt(1).isOp(")")) {
        Token star = next();
        Span s = new Span(star.start(), star.end());
        args.add(new Ref(null, "*", s, false, s));
      } else {
        args.addAll(exprList());
      }
    }
    Token close = expectOp(")");
    if (schema == null && name.equals("substring") && args.size() == 1 && !distinct) {
      // The reference's parser has two rules for this (a call, and SUBSTRING(x [FROM ...])) and
      // refuses the whole statement as ambiguous.
      throw new SqlSyntaxException(Messages.ambiguousSqlSyntax(sql), 0, sql.length());
    }
    return new Call(schema, name, List.copyOf(args), distinct, new Span(start, close.end()));
  }

  // ---- token helpers ----

  private Token peek() {
    return tokens.get(pos);
  }

  private Token peekAt(int offset) {
    return tokens.get(Math.min(pos + offset, tokens.size() - 1));
  }

  private Token next() {
    Token t = tokens.get(pos);
    if (t.kind() != Kind.EOF) {
      pos++;
    }
    return t;
  }

  private boolean acceptWord(String word) {
    if (peek().isWord(word)) {
      pos++;
      return true;
    }
    return false;
  }

  private boolean acceptOp(String op) {
    if (peek().isOp(op)) {
      pos++;
      return true;
    }
    return false;
  }

  private Token expectWord(String word) throws SqlSyntaxException {
    Token t = next();
    if (!t.isWord(word)) {
      throw unexpected(t, word.toUpperCase(Locale.ROOT));
    }
    return t;
  }

  private Token expectOp(String op) throws SqlSyntaxException {
    Token t = next();
    if (!t.isOp(op)) {
      throw unexpected(t, "\"" + op + "\"");
    }
    return t;
  }

  private void expectEof() throws SqlSyntaxException {
    if (peek().kind() != Kind.EOF) {
      throw unexpected(peek(), "end of input");
    }
  }

  private SqlSyntaxException unexpected(Token t, String expected) {
    if (t.kind() == Kind.EOF) {
      return new SqlSyntaxException(
          "Unexpected end of input, expected " + expected, t.start(), t.end());
    }
    int line = 1;
    int col = 1;
    for (int i = 0; i < t.start(); i++) {
      if (sql.charAt(i) == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    return new SqlSyntaxException(
        "Syntax error at line "
            + line
            + " col "
            + col
            + ": unexpected \""
            + sql.substring(t.start(), t.end())
            + "\", expected "
            + expected,
        t.start(),
        t.end());
  }
}
