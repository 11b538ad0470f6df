package dev.syncline.core.internal.rules.plan;

import dev.syncline.core.internal.rules.Messages;
import dev.syncline.core.internal.rules.eval.JsJson;
import dev.syncline.core.internal.rules.eval.SqlFunction;
import dev.syncline.core.internal.rules.eval.SqlFunctions;
import dev.syncline.core.internal.rules.eval.SqlValues;
import dev.syncline.core.internal.rules.plan.Clause.ErrorClause;
import dev.syncline.core.internal.rules.plan.Clause.InputParameter;
import dev.syncline.core.internal.rules.plan.Clause.ParameterMatch;
import dev.syncline.core.internal.rules.plan.Clause.ParameterValue;
import dev.syncline.core.internal.rules.plan.Clause.RowValue;
import dev.syncline.core.internal.rules.plan.Clause.StaticValue;
import dev.syncline.core.internal.rules.sql.Ast;
import dev.syncline.core.internal.rules.sql.Ast.Expr;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Compiles expressions of one query into {@link Clause}s and collects every problem with its
 * position. One instance per query; not thread-safe (the clauses it produces are).
 */
final class ClauseCompiler extends ExpressionCompiler<Clause> {
  /** A table visible in a query. */
  record AvailableTable(String nameInSchema, @Nullable String alias) {
    String sqlName() {
      return alias != null ? alias : nameInSchema;
    }

    boolean isAliased() {
      return !sqlName().equals(nameInSchema);
    }
  }

  /** Column look-up against a known source schema, for warnings. */
  interface QuerySchema {
    /** Whether the table has the column; null when the table is unknown. */
    boolean hasColumn(String table, String column);
  }

  static final List<Map<String, @Nullable Object>> MATCH_FALSE = List.of();
  static final List<Map<String, @Nullable Object>> MATCH_TRUE = List.of(Map.of());

  final @Nullable AvailableTable defaultTable;
  final List<AvailableTable> parameterTables;
  final List<AvailableTable> valueTables;
  final boolean supportsExpandingParameters;
  final boolean supportsParameterExpressions;
  final @Nullable QuerySchema schema;

  ClauseCompiler(
      @Nullable AvailableTable defaultTable,
      List<AvailableTable> parameterTables,
      @Nullable List<AvailableTable> valueTables,
      String sql,
      boolean supportsExpandingParameters,
      boolean supportsParameterExpressions,
      @Nullable QuerySchema schema,
      SqlFunctions functions,
      boolean exactIntegerLiterals) {
    super(functions, exactIntegerLiterals, sql, new ArrayList<>());
    this.defaultTable = defaultTable;
    this.parameterTables = parameterTables;
    this.valueTables =
        valueTables != null
            ? valueTables
            : defaultTable != null ? List.of(defaultTable) : List.of();
    this.supportsExpandingParameters = supportsExpandingParameters;
    this.supportsParameterExpressions = supportsParameterExpressions;
    this.schema = schema;
  }

  ErrorClause error(String message, Ast.@Nullable Node at) {
    problems.add(
        at == null
            ? SqlProblem.fatal(message, 0, sql.length())
            : SqlProblem.fatal(message, at.span().start(), at.span().end()));
    return Clause.ERROR;
  }

  @Override
  ErrorClause error(String message, Ast.Span at) {
    problems.add(SqlProblem.fatal(message, at.start(), at.end()));
    return Clause.ERROR;
  }

  static boolean isRow(Clause c) {
    return c instanceof RowValue;
  }

  static boolean isParam(Clause c) {
    return c instanceof ParameterValue;
  }

  static boolean isStatic(Clause c) {
    return c instanceof StaticValue;
  }

  static boolean isMatch(Clause c) {
    return c instanceof ParameterMatch;
  }

  ParameterMatch compileWhere(@Nullable Expr where) {
    return toParameterMatch(compile(where));
  }

  Clause compileRowValueExtractor(Expr expr) {
    Clause c = compile(expr);
    if (!isRow(c) && !(c instanceof ErrorClause)) {
      return error(Messages.PARAMETER_MATCH_EXPRESSION_IS_NOT_ALLOWED_HERE, expr);
    }
    return c;
  }

  Clause compileParameterValueExtractor(@Nullable Expr expr) {
    Clause c = compile(expr);
    if (c instanceof ErrorClause || isStatic(c) || isParam(c)) {
      return c;
    }
    return error(Messages.PARAMETER_MATCH_EXPRESSION_IS_NOT_ALLOWED_HERE, expr);
  }

  Object literalValue(Expr expr) {
    return literalValue(expr, exactIntegerLiterals);
  }

  /** A missing condition ({@code WHERE} absent) is true. */
  @Override
  Clause compile(@Nullable Expr expr) {
    return expr == null ? new StaticValue(SqlValues.TRUE) : super.compile(expr);
  }

  @Override
  Clause constant(@Nullable Object value, Ast.Node at) {
    return new StaticValue(value);
  }

  @Override
  Clause column(Ast.Ref ref) {
    checkRefCase(ref);
    String column = ref.name();
    if (column.equals("*")) {
      return error(Messages.NOT_SUPPORTED_HERE, ref);
    }
    if (ref.table() != null && ref.table().schema() != null) {
      return error(Messages.SCHEMA_IS_NOT_SUPPORTED_IN_COLUMN_REFERENCES, ref);
    }
    if (isParameterRef(ref)) {
      return parameterRef(ref);
    }
    AvailableTable table = tableOf(ref);
    if (table != null) {
      if (schema != null && !schema.hasColumn(table.nameInSchema(), column)) {
        warn(Messages.columnNotFound(column), ref.span());
      }
      String name = column;
      return (RowValue) (Map<String, @Nullable Object> row) -> row.get(name);
    }
    String full = ref.table() == null ? column : ref.table().name() + "." + column;
    return error(Messages.undefinedReference(full), ref);
  }

  @Override
  Clause combine(Ast.Binary b, Clause left, Clause right) {
    switch (b.op()) {
      case AND:
        try {
          return Filters.and(left, right);
        } catch (IllegalArgumentException e) {
          return error(Objects.requireNonNullElse(e.getMessage(), "invalid condition"), b);
        }
      case OR:
        try {
          return Filters.or(left, right);
        } catch (IllegalArgumentException e) {
          return error(Objects.requireNonNullElse(e.getMessage(), "invalid condition"), b);
        }
      case EQ:
        {
          if (supportsParameterExpressions && isParam(left) && isParam(right)) {
            return super.combine(b, left, right);
          }
          if (!isRow(left) && !isRow(right)) {
            return error(Messages.CANNOT_HAVE_BUCKET_PARAMETERS_ON_BOTH_SIDES, b);
          }
          RowValue staticFilter = isRow(left) ? (RowValue) left : (RowValue) right;
          Clause other = isRow(left) ? right : left;
          if (isRow(other)) {
            RowValue l = (RowValue) left;
            RowValue r = (RowValue) right;
            return (RowValue)
                (Map<String, @Nullable Object> row) ->
                    SqlValues.operator("=", l.evaluate(row), r.evaluate(row));
          } else if (isParam(other)) {
            return Filters.parameterMatch(staticFilter, (ParameterValue) other);
          } else {
            return error(Messages.PARAMETER_MATCH_CLAUSES_CANNOT_BE_USED_HERE, b);
          }
        }
      case IN:
        return compileIn(b.left(), left, b.right(), right);
      default:
        return super.combine(b, left, right);
    }
  }

  @Override
  boolean checksNodeFirst() {
    return false;
  }

  @Override
  @Nullable String refusal(Ast.BinaryOp op) {
    return legacyRefusal(op);
  }

  @Override
  @Nullable String refusal(Ast.UnaryOp op) {
    return legacyRefusal(op);
  }

  @Override
  boolean supportsConditionals() {
    return false;
  }

  /** Bucket definitions check no argument count (see {@link #withArity}). */
  @Override
  @Nullable String arityProblem(Ast.Call call, SqlFunction impl) {
    return null;
  }

  @Override
  Clause apply(Ast.Node at, SqlFunction fn, List<Clause> args, List<Expr> argExprs) {
    return composeFunction(fn, args, argExprs);
  }

  @Override
  boolean failed(Clause compiled) {
    return compiled instanceof ErrorClause;
  }

  @Override
  Clause schemaCall(Ast.Call call) {
    String schemaName = Objects.requireNonNull(call.schema(), "a schema call has a schema");
    String fn = call.name();
    if (schemaName.equals("request")) {
      if (!supportsParameterExpressions) {
        return error(Messages.schemaNotAvailableInDataQueries(schemaName), call);
      }
      RequestFunctions.Function impl = RequestFunctions.REQUEST.get(fn);
      if (impl != null) {
        if (call.args().size() != impl.parameterCount()) {
          return error(
              Messages.functionTakesArguments(schemaName + "." + fn, impl.parameterCount()), call);
        }
        List<ParameterValue> args = new ArrayList<>();
        boolean invalid = false;
        for (Expr a : call.args()) {
          Clause c = compile(a);
          if (!isParam(c)) {
            invalid = true;
            if (!(c instanceof ErrorClause)) {
              error(Messages.MUST_ONLY_DEPEND_ON_DATA_DERIVED_FROM, a);
            }
          } else {
            args.add((ParameterValue) c);
          }
        }
        if (invalid) {
          return Clause.ERROR;
        }
        String key =
            schemaName
                + "."
                + fn
                + "("
                + args.stream().map(ParameterValue::key).collect(Collectors.joining(","))
                + ")";
        return new Clause.RequestFunctionCall() {
          @Override
          public RequestFunctions.Usage usage() {
            return impl.usage();
          }

          @Override
          public String key() {
            return key;
          }

          @Override
          public @Nullable Object lookup(RequestParameters parameters) {
            @Nullable Object[] values = new Object[args.size()];
            for (int i = 0; i < values.length; i++) {
              values[i] = args.get(i).lookup(parameters);
            }
            return impl.impl().call(parameters, values);
          }

          @Override
          public void visitChildren(Consumer<Clause> visitor) {
            args.forEach(visitor);
          }
        };
      }
    }
    return error(Messages.functionNotDefined(schemaName + "." + fn), call);
  }

  private Clause compileIn(Expr left, Clause leftClause, Expr right, Clause rightClause) {
    SqlFunction in = operatorFunction("IN");
    ComposeType type = composeType(in, List.of(leftClause, rightClause), List.of(left, right));
    if (type.errorClause) {
      return Clause.ERROR;
    } else if (type.argsType != null) {
      return composeFunction(in, List.of(leftClause, rightClause), List.of(left, right));
    } else if (isParam(leftClause) && isRow(rightClause)) {
      InputParameter input =
          new InputParameter(
              ((ParameterValue) leftClause).key(), false, (ParameterValue) leftClause);
      RowValue array = (RowValue) rightClause;
      return Filters.match(
          List.of(input),
          true,
          row -> {
            Object value = array.evaluate(row);
            if (value == null) {
              return MATCH_FALSE;
            }
            Object parsed = JsJson.parsePlain(SqlValues.text(value));
            if (!(parsed instanceof List<?> values)) {
              throw new IllegalArgumentException("Not an array");
            }
            List<Map<String, @Nullable Object>> result = new ArrayList<>();
            for (Object v : values) {
              Map<String, @Nullable Object> m = new LinkedHashMap<>();
              m.put(input.key(), v);
              result.add(m);
            }
            return result;
          },
          v -> v.accept(leftClause));
    } else if (supportsExpandingParameters && isRow(leftClause) && isParam(rightClause)) {
      ParameterValue array = (ParameterValue) rightClause;
      String key = array.key() + "[*]";
      InputParameter input = new InputParameter(key, true, array);
      RowValue value = (RowValue) leftClause;
      return Filters.match(
          List.of(input),
          false,
          row -> {
            Object v = value.evaluate(row);
            if (!SqlValues.isJsonValue(v)) {
              return MATCH_FALSE;
            }
            Map<String, @Nullable Object> m = new LinkedHashMap<>();
            m.put(key, v);
            return List.of(m);
          },
          v -> v.accept(rightClause));
    } else {
      return error(
          Objects.requireNonNull(type.error, "no argument type means an error"), type.errorAt);
    }
  }

  /** Result of checking which kinds of clauses a function is applied to. */
  private record ComposeType(
      @Nullable String argsType,
      @Nullable String error,
      @Nullable Expr errorAt,
      boolean errorClause) {}

  private ComposeType composeType(SqlFunction fn, List<Clause> args, List<Expr> debugArgs) {
    String argsType = "static";
    for (int i = 0; i < args.size(); i++) {
      Clause c = args.get(i);
      Expr at = debugArgs.get(i);
      if (c instanceof ErrorClause) {
        return new ComposeType(null, null, null, true);
      } else if (isStatic(c)) {

      } else if (isParam(c)) {
        if (!supportsParameterExpressions) {
          if (fn.name().equals("operatorIN")) {
            return new ComposeType(null, Messages.BUCKET_PARAMETERS_ON_RIGHT_OF_IN, at, false);
          }
          return new ComposeType(null, Messages.BUCKET_PARAMETERS_IN_EXPRESSIONS, at, false);
        }
        if (argsType.equals("static") || argsType.equals("param")) {
          argsType = "param";
        } else {
          return new ComposeType(
              null, Messages.CANNOT_USE_TABLE_VALUES_AND_PARAMETERS_IN, at, false);
        }
      } else if (isRow(c)) {
        if (argsType.equals("static") || argsType.equals("row")) {
          argsType = "row";
        } else {
          return new ComposeType(
              null, Messages.CANNOT_USE_TABLE_VALUES_AND_PARAMETERS_IN, at, false);
        }
      } else {
        return new ComposeType(
            null, Messages.PARAMETER_MATCH_CLAUSES_CANNOT_BE_USED_HERE, at, false);
      }
    }
    return new ComposeType(argsType, null, null, false);
  }

  Clause composeFunction(SqlFunction fn, List<Clause> args, List<Expr> debugArgs) {
    ComposeType type = composeType(fn, args, debugArgs);
    if (type.errorClause) {
      return Clause.ERROR;
    } else if (type.error != null) {
      return error(type.error, type.errorAt);
    }
    int n = args.size();
    switch (Objects.requireNonNull(type.argsType, "no error means an argument type")) {
      case "static":
        {
          @Nullable Object[] values = new Object[n];
          for (int i = 0; i < n; i++) {
            values[i] = ((StaticValue) args.get(i)).value();
          }
          try {
            return new StaticValue(fn.call(values));
          } catch (RuntimeException e) {
            throw new ExpressionCompiler.StaticEvaluationException(String.valueOf(e.getMessage()));
          }
        }
      case "row":
        {
          RowValue[] rows = args.toArray(new RowValue[0]);
          if (n == 1) {
            RowValue a = rows[0];
            return (RowValue) (Map<String, @Nullable Object> row) -> fn.call(a.evaluate(row));
          } else if (n == 2) {
            RowValue a = rows[0];
            RowValue b = rows[1];
            return (RowValue)
                (Map<String, @Nullable Object> row) -> fn.call(a.evaluate(row), b.evaluate(row));
          }
          return (RowValue)
              (Map<String, @Nullable Object> row) -> {
                @Nullable Object[] values = new Object[n];
                for (int i = 0; i < n; i++) {
                  values[i] = rows[i].evaluate(row);
                }
                return fn.call(values);
              };
        }
      default:
        {
          ParameterValue[] params = args.toArray(new ParameterValue[0]);
          String key =
              fn.name()
                  + "("
                  + args.stream()
                      .map(c -> ((ParameterValue) c).key())
                      .collect(Collectors.joining(","))
                  + ")";
          return new ParameterValue() {
            @Override
            public String key() {
              return key;
            }

            @Override
            public @Nullable Object lookup(RequestParameters parameters) {
              @Nullable Object[] values = new Object[n];
              for (int i = 0; i < n; i++) {
                values[i] = params[i].lookup(parameters);
              }
              return fn.call(values);
            }

            @Override
            public void visitChildren(Consumer<Clause> visitor) {
              args.forEach(visitor);
            }
          };
        }
    }
  }

  static ParameterMatch toParameterMatch(Clause clause) {
    return Filters.toParameterMatch(clause);
  }

  /** The output name of a column: its alias, or the column name of a bare reference. */
  String outputName(Ast.Column column) throws QueryException {
    if (column.alias() != null) {
      return column.alias();
    }
    if (column.expr() instanceof Ast.Ref ref) {
      return ref.name();
    }
    throw new QueryException(
        SqlProblem.fatal(
            Messages.ALIAS_IS_REQUIRED, column.expr().span().start(), column.expr().span().end()));
  }

  String specificOutputName(Ast.Column column) throws QueryException {
    String name = outputName(column);
    if (name.equals("*")) {
      throw new QueryException(
          SqlProblem.fatal(
              Messages.IS_NOT_SUPPORTED_HERE_USE_EXPLICIT_COLUMNS,
              column.expr().span().start(),
              column.expr().span().end()));
    }
    return name;
  }

  private @Nullable AvailableTable search(@Nullable String name) {
    return name == null
        ? null
        : parameterTables.stream().filter(t -> t.sqlName().equals(name)).findFirst().orElse(null);
  }

  private boolean isParameterRef(Ast.Ref ref) {
    String tableName =
        ref.table() != null
            ? ref.table().name()
            : defaultTable != null ? defaultTable.sqlName() : "";
    return search(tableName) != null;
  }

  /** The value table a reference reads, or null when it is not a table reference. */
  @Nullable AvailableTable tableOf(Ast.Ref ref) {
    if (ref.table() != null && ref.table().schema() != null) {
      return null;
    }
    String name =
        ref.table() != null
            ? ref.table().name()
            : defaultTable != null ? defaultTable.sqlName() : null;
    if (name == null) {
      return null;
    }
    return valueTables.stream().filter(t -> t.sqlName().equals(name)).findFirst().orElse(null);
  }

  boolean isTableRef(Expr expr) {
    return expr instanceof Ast.Ref ref && tableOf(ref) != null;
  }

  private ParameterValue parameterRef(Ast.Ref ref) {
    Ast.QName qualifier = ref.table();
    String tableName =
        qualifier != null
            ? qualifier.name()
            : Objects.requireNonNull(
                    defaultTable, "a parameter reference without table has a default table")
                .sqlName();
    String table =
        Objects.requireNonNull(search(tableName), "a parameter reference names a parameter table")
            .nameInSchema();
    String column = ref.name();
    String key = table + "." + column;
    return new Clause.TableParameterRef() {
      @Override
      public String table() {
        return table;
      }

      @Override
      public String key() {
        return key;
      }

      @Override
      public @Nullable Object lookup(RequestParameters parameters) {
        return parameters.lookup(table, column);
      }
    };
  }

  /** A column alias: warns about upper-case unquoted aliases. */
  void checkAliasCase(Ast.Column column) {
    if (column.alias() != null && !column.aliasQuoted() && column.aliasSpan() != null) {
      checkCase(column.aliasSpan());
    }
  }

  /** Extracts a {@code _priority} value: an integer literal 0..3. */
  @Nullable Integer extractPriority(Expr expr) {
    if (!(expr instanceof Ast.IntegerLit lit)) {
      error(Messages.PRIORITY_MUST_BE_A_SIMPLE_INTEGER_LITERAL, expr);
      return null;
    }
    long value;
    try {
      value = Long.parseLong(lit.text());
    } catch (NumberFormatException e) {
      value = -1;
    }
    if (value < 0 || value > 3) {
      error(Messages.INVALID_VALUE_FOR_PRIORITY_MUST_BE_BETWEEN, expr);
      return null;
    }
    return (int) value;
  }
}
