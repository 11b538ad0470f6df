package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.internal.rules.eval.JsJson;
import dev.syncline.core.internal.rules.eval.SqlFunctions;
import dev.syncline.core.internal.rules.eval.SqlValues;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The compiled form of Sync Streams ({@code streams:}): what {@link StreamCompiler} produces and
 * {@link CompiledSyncRules} evaluates. Everything here is immutable and thread-safe.
 *
 * <p>A stream has one or more <em>variants</em> (each query of {@code queries:}, and each side of
 * an {@code OR} that cannot be one bucket). A variant reads one output table; its bucket parameters
 * pair an expression over the output row with where a request gets the matching values: the request
 * itself (token, subscription and connection parameters) or a {@link LookupNode}, a parameter-index
 * look-up on another table that subqueries, joins and common table expressions compile to. Look-ups
 * whose keys come from other look-ups are resolved in stages.
 */
final class StreamPlan {
  private StreamPlan() {}

  /**
   * A compiled expression over one row (of the table being evaluated) and, at request time, the
   * request.
   */
  @FunctionalInterface
  interface Ev {
    @Nullable Object eval(Map<String, @Nullable Object> row, @Nullable StreamRequest request);
  }

  /** Where a request gets the values of a bucket parameter or look-up key. */
  sealed interface Source permits RequestValue, RequestArray, LookupOutput {
    /** A stable text identifying the source (for de-duplicating look-ups and for explain). */
    String text();
  }

  /** One value computed from the request. */
  record RequestValue(Ev ev, String text) implements Source {}

  /** The elements of a JSON array computed from the request. */
  record RequestArray(Ev ev, String text) implements Source {}

  /** Column {@code column} of the rows a look-up returns. */
  record LookupOutput(LookupNode node, int column) implements Source {
    @Override
    public String text() {
      return node.scope + "." + column;
    }
  }

  /**
   * A bucket parameter of a variant.
   *
   * @param row the output row's side
   * @param rowExpands whether the row value is a JSON array whose elements are the parameter values
   * @param source where a request gets its values
   * @param rowText the row side's SQL (explain)
   */
  record BucketParameter(Ev row, boolean rowExpands, Source source, String rowText) {}

  /**
   * One column of a look-up key.
   *
   * @param row the parameter row's side (what the index is keyed by)
   * @param source where a request gets the key values
   * @param rowText the row side's SQL
   */
  record KeyPart(Ev row, Source source, String rowText) {}

  /**
   * A parameter-index look-up: rows of {@code table} passing {@code filters} are indexed under
   * their key values; each index entry holds the {@code outputs} of the row.
   */
  static final class LookupNode {
    final String scope;
    final TablePattern table;
    final List<Ev> filters;
    final List<KeyPart> keys;
    final List<Ev> outputs;
    final List<String> outputNames;

    LookupNode(
        String scope,
        TablePattern table,
        List<Ev> filters,
        List<KeyPart> keys,
        List<Ev> outputs,
        List<String> outputNames) {
      this.scope = scope;
      this.table = table;
      this.filters = List.copyOf(filters);
      this.keys = List.copyOf(keys);
      this.outputs = List.copyOf(outputs);
      this.outputNames = List.copyOf(outputNames);
    }

    /** The look-ups whose results this one's keys need. */
    List<LookupNode> children() {
      List<LookupNode> out = new ArrayList<>();
      for (KeyPart k : keys) {
        if (k.source() instanceof LookupOutput o && !out.contains(o.node())) {
          out.add(o.node());
        }
      }
      return out;
    }

    /**
     * The index entries a source row creates: key values and output values; empty when it creates
     * none.
     */
    @Nullable Entry evaluate(Map<String, @Nullable Object> row) {
      for (Ev f : filters) {
        if (!SqlValues.truthy(f.eval(row, null))) {
          return null;
        }
      }
      List<@Nullable Object> key = new ArrayList<>(keys.size());
      for (KeyPart k : keys) {
        Object v = k.row().eval(row, null);
        if (v == null || !SqlValues.isJsonValue(v)) {
          return null;
        }
        key.add(v);
      }
      Map<String, @Nullable Object> out = new LinkedHashMap<>();
      for (int i = 0; i < outputs.size(); i++) {
        Object v = outputs.get(i).eval(row, null);
        if (v != null && !SqlValues.isJsonValue(v)) {
          return null; // a BLOB cannot be a bucket parameter (as in data rows: no bucket)
        }
        out.put(outputNames.get(i), v);
      }
      return new Entry(key, out);
    }

    record Entry(List<@Nullable Object> key, Map<String, @Nullable Object> outputs) {}

    @Override
    public String toString() {
      return scope;
    }
  }

  /**
   * One bucket-producing variant of a stream.
   *
   * @param bucketPrefix the bucket id prefix, e.g. {@code 2#lists|0}
   * @param table the output (source) table
   * @param outputTable the table name as written (alias or name)
   * @param aliased whether the output table has an alias
   * @param rowFilters conditions on the output row alone
   * @param parameters the bucket parameters, in bucket id order
   * @param requestGates conditions on the request alone
   * @param lookupGates look-ups that must return at least one row for the request to get the
   *     buckets
   * @param extractors the output columns
   * @param sql the query
   * @param sameAs for each parameter, the index of an earlier one with the same row expression
   *     (compared with another source: one value in the bucket id, which every such source must
   *     give, as in the reference), or -1
   */
  record Variant(
      String bucketPrefix,
      TablePattern table,
      String outputTable,
      boolean aliased,
      List<Ev> rowFilters,
      List<BucketParameter> parameters,
      List<Ev> requestGates,
      List<LookupNode> lookupGates,
      List<DataQuery.Extractor> extractors,
      String sql,
      List<Integer> sameAs) {

    /** Validates the parameters' aliases. */
    Variant {
      sameAs = List.copyOf(sameAs);
      if (sameAs.size() != parameters.size()) {
        throw new IllegalArgumentException("one sameAs entry per parameter");
      }
    }

    /** How many times the reference lists a bucket's inclusion: the product of the group sizes. */
    int inclusionCopies() {
      int[] group = new int[sameAs.size()];
      int copies = 1;
      for (int i = 0; i < sameAs.size(); i++) {
        int first = sameAs.get(i) < 0 ? i : sameAs.get(i);
        group[first]++;
      }
      for (int g : group) {
        copies *= Math.max(1, g);
      }
      return copies;
    }

    boolean hasLookups() {
      return !lookupGates.isEmpty()
          || parameters.stream().anyMatch(p -> p.source() instanceof LookupOutput);
    }

    String outputTable(TableRef source) {
      return table.isWildcard() && !aliased ? source.name() : outputTable;
    }

    /** Every look-up this variant needs, children before their parents. */
    List<LookupNode> allLookups() {
      List<LookupNode> out = new ArrayList<>();
      for (BucketParameter p : parameters) {
        if (p.source() instanceof LookupOutput o) {
          collect(o.node(), out);
        }
      }
      for (LookupNode n : lookupGates) {
        collect(n, out);
      }
      return out;
    }

    private static void collect(LookupNode n, List<LookupNode> out) {
      if (out.contains(n)) {
        return;
      }
      for (LookupNode c : n.children()) {
        collect(c, out);
      }
      out.add(n);
    }

    /** The serialized bucket parameter arrays a source row lands in; empty when it matches none. */
    List<String> bucketParameters(Map<String, @Nullable Object> row) {
      for (Ev f : rowFilters) {
        if (!SqlValues.truthy(f.eval(row, null))) {
          return List.of();
        }
      }
      List<List<@Nullable Object>> choices = new ArrayList<>(parameters.size());
      for (int i = 0; i < parameters.size(); i++) {
        if (sameAs.get(i) >= 0) {
          continue; // the same row value as an earlier parameter: one value in the bucket id
        }
        BucketParameter p = parameters.get(i);
        Object v = p.row().eval(row, null);
        if (p.rowExpands()) {
          if (v == null) {
            return List.of();
          }
          Object parsed = JsJson.parsePlain(SqlValues.text(v));
          if (!(parsed instanceof List<?> list)) {
            throw new IllegalArgumentException("Expected a JSON array, got " + SqlValues.text(v));
          }
          if (list.isEmpty()) {
            return List.of();
          }
          choices.add(new ArrayList<>(list));
        } else {
          if (v == null || !SqlValues.isJsonValue(v)) {
            return List.of();
          }
          choices.add(Collections.singletonList(v));
        }
      }
      List<String> out = new ArrayList<>(1);
      product(choices, 0, new Object[choices.size()], out);
      return out;
    }

    private static void product(
        List<List<@Nullable Object>> choices, int i, @Nullable Object[] current, List<String> out) {
      if (i == choices.size()) {
        out.add(serialize(current));
        return;
      }
      for (Object v : choices.get(i)) {
        current[i] = v;
        product(choices, i + 1, current, out);
      }
    }
  }

  /** Serializes bucket parameter values as the reference writes bucket ids. */
  static String serialize(@Nullable Object[] values) {
    StringBuilder sb = new StringBuilder(16 + 16 * values.length).append('[');
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      JsJson.write(sb, values[i], false);
    }
    return sb.append(']').toString();
  }

  /**
   * A compiled stream.
   *
   * @param name the stream name
   * @param autoSubscribe whether clients get it by default
   * @param priority the stream's priority for its buckets
   * @param edition the config edition (2: the alpha semantics, 3: the compiled semantics)
   * @param variants the bucket-producing variants, numbered in bucket ids by position
   */
  record Stream(
      String name, boolean autoSubscribe, int priority, int edition, List<Variant> variants) {}

  /**
   * What request functions of streams read: the connection's request plus one subscription's
   * parameters.
   */
  static final class StreamRequest {
    private static final SqlFunctions FIXED = new SqlFunctions(true);

    final RequestParameters request;
    final Map<String, @Nullable Object> subscriptionParameters;
    final String rawSubscriptionParameters;

    StreamRequest(RequestParameters request, Map<String, @Nullable Object> subscriptionParameters) {
      this.request = request;
      Map<String, @Nullable Object> js = RequestParameters.jsObject(subscriptionParameters);
      this.subscriptionParameters = RequestParameters.toSyncRulesParameters(js);
      this.rawSubscriptionParameters = JsJson.stringifyBig(js);
    }

    @Nullable Object userId() {
      return request.userId;
    }

    String authParameters() {
      return request.rawTokenPayload;
    }

    @Nullable Object authParameter(@Nullable Object path) {
      return path instanceof String p
          ? FIXED.jsonExtractFromParsed(request.parsedPayload, p, "->>")
          : null;
    }

    String connectionParameters() {
      return request.rawUserParameters;
    }

    @Nullable Object connectionParameter(@Nullable Object path) {
      return path instanceof String p
          ? FIXED.jsonExtractFromParsed(request.userParameters, p, "->>")
          : null;
    }

    String subscriptionParameters() {
      return rawSubscriptionParameters;
    }

    @Nullable Object subscriptionParameter(@Nullable Object path) {
      return path instanceof String p
          ? FIXED.jsonExtractFromParsed(subscriptionParameters, p, "->>")
          : null;
    }
  }
}
