package dev.syncline.core.internal.rules.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.core.internal.rules.sql.Ast.Binary;
import dev.syncline.core.internal.rules.sql.Ast.Expr;
import dev.syncline.core.internal.rules.sql.Ast.Select;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqlParserTest {
  private static String text(String sql, Ast.Node node) {
    return sql.substring(node.span().start(), node.span().end());
  }

  @Test
  void nodes_know_their_exact_source_range() throws Exception {
    String sql = "SELECT id, upper(name) AS u FROM todos WHERE (owner_id = bucket.user_id)";
    Select s = (Select) SqlParser.parse(sql).get(0);
    assertThat(text(sql, s.columns().get(1).expr())).isEqualTo("upper(name)");
    assertThat(s.columns().get(1).alias()).isEqualTo("u");
    assertThat(text(sql, s.from().get(0))).isEqualTo("todos");
    assertThat(text(sql, s.where())).isEqualTo("owner_id = bucket.user_id");
    assertThat(text(sql, s)).isEqualTo(sql);
  }

  @Test
  void precedence_follows_postgres() throws Exception {
    Expr e = SqlParser.parseExpression("a = 1 OR b = 2 AND NOT c || d = 'x'");
    assertThat(e).isInstanceOf(Binary.class);
    Binary or = (Binary) e;
    assertThat(or.op()).isEqualTo(Ast.BinaryOp.OR);
    assertThat(((Binary) or.right()).op()).isEqualTo(Ast.BinaryOp.AND);
    Binary arithmetic = (Binary) SqlParser.parseExpression("1 + 2 * 3");
    assertThat(arithmetic.op()).isEqualTo(Ast.BinaryOp.ADD);
    assertThat(((Binary) arithmetic.right()).op()).isEqualTo(Ast.BinaryOp.MULTIPLY);
  }

  @Test
  void unquoted_identifiers_are_lower_cased_and_quoted_ones_kept() throws Exception {
    Ast.Ref plain = (Ast.Ref) SqlParser.parseExpression("Title");
    Ast.Ref quoted = (Ast.Ref) SqlParser.parseExpression("\"Title\"");
    assertThat(plain.name()).isEqualTo("title");
    assertThat(quoted.name()).isEqualTo("Title");
    assertThat(quoted.quoted()).isTrue();
  }

  @Test
  void json_operators_with_literal_keys_are_member_access() throws Exception {
    Ast.Member m = (Ast.Member) SqlParser.parseExpression("doc -> 'o' ->> 'k'");
    assertThat(m.op()).isEqualTo(Ast.BinaryOp.JSON_TEXT);
    assertThat(m.member()).isEqualTo("k");
    assertThat(((Ast.Member) m.operand()).member()).isEqualTo("o");
  }

  @Test
  void a_parenthesized_single_value_after_in_is_that_value_and_several_are_a_list()
      throws Exception {
    Binary single = (Binary) SqlParser.parseExpression("'a' IN (request.jwt() -> 'roles')");
    assertThat(single.right()).isInstanceOf(Ast.Member.class);
    Binary list = (Binary) SqlParser.parseExpression("x IN (1, 2)");
    assertThat(list.right()).isInstanceOf(Ast.ListExpr.class);
  }

  @Test
  void unsupported_but_valid_sql_parses_so_the_compiler_can_name_it() throws Exception {
    Select s =
        (Select)
            SqlParser.parse(
                    "SELECT DISTINCT a.id FROM a JOIN b ON a.x = b.y WHERE x BETWEEN 1 AND 2 GROUP BY a.id ORDER BY 1 LIMIT 5")
                .get(0);
    assertThat(s.distinct()).isTrue();
    assertThat(s.from()).hasSize(2);
    assertThat(s.where()).isInstanceOf(Ast.Other.class);
    assertThat(s.where().type()).isEqualTo("ternary");
    assertThat(s.groupBy()).hasSize(1);
    assertThat(s.orderBy()).hasSize(1);
    assertThat(s.limitSpan()).isNotNull();
  }

  @Test
  void several_statements_and_other_statement_kinds_are_returned_for_the_compiler_to_reject()
      throws Exception {
    List<Ast.Statement> statements = SqlParser.parse("SELECT 1; DELETE FROM todos WHERE id = 1;");
    assertThat(statements).hasSize(2);
    assertThat(statements.get(1)).isInstanceOf(Ast.OtherStatement.class);
  }

  @Test
  void syntax_errors_carry_the_offending_token() {
    String sql = "SELECT id title, FROM todos";
    assertThatThrownBy(() -> SqlParser.parse(sql))
        .isInstanceOfSatisfying(
            SqlSyntaxException.class,
            e -> {
              assertThat(sql.substring(e.start(), e.end())).isEqualTo("FROM");
              assertThat(e.getMessage()).startsWith("Syntax error at line 1 col 18");
            });
    assertThatThrownBy(() -> SqlParser.parse("SELECT 'unterminated"))
        .isInstanceOf(SqlSyntaxException.class);
    assertThatThrownBy(() -> SqlParser.parse("")).hasMessageContaining("Unexpected end of input");
  }

  @Test
  void string_literals_unescape_doubled_quotes() throws Exception {
    assertThat(((Ast.StringLit) SqlParser.parseExpression("'it''s'")).value()).isEqualTo("it's");
  }
}
