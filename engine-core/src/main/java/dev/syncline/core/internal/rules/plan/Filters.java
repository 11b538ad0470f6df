package dev.syncline.core.internal.rules.plan;

import dev.syncline.core.internal.rules.Messages;
import dev.syncline.core.internal.rules.eval.JsJson;
import dev.syncline.core.internal.rules.eval.SqlValues;
import dev.syncline.core.internal.rules.plan.Clause.InputParameter;
import dev.syncline.core.internal.rules.plan.Clause.ParameterMatch;
import dev.syncline.core.internal.rules.plan.Clause.ParameterValue;
import dev.syncline.core.internal.rules.plan.Clause.RowValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/** Combinators for filters: AND, OR, boolean conversion, parameter matches. */
final class Filters {
  private Filters() {}

  static ParameterMatch match(
      List<InputParameter> inputs,
      boolean unbounded,
      Function<Map<String, @Nullable Object>, List<Map<String, @Nullable Object>>> filter,
      Consumer<Consumer<Clause>> children) {
    return match(inputs, unbounded, false, null, filter, children);
  }

  static ParameterMatch match(
      List<InputParameter> inputs,
      boolean unbounded,
      boolean error,
      @Nullable String specialType,
      Function<Map<String, @Nullable Object>, List<Map<String, @Nullable Object>>> filter,
      Consumer<Consumer<Clause>> children) {
    List<InputParameter> in = List.copyOf(inputs);
    return new ParameterMatch() {
      @Override
      public boolean error() {
        return error;
      }

      @Override
      public List<InputParameter> inputParameters() {
        return in;
      }

      @Override
      public boolean unbounded() {
        return unbounded;
      }

      @Override
      public List<Map<String, @Nullable Object>> filterRow(Map<String, @Nullable Object> row) {
        return filter.apply(row);
      }

      @Override
      public @Nullable String specialType() {
        return specialType;
      }

      @Override
      public void visitChildren(Consumer<Clause> visitor) {
        children.accept(visitor);
      }
    };
  }

  /** {@code column = <request value>}: matches when the column is a non-null JSON value. */
  static ParameterMatch parameterMatch(RowValue column, ParameterValue parameter) {
    InputParameter input = new InputParameter(parameter.key(), false, parameter);
    String key = input.key();
    return match(
        List.of(input),
        false,
        row -> {
          Object value = column.evaluate(row);
          if (value == null || !SqlValues.isJsonValue(value)) {
            return ClauseCompiler.MATCH_FALSE;
          }
          return List.of(Map.of(key, value));
        },
        v -> v.accept(parameter));
  }

  static ParameterMatch toParameterMatch(Clause clause) {
    if (clause instanceof ParameterMatch m) {
      return m;
    } else if (clause instanceof RowValue r) {
      return match(
          List.of(),
          false,
          row ->
              SqlValues.truthy(r.evaluate(row))
                  ? ClauseCompiler.MATCH_TRUE
                  : ClauseCompiler.MATCH_FALSE,
          v -> v.accept(r));
    } else if (clause instanceof Clause.ErrorClause) {
      return match(
          List.of(),
          false,
          true,
          null,
          row -> {
            throw new IllegalStateException("invalid clause");
          },
          v -> v.accept(clause));
    } else {
      ParameterValue p = (ParameterValue) clause;
      String key = p.key();
      ParameterValue asBool =
          new ParameterValue() {
            @Override
            public String key() {
              return key;
            }

            @Override
            public @Nullable Object lookup(RequestParameters parameters) {
              return SqlValues.bool(p.lookup(parameters));
            }

            @Override
            public void visitChildren(Consumer<Clause> visitor) {
              visitor.accept(p);
            }
          };
      InputParameter input = new InputParameter(key, false, asBool);
      return match(
          List.of(input),
          false,
          row -> {
            Map<String, @Nullable Object> m = new LinkedHashMap<>(2);
            m.put(key, SqlValues.TRUE);
            return List.of(m);
          },
          v -> v.accept(p));
    }
  }

  static Clause and(Clause a, Clause b) {
    if (a instanceof RowValue ra && b instanceof RowValue rb) {
      return (RowValue)
          (Map<String, @Nullable Object> row) ->
              SqlValues.bool(
                  SqlValues.truthy(ra.evaluate(row)) && SqlValues.truthy(rb.evaluate(row)));
    }
    if (a instanceof ParameterValue pa && b instanceof ParameterValue pb) {
      return composed(
          "and", pa, pb, (x, y) -> SqlValues.bool(SqlValues.truthy(x) && SqlValues.truthy(y)));
    }
    ParameterMatch fa = toParameterMatch(a);
    ParameterMatch fb = toParameterMatch(b);
    if (fa.unbounded() && fb.unbounded()) {
      throw new IllegalArgumentException(Messages.MULTIPLE_IN_EXPRESSIONS_ON_BUCKET_PARAMETERS);
    }
    Map<String, InputParameter> combined = new LinkedHashMap<>();
    for (InputParameter p : fa.inputParameters()) {
      combined.put(p.key(), p);
    }
    for (InputParameter p : fb.inputParameters()) {
      combined.put(p.key(), p);
    }
    return match(
        new ArrayList<>(combined.values()),
        fa.unbounded() || fb.unbounded(),
        fa.error() || fb.error(),
        null,
        row -> {
          List<Map<String, @Nullable Object>> ra = fa.filterRow(row);
          List<Map<String, @Nullable Object>> rb = fb.filterRow(row);
          if (ra.isEmpty() || rb.isEmpty()) {
            return ClauseCompiler.MATCH_FALSE;
          }
          List<Map<String, @Nullable Object>> results = new ArrayList<>(ra.size() * rb.size());
          for (Map<String, @Nullable Object> r1 : ra) {
            for (Map<String, @Nullable Object> r2 : rb) {
              Map<String, @Nullable Object> merged = new LinkedHashMap<>(r1);
              // The reference detects conflicting values here but keeps the combination anyway.
              merged.putAll(r2);
              results.add(merged);
            }
          }
          return results;
        },
        v -> {
          v.accept(fa);
          v.accept(fb);
        });
  }

  static Clause or(Clause a, Clause b) {
    if (a instanceof RowValue ra && b instanceof RowValue rb) {
      return (RowValue)
          (Map<String, @Nullable Object> row) ->
              SqlValues.bool(
                  SqlValues.truthy(ra.evaluate(row)) || SqlValues.truthy(rb.evaluate(row)));
    }
    if (a instanceof ParameterValue pa && b instanceof ParameterValue pb) {
      return composed(
          "or", pa, pb, (x, y) -> SqlValues.bool(SqlValues.truthy(x) || SqlValues.truthy(y)));
    }
    ParameterMatch fa = toParameterMatch(a);
    ParameterMatch fb = toParameterMatch(b);
    Map<String, InputParameter> combined = new LinkedHashMap<>();
    for (InputParameter p : fa.inputParameters()) {
      combined.put(p.key(), p);
    }
    for (InputParameter p : fb.inputParameters()) {
      combined.put(p.key(), p);
    }
    if (combined.size() != fa.inputParameters().size()
        || combined.size() != fb.inputParameters().size()) {
      throw new IllegalArgumentException(
          Messages.OR_SIDES_MUST_USE_SAME_PARAMETERS
              + " "
              + describe(fa.inputParameters())
              + " != "
              + describe(fb.inputParameters()));
    }
    return match(
        new ArrayList<>(combined.values()),
        fa.unbounded() || fb.unbounded(),
        fa.error() || fb.error(),
        "or",
        row -> {
          List<Map<String, @Nullable Object>> ra = fa.filterRow(row);
          List<Map<String, @Nullable Object>> rb = fb.filterRow(row);
          if (rb.isEmpty()) {
            return ra;
          }
          if (ra.isEmpty()) {
            return rb;
          }
          List<Map<String, @Nullable Object>> all = new ArrayList<>(ra);
          all.addAll(rb);
          return all;
        },
        v -> {
          v.accept(fa);
          v.accept(fb);
        });
  }

  private static String describe(List<InputParameter> params) {
    return params.stream()
        .map(
            p -> "{\"key\":" + JsJson.stringifyPlain(p.key()) + ",\"expands\":" + p.expands() + "}")
        .collect(Collectors.joining(",", "[", "]"));
  }

  private static ParameterValue composed(
      String name, ParameterValue a, ParameterValue b, BinaryOperator<@Nullable Object> op) {
    String key = name + a.key() + "," + b.key();
    return new ParameterValue() {
      @Override
      public String key() {
        return key;
      }

      @Override
      public @Nullable Object lookup(RequestParameters parameters) {
        return op.apply(a.lookup(parameters), b.lookup(parameters));
      }

      @Override
      public void visitChildren(Consumer<Clause> visitor) {
        visitor.accept(a);
        visitor.accept(b);
      }
    };
  }
}
