package dev.syncline.testkit;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.EvaluatedRow;
import dev.syncline.api.rules.EvaluationError;
import dev.syncline.api.rules.ParameterEvaluation;
import dev.syncline.api.rules.ParameterLookupSource;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.RequestQuerier;
import dev.syncline.api.rules.ResolvedBucket;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.rules.SyncRulesCompiler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Unit-tests sync rules without a database: load rules, add rows per table, then ask what a user
 * receives.
 *
 * <pre>{@code
 * SyncRulesTester tester = SyncRulesTester.of(yaml)
 *     .row("lists", Map.of("id", "l1", "owner_id", "u1"))
 *     .row("todos", Map.of("id", "t1", "list_id", "l1", "description", "Milk"));
 * SyncRulesTester.UserView u1 = tester.forUser("u1");
 * assertThat(u1.rows("todos")).extracting(SyncedRow::id).containsExactly("t1");
 * }</pre>
 *
 * <p>Rows are evaluated exactly as the engine evaluates replicated rows: every data query for where
 * the row lands, every parameter query for the parameter index. Later rows with the same table and
 * {@code id} replace earlier ones. Not thread-safe; create one per test.
 */
public final class SyncRulesTester {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.USE_LONG_FOR_INTS);

  private final SyncRules rules;
  private final String defaultSchema;
  private final Map<String, SourceRow> rows = new LinkedHashMap<>();
  private final Map<String, TableRef> rowTables = new HashMap<>();

  private SyncRulesTester(SyncRules rules, String defaultSchema) {
    this.rules = rules;
    this.defaultSchema = defaultSchema;
  }

  /**
   * Compiles rules from a YAML string (schema {@code public}).
   *
   * @throws dev.syncline.api.rules.SyncRulesException when the rules are invalid
   */
  public static SyncRulesTester of(String yaml) {
    return new SyncRulesTester(
        SyncRulesCompiler.compile(SyncRulesSource.ofYaml(yaml, "sync-rules.yaml")), "public");
  }

  /** Compiles rules from a file. */
  public static SyncRulesTester of(Path file) {
    return new SyncRulesTester(SyncRulesCompiler.compile(SyncRulesSource.ofFile(file)), "public");
  }

  /** Uses rules compiled elsewhere; unqualified table names resolve to {@code defaultSchema}. */
  public static SyncRulesTester of(SyncRules rules, String defaultSchema) {
    return new SyncRulesTester(rules, defaultSchema);
  }

  /** The compiled rules. */
  public SyncRules rules() {
    return rules;
  }

  private TableRef table(String name) {
    int dot = name.indexOf('.');
    return dot < 0
        ? TableRef.of(defaultSchema, name)
        : TableRef.of(name.substring(0, dot), name.substring(dot + 1));
  }

  /**
   * Adds (or replaces, by {@code id}) a source row. {@code table} may be {@code schema.table};
   * values are Java values (String, numbers, Boolean, byte[], null) or {@link
   * dev.syncline.api.SourceValue}s.
   */
  public SyncRulesTester row(String table, Map<String, ?> values) {
    return row(table, TestRows.row(values));
  }

  /** Adds (or replaces, by {@code id}) a source row. */
  public SyncRulesTester row(String table, SourceRow row) {
    TableRef ref = table(table);
    Object id = row.get("id");
    String key = ref + "/" + (id == null ? "#" + rows.size() : id.toString());
    rows.put(key, row);
    rowTables.put(key, ref);
    return this;
  }

  /** Removes every row of a table (a truncate). */
  public SyncRulesTester truncate(String table) {
    TableRef ref = table(table);
    rowTables
        .entrySet()
        .removeIf(
            e -> {
              if (e.getValue().equals(ref)) {
                rows.remove(e.getKey());
                return true;
              }
              return false;
            });
    return this;
  }

  /**
   * What the user with this id ({@code sub} claim) receives, with no other claims or client
   * parameters.
   */
  public UserView forUser(String userId) {
    return forRequest(RequestContext.forUser(userId));
  }

  /**
   * What the user with this id receives with these stream subscriptions, besides the streams it
   * gets by default. A subscription's index in the list is its id in {@code
   * InclusionReason.Subscription}.
   */
  public UserView forUser(String userId, List<RequestContext.Subscription> subscriptions) {
    return forRequest(new RequestContext(Map.of("sub", userId), Map.of(), true, subscriptions));
  }

  /** What a user with these token claims receives. */
  public UserView forClaims(Map<String, @Nullable Object> claims) {
    return forRequest(new RequestContext(claims, Map.of()));
  }

  /** What a request receives. */
  public UserView forRequest(RequestContext request) {
    List<ParameterEvaluation> parameterRows = new ArrayList<>();
    List<EvaluationError> errors = new ArrayList<>();
    for (Map.Entry<String, SourceRow> e : rows.entrySet()) {
      TableRef t = Objects.requireNonNull(rowTables.get(e.getKey()), "every row has its table");
      if (!rules.syncsParameters(t)) {
        continue;
      }
      var ev = rules.evaluateParameterRow(t, e.getValue());
      errors.addAll(ev.errors());
      parameterRows.add(ev);
    }
    RequestQuerier querier = rules.querier(request);
    errors.addAll(querier.errors());
    List<ResolvedBucket> buckets = querier.allBuckets(ParameterLookupSource.of(parameterRows));
    Set<String> names = new LinkedHashSet<>();
    buckets.forEach(b -> names.add(b.bucket().name()));
    List<SyncedRow> synced = new ArrayList<>();
    for (Map.Entry<String, SourceRow> e : rows.entrySet()) {
      TableRef t = Objects.requireNonNull(rowTables.get(e.getKey()), "every row has its table");
      if (!rules.syncsData(t)) {
        continue;
      }
      var ev = rules.evaluateRow(t, e.getValue());
      errors.addAll(ev.errors());
      for (EvaluatedRow r : ev.rows()) {
        if (names.contains(r.bucket().name())) {
          synced.add(new SyncedRow(r.bucket(), r.table(), r.id(), r.data(), parse(r.data())));
        }
      }
    }
    return new UserView(request, buckets, synced, errors);
  }

  private static Map<String, @Nullable Object> parse(String json) {
    try {
      @SuppressWarnings("unchecked")
      Map<String, @Nullable Object> m = JSON.readValue(json, LinkedHashMap.class);
      return m;
    } catch (Exception e) {
      // Non-finite REALs (NaN, Infinity) are written as bare words, which strict JSON parsers
      // reject.
      return Map.of();
    }
  }

  /**
   * Explains where a row lands and why it does not land in other buckets: one line per bucket
   * definition and data query.
   */
  public String explain(String table, Map<String, ?> values) {
    return explain(table, TestRows.row(values));
  }

  /** Explains where a row lands; see {@link #explain(String, Map)}. */
  public String explain(String table, SourceRow row) {
    return String.join("\n", rules.explainRow(table(table), row));
  }

  /**
   * What one user receives: buckets, and the rows in them.
   *
   * @param request the request
   * @param buckets every bucket the user receives
   * @param rows every (bucket, row) pair the user receives, in the order the rows were added
   * @param errors evaluation errors (rows or request values the rules could not evaluate)
   */
  public record UserView(
      RequestContext request,
      List<ResolvedBucket> buckets,
      List<SyncedRow> rows,
      List<EvaluationError> errors) {
    /** Copies the lists. */
    public UserView {
      Objects.requireNonNull(request, "request");
      buckets = List.copyOf(buckets);
      rows = List.copyOf(rows);
      errors = List.copyOf(errors);
    }

    /** The bucket names. */
    public List<String> bucketNames() {
      return buckets.stream().map(b -> b.bucket().name()).toList();
    }

    /**
     * The rows of one client-side table, each once (the same row may arrive through several
     * buckets).
     */
    public List<SyncedRow> rows(String table) {
      Map<String, SyncedRow> byId = new LinkedHashMap<>();
      for (SyncedRow r : rows) {
        if (r.table().equals(table)) {
          byId.putIfAbsent(r.id(), r);
        }
      }
      return List.copyOf(byId.values());
    }

    /** The ids of one client-side table's rows. */
    public List<String> ids(String table) {
      return rows(table).stream().map(SyncedRow::id).toList();
    }
  }
}
