package dev.syncline.core.internal.rules.plan;

import dev.syncline.core.internal.rules.eval.JsJson;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A compiled expression. The kinds follow what an expression depends on:
 *
 * <ul>
 *   <li>{@link RowValue}: the source row (or nothing, see {@link StaticValue});
 *   <li>{@link ParameterValue}: the request (token, client parameters, bucket parameters);
 *   <li>{@link ParameterMatch}: a filter matching row values against request values, producing the
 *       parameter combinations a row matches;
 *   <li>{@link ErrorClause}: compilation failed (the problem is already reported).
 * </ul>
 */
sealed interface Clause
    permits Clause.RowValue, Clause.ParameterValue, Clause.ParameterMatch, Clause.ErrorClause {

  /** Evaluated against one source row; the map is the row's columns. */
  non-sealed interface RowValue extends Clause {
    @Nullable Object evaluate(Map<String, @Nullable Object> row);
  }

  /** A constant. */
  record StaticValue(@Nullable Object value) implements RowValue, ParameterValue {
    @Override
    public @Nullable Object evaluate(Map<String, @Nullable Object> row) {
      return value;
    }

    @Override
    public String key() {
      return JsJson.stringifyBig(value);
    }

    @Override
    public @Nullable Object lookup(RequestParameters parameters) {
      return value;
    }
  }

  /** Evaluated against a request. */
  non-sealed interface ParameterValue extends Clause {
    /**
     * A stable textual key identifying the expression (used to match IN/= parameters across
     * clauses).
     */
    String key();

    @Nullable Object lookup(RequestParameters parameters);

    /** Visits sub-clauses (for detecting which request values are used). */
    default void visitChildren(Consumer<Clause> visitor) {}
  }

  /** A request function ({@code request.user_id()}, ...), with how trustworthy its input is. */
  interface RequestFunctionCall extends ParameterValue {
    RequestFunctions.Usage usage();
  }

  /**
   * A legacy {@code token_parameters.x} / {@code user_parameters.x} / table-valued function column
   * reference.
   */
  interface TableParameterRef extends ParameterValue {
    String table();
  }

  /**
   * One value a filter matches on.
   *
   * @param key the parameter key, e.g. {@code bucket.user_id} or {@code request.user_id()}
   * @param expands whether a request value is an array expanded into several look-ups
   * @param source the request expression, or null for {@code bucket.*} parameters of data queries
   */
  record InputParameter(String key, boolean expands, @Nullable ParameterValue source) {
    /** The value to look up for a request (for non-expanding parameters). */
    @Nullable Object parametersToLookupValue(RequestParameters parameters) {
      return source == null ? null : source.lookup(parameters);
    }
  }

  /** A filter over rows that yields the parameter combinations a row matches. */
  non-sealed interface ParameterMatch extends Clause {
    boolean error();

    List<InputParameter> inputParameters();

    /**
     * Whether one row may match an unbounded number of parameter values (IN over an array column).
     */
    boolean unbounded();

    /** The parameter combinations the row matches; empty when it matches none. */
    List<Map<String, @Nullable Object>> filterRow(Map<String, @Nullable Object> row);

    /** {@code or} for OR filters, else null. */
    default @Nullable String specialType() {
      return null;
    }

    void visitChildren(Consumer<Clause> visitor);
  }

  /** A clause that failed to compile. */
  record ErrorClause() implements Clause {}

  /** The single error clause instance. */
  ErrorClause ERROR = new ErrorClause();
}
