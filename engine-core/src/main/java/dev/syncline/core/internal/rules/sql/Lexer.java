package dev.syncline.core.internal.rules.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Splits SQL text into tokens. Unquoted identifiers and keywords are lower-cased, as Postgres does.
 */
final class Lexer {
  enum Kind {
    WORD,
    QUOTED_IDENT,
    STRING,
    INTEGER,
    NUMERIC,
    OP,
    PARAM,
    EOF
  }

  /**
   * A token.
   *
   * @param text for WORD the lower-cased word; for QUOTED_IDENT and STRING the unescaped content;
   *     for OP the operator
   */
  record Token(Kind kind, String text, int start, int end) {
    boolean is(Kind k, String t) {
      return kind == k && text.equals(t);
    }

    boolean isWord(String w) {
      return kind == Kind.WORD && text.equals(w);
    }

    boolean isOp(String o) {
      return kind == Kind.OP && text.equals(o);
    }
  }

  private static final String[] OPERATORS = {
    "->>", "->", "::", "||", "<<", ">>", "<=", ">=", "<>", "!=", "&&", "@>", "<@", "(", ")", ",",
    ".", "*", "+", "-", "/", "%", "=", "<", ">", ";", "[", "]", "&", "|"
  };

  private Lexer() {}

  static List<Token> tokenize(String sql) throws SqlSyntaxException {
    List<Token> tokens = new ArrayList<>();
    int i = 0;
    int n = sql.length();
    outer:
    while (i < n) {
      char c = sql.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
        continue;
      }
      if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
        while (i < n && sql.charAt(i) != '\n') {
          i++;
        }
        continue;
      }
      if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
        int close = sql.indexOf("*/", i + 2);
        if (close < 0) {
          throw new SqlSyntaxException("Unterminated comment", i, n);
        }
        i = close + 2;
        continue;
      }
      int start = i;
      if (c == '\'' || ((c == 'e' || c == 'E') && i + 1 < n && sql.charAt(i + 1) == '\'')) {
        boolean escapes = c != '\'';
        if (escapes) {
          i++;
        }
        StringBuilder sb = new StringBuilder();
        i++;
        while (true) {
          if (i >= n) {
            throw new SqlSyntaxException("Unterminated string literal", start, n);
          }
          char d = sql.charAt(i);
          if (d == '\'') {
            if (i + 1 < n && sql.charAt(i + 1) == '\'') {
              sb.append('\'');
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (escapes && d == '\\' && i + 1 < n) {
            char e = sql.charAt(i + 1);
            switch (e) {
              case 'n' -> sb.append('\n');
              case 't' -> sb.append('\t');
              case 'r' -> sb.append('\r');
              case 'b' -> sb.append('\b');
              case 'f' -> sb.append('\f');
              default -> sb.append(e);
            }
            i += 2;
            continue;
          }
          sb.append(d);
          i++;
        }
        tokens.add(new Token(Kind.STRING, sb.toString(), start, i));
        continue;
      }
      if (c == '"') {
        StringBuilder sb = new StringBuilder();
        i++;
        while (true) {
          if (i >= n) {
            throw new SqlSyntaxException("Unterminated quoted identifier", start, n);
          }
          char d = sql.charAt(i);
          if (d == '"') {
            if (i + 1 < n && sql.charAt(i + 1) == '"') {
              sb.append('"');
              i += 2;
              continue;
            }
            i++;
            break;
          }
          sb.append(d);
          i++;
        }
        tokens.add(new Token(Kind.QUOTED_IDENT, sb.toString(), start, i));
        continue;
      }
      if (isDigit(c) || (c == '.' && i + 1 < n && isDigit(sql.charAt(i + 1)))) {
        boolean numeric = false;
        while (i < n && isDigit(sql.charAt(i))) {
          i++;
        }
        if (i < n && sql.charAt(i) == '.' && !(i + 1 < n && sql.charAt(i + 1) == '.')) {
          numeric = true;
          i++;
          while (i < n && isDigit(sql.charAt(i))) {
            i++;
          }
        }
        if (i < n && (sql.charAt(i) == 'e' || sql.charAt(i) == 'E')) {
          int save = i;
          i++;
          if (i < n && (sql.charAt(i) == '+' || sql.charAt(i) == '-')) {
            i++;
          }
          if (i < n && isDigit(sql.charAt(i))) {
            numeric = true;
            while (i < n && isDigit(sql.charAt(i))) {
              i++;
            }
          } else {
            i = save;
          }
        }
        if (i < n && isIdentStart(sql.charAt(i))) {
          throw new SqlSyntaxException("Unexpected character after number", start, i + 1);
        }
        tokens.add(
            new Token(numeric ? Kind.NUMERIC : Kind.INTEGER, sql.substring(start, i), start, i));
        continue;
      }
      if (isIdentStart(c)) {
        while (i < n && isIdentPart(sql.charAt(i))) {
          i++;
        }
        tokens.add(
            new Token(Kind.WORD, sql.substring(start, i).toLowerCase(Locale.ROOT), start, i));
        continue;
      }
      if (c == '$' && i + 1 < n && isDigit(sql.charAt(i + 1))) {
        i++;
        while (i < n && isDigit(sql.charAt(i))) {
          i++;
        }
        tokens.add(new Token(Kind.PARAM, sql.substring(start, i), start, i));
        continue;
      }
      for (String op : OPERATORS) {
        if (sql.startsWith(op, i)) {
          i += op.length();
          tokens.add(new Token(Kind.OP, op, start, i));
          continue outer;
        }
      }
      throw new SqlSyntaxException("Unexpected character '" + c + "'", i, i + 1);
    }
    tokens.add(new Token(Kind.EOF, "", n, n));
    return tokens;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean isIdentStart(char c) {
    return Character.isLetter(c) || c == '_';
  }

  private static boolean isIdentPart(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '$';
  }
}
