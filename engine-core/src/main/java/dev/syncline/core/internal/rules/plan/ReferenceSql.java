package dev.syncline.core.internal.rules.plan;

import dev.syncline.core.internal.rules.eval.JsJson;
import dev.syncline.core.internal.rules.sql.Ast;
import dev.syncline.core.internal.rules.sql.Ast.Expr;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An edition-3 row expression as the reference's compiler renders it to SQLite text, with {@code ?}
 * for each column or table metadata it reads: the text its stable hash of the expression starts
 * with, which orders a stream's bucket parameters (see {@link StableHash}). Covers columns, table
 * metadata, function calls, arithmetic, concatenation, comparisons, casts and literals; anything
 * else gives null (the caller then keeps its own order).
 */
final class ReferenceSql {
  private ReferenceSql() {}

  private static final Map<Ast.BinaryOp, String> OPERATORS =
      Map.ofEntries(
          Map.entry(Ast.BinaryOp.OR, "or"),
          Map.entry(Ast.BinaryOp.AND, "and"),
          Map.entry(Ast.BinaryOp.EQ, "="),
          Map.entry(Ast.BinaryOp.LT, "<"),
          Map.entry(Ast.BinaryOp.GT, ">"),
          Map.entry(Ast.BinaryOp.LE, "<="),
          Map.entry(Ast.BinaryOp.GE, ">="),
          Map.entry(Ast.BinaryOp.BIT_AND, "&"),
          Map.entry(Ast.BinaryOp.BIT_OR, "|"),
          Map.entry(Ast.BinaryOp.SHIFT_LEFT, "<<"),
          Map.entry(Ast.BinaryOp.SHIFT_RIGHT, ">>"),
          Map.entry(Ast.BinaryOp.ADD, "+"),
          Map.entry(Ast.BinaryOp.SUBTRACT, "-"),
          Map.entry(Ast.BinaryOp.MULTIPLY, "*"),
          Map.entry(Ast.BinaryOp.DIVIDE, "/"),
          Map.entry(Ast.BinaryOp.MODULO, "%"),
          Map.entry(Ast.BinaryOp.CONCAT, "||"));

  /** SQLite's operator precedence, as the reference's renderer numbers it. */
  private static int precedence(String op) {
    return switch (op) {
      case "or" -> 1;
      case "and" -> 2;
      case "=" -> 4;
      case "<", ">", "<=", ">=" -> 5;
      case "&", "|", "<<", ">>" -> 6;
      case "+", "-" -> 7;
      case "*", "/", "%" -> 8;
      default -> 9; // ||
    };
  }

  /**
   * The reference's identity of a row expression: its rendered text followed by the name of each
   * column (or {@code table.<function>} for metadata) it reads; null when this cannot render the
   * expression. Two expressions with the same key are the same partition key to the reference.
   */
  static @Nullable List<String> key(Expr e) {
    Renderer r = new Renderer();
    if (!r.add(e, 0)) {
      return null;
    }
    List<String> key = new ArrayList<>();
    key.add(r.sql.toString());
    key.addAll(r.inputs);
    return List.copyOf(key);
  }

  /** The reference's order hash of a key: its stable hash of the parts in order. */
  static int orderHash(List<String> key) {
    return StableHash.of(key.toArray(String[]::new));
  }

  private static final class Renderer {
    final StringBuilder sql = new StringBuilder();
    final List<String> inputs = new ArrayList<>();
    boolean needsSpace;

    void lexeme(String text, boolean spaceLeft, boolean spaceRight) {
      if (needsSpace && spaceLeft) {
        sql.append(' ');
      }
      sql.append(text);
      needsSpace = spaceRight;
    }

    void lexeme(String text) {
      lexeme(text, true, true);
    }

    boolean add(Expr e, int outer) {
      if (e instanceof Ast.Ref ref && !ref.name().equals("*")) {
        lexeme("?");
        inputs.add(ref.name());
        return true;
      } else if (e instanceof Ast.Call c && c.schema() != null) {
        if (TableRefs.metadataKey(c.name()) == null || !c.args().isEmpty()) {
          return false; // a request value: not part of a row expression
        }
        lexeme("?");
        inputs.add("table." + c.name().toLowerCase(Locale.ROOT));
        return true;
      } else if (e instanceof Ast.Call c) {
        if (c.distinct()) {
          return false;
        }
        lexeme("\"" + c.name().toLowerCase(Locale.ROOT).replace("\"", "\"\"") + "\"");
        lexeme("(", false, false);
        for (int i = 0; i < c.args().size(); i++) {
          if (i > 0) {
            lexeme(",", false, true);
          }
          if (!add(c.args().get(i), 0)) {
            return false;
          }
        }
        lexeme(")", false, true);
        return true;
      } else if (e instanceof Ast.Binary b) {
        String op = OPERATORS.get(b.op());
        if (op == null) {
          return false;
        }
        int inner = precedence(op);
        boolean parens = outer >= inner;
        if (parens) {
          lexeme("(", true, false);
        }
        if (!add(b.left(), inner)) {
          return false;
        }
        lexeme(op);
        if (!add(b.right(), inner)) {
          return false;
        }
        if (parens) {
          lexeme(")", false, true);
        }
        return true;
      } else if (e instanceof Ast.Cast c) {
        lexeme("CAST(", true, false);
        if (!add(c.operand(), 0)) {
          return false;
        }
        lexeme("AS");
        lexeme(c.typeName().toLowerCase(Locale.ROOT));
        lexeme(")", false, true);
        return true;
      } else if (e instanceof Ast.StringLit s) {
        lexeme("'" + s.value().replace("'", "''") + "'");
        return true;
      } else if (e instanceof Ast.IntegerLit i) {
        if (!i.text().chars().allMatch(Character::isDigit)) {
          return false;
        }
        lexeme(new BigInteger(i.text()).toString());
        return true;
      } else if (e instanceof Ast.NumericLit n) {
        double d = Double.parseDouble(n.text());
        String text = JsJson.stringifyPlain(d);
        lexeme(
            d == Math.rint(d) && !Double.isInfinite(d) && !text.contains("e") ? text + ".0" : text);
        return true;
      } else if (e instanceof Ast.NullLit) {
        lexeme("NULL");
        return true;
      }
      return false;
    }
  }
}
