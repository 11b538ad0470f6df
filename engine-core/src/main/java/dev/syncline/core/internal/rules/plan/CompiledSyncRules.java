package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.BucketId;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.DefinitionInfo;
import dev.syncline.api.rules.EvaluatedRow;
import dev.syncline.api.rules.EvaluationError;
import dev.syncline.api.rules.EventDefinitionInfo;
import dev.syncline.api.rules.InclusionReason;
import dev.syncline.api.rules.ParameterEvaluation;
import dev.syncline.api.rules.ParameterIndexEntry;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.api.rules.ParameterLookupSource;
import dev.syncline.api.rules.Problem;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.RequestQuerier;
import dev.syncline.api.rules.ResolvedBucket;
import dev.syncline.api.rules.RowEvaluation;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.internal.rules.eval.JsJson;
import dev.syncline.core.internal.rules.eval.SqlValues;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Compiled sync rules: immutable and thread-safe. */
public final class CompiledSyncRules implements SyncRules {
  private final SyncRulesSource source;
  private final List<BucketDefinition> definitions;
  private final List<StreamPlan.Stream> streams;
  private final List<StreamPlan.LookupNode> lookups;
  private final List<DefinitionInfo> definitionInfos;
  private final List<TablePattern> sourceTables;
  private final List<EventDefinitionInfo> eventDefinitions;
  private final List<Problem> warnings;
  private final Compatibility compatibility;
  private final Set<TablePattern> fullRows;

  /** Whether a stream reads a table's metadata ({@code t.schema()}): rows then carry it. */
  private final boolean streamRowMetadata;

  /**
   * Built on first use (only the replicator needs it); racing threads may build it twice, with
   * equal results.
   */
  private volatile @Nullable SnapshotPlans snapshotPlans;

  /** Assembles rules from a reader that found no fatal problem. */
  public CompiledSyncRules(
      SyncRulesSource source,
      SyncConfigReader reader,
      List<Problem> warnings,
      String defaultSchema) {
    this.source = source;
    this.definitions = List.copyOf(reader.definitions());
    this.streams = List.copyOf(reader.streams());
    this.streamRowMetadata = reader.streamsReadRowMetadata();
    // One node per index scope: nodes differing only in where requests get key values share an
    // index.
    Map<String, StreamPlan.LookupNode> nodes = new LinkedHashMap<>();
    for (StreamPlan.Stream st : streams) {
      for (StreamPlan.Variant v : st.variants()) {
        for (StreamPlan.LookupNode n : v.allLookups()) {
          nodes.putIfAbsent(n.scope, n);
        }
      }
    }
    this.lookups = List.copyOf(nodes.values());
    this.definitionInfos = reader.definitionInfos();
    this.sourceTables = reader.sourceTables();
    this.eventDefinitions = reader.eventDefinitions();
    this.warnings = List.copyOf(warnings);
    this.compatibility = reader.compatibility();
    // Snapshot plans are built on first use: rendering SQL with jOOQ is only needed for snapshots
    // and explain().
    Set<TablePattern> fullRows = new LinkedHashSet<>();
    for (StreamPlan.Stream st : streams) {
      st.variants().forEach(v -> fullRows.add(v.table()));
    }
    lookups.forEach(n -> fullRows.add(n.table));
    this.fullRows = Collections.unmodifiableSet(fullRows);
  }

  private SnapshotPlans snapshotPlans() {
    SnapshotPlans plans = snapshotPlans;
    if (plans == null) {
      plans = new SnapshotPlans(definitions, sourceTables, fullRows);
      snapshotPlans = plans;
    }
    return plans;
  }

  @Override
  public SyncRulesSource source() {
    return source;
  }

  @Override
  public List<DefinitionInfo> definitions() {
    return definitionInfos;
  }

  @Override
  public List<TablePattern> sourceTables() {
    return sourceTables;
  }

  @Override
  public List<EventDefinitionInfo> eventDefinitions() {
    return eventDefinitions;
  }

  @Override
  public List<Problem> warnings() {
    return warnings;
  }

  @Override
  public boolean syncsData(TableRef table) {
    for (BucketDefinition d : definitions) {
      for (DataQuery q : d.dataQueries()) {
        if (q.applies(table)) {
          return true;
        }
      }
    }
    for (StreamPlan.Stream st : streams) {
      for (StreamPlan.Variant v : st.variants()) {
        if (v.table().matches(table)) {
          return true;
        }
      }
    }
    return false;
  }

  @Override
  public boolean syncsParameters(TableRef table) {
    for (StreamPlan.LookupNode n : lookups) {
      if (n.table.matches(table)) {
        return true;
      }
    }
    for (BucketDefinition d : definitions) {
      for (ParameterQuery q : d.parameterQueries()) {
        if (q instanceof TableParameterQuery t && t.applies(table)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * One row's evaluation state: the row converted once, and its JSON encoding shared by every
   * output that is the row itself (several {@code SELECT *} queries or variants).
   */
  private final class RowOutputs {
    final Map<String, @Nullable Object> internal;
    final boolean plain;
    private final StringBuilder sb;
    private @Nullable String plainJson;
    final List<EvaluatedRow> rows = new ArrayList<>(4);
    List<EvaluationError> errors = List.of();

    RowOutputs(SourceRow row) {
      this.internal = Values.toInternalRow(row, compatibility);
      this.plain = DataQuery.isPlainRow(internal);
      this.sb = new StringBuilder(64 + 32 * internal.size());
    }

    String encode(Map<String, @Nullable Object> data) {
      if (data == internal && plainJson != null) {
        return plainJson;
      }
      sb.setLength(0);
      JsJson.write(sb, data, true);
      String json = sb.toString();
      if (data == internal) {
        plainJson = json;
      }
      return json;
    }

    void error(String definition, RuntimeException e) {
      if (errors.isEmpty()) {
        errors = new ArrayList<>();
      }
      errors.add(new EvaluationError(definition, message(e)));
    }
  }

  @Override
  public RowEvaluation evaluateRow(TableRef table, SourceRow row) {
    RowOutputs o = null;
    for (BucketDefinition d : definitions) {
      for (DataQuery q : d.dataQueries()) {
        if (!q.applies(table)) {
          continue;
        }
        if (o == null) {
          o = new RowOutputs(row);
        }
        DataQuery.Output out;
        try {
          out = q.evaluate(table, o.internal, o.plain);
        } catch (RuntimeException e) {
          o.error(d.name(), e);
          continue;
        }
        if (out == null) {
          continue;
        }
        String data = o.encode(out.data());
        for (String params : out.serializedParameters()) {
          o.rows.add(
              new EvaluatedRow(
                  new BucketId(d.bucketPrefix() + params, d.name()), out.table(), out.id(), data));
        }
      }
    }
    for (StreamPlan.Stream st : streams) {
      for (StreamPlan.Variant v : st.variants()) {
        if (!v.table().matches(table)) {
          continue;
        }
        if (o == null) {
          o = new RowOutputs(row);
        }
        Map<String, @Nullable Object> tableRow =
            TableRefs.streamRow(o.internal, v.table(), table, streamRowMetadata);
        List<String> buckets;
        Map<String, @Nullable Object> out;
        try {
          buckets = v.bucketParameters(tableRow);
          if (buckets.isEmpty()) {
            continue;
          }
          boolean starOnly =
              v.extractors().size() == 1
                  && v.extractors().get(0) instanceof DataQuery.StarExtractor;
          out =
              o.plain && starOnly && !v.table().isWildcard()
                  ? o.internal
                  : DataQuery.transform(v.extractors(), tableRow);
        } catch (RuntimeException e) {
          o.error(st.name(), e);
          continue;
        }
        String data = o.encode(out);
        String id = SqlValues.idText(out.get("id"));
        String outputTable = v.outputTable(table);
        for (String params : buckets) {
          o.rows.add(
              new EvaluatedRow(
                  new BucketId(v.bucketPrefix() + params, st.name()), outputTable, id, data));
        }
      }
    }
    return o == null
        ? new RowEvaluation(List.of(), List.of())
        : new RowEvaluation(o.rows, o.errors);
  }

  private static String message(RuntimeException e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  @Override
  public ParameterEvaluation evaluateParameterRow(TableRef table, SourceRow row) {
    Map<String, @Nullable Object> internal = null;
    List<ParameterIndexEntry> entries = new ArrayList<>();
    List<EvaluationError> errors = new ArrayList<>();
    for (BucketDefinition d : definitions) {
      for (ParameterQuery pq : d.parameterQueries()) {
        if (!(pq instanceof TableParameterQuery q) || !q.applies(table)) {
          continue;
        }
        if (internal == null) {
          internal = Values.toInternalRow(row, compatibility);
        }
        try {
          for (TableParameterQuery.Entry e : q.evaluateParameterRow(internal)) {
            List<Map<String, SqliteValue>> rows = new ArrayList<>();
            for (Map<String, @Nullable Object> r : e.bucketParameters()) {
              Map<String, SqliteValue> m = new LinkedHashMap<>();
              r.forEach((k, v) -> m.put(k, Values.toApi(v)));
              rows.add(m);
            }
            entries.add(new ParameterIndexEntry(lookup(d, q, e.lookup()), rows));
          }
        } catch (RuntimeException e) {
          errors.add(new EvaluationError(d.name(), message(e)));
        }
      }
    }
    for (StreamPlan.LookupNode n : lookups) {
      if (!n.table.matches(table)) {
        continue;
      }
      if (internal == null) {
        internal = Values.toInternalRow(row, compatibility);
      }
      Map<String, @Nullable Object> tableRow =
          TableRefs.streamRow(internal, n.table, table, streamRowMetadata);
      try {
        StreamPlan.LookupNode.Entry e = n.evaluate(tableRow);
        if (e != null) {
          List<SqliteValue> key = new ArrayList<>();
          e.key().forEach(v -> key.add(Values.toApi(v)));
          Map<String, SqliteValue> m = new LinkedHashMap<>();
          e.outputs().forEach((k, v) -> m.put(k, Values.toApi(v)));
          entries.add(new ParameterIndexEntry(new ParameterLookup(n.scope, key), List.of(m)));
        }
      } catch (RuntimeException ex) {
        errors.add(new EvaluationError(n.scope, message(ex)));
      }
    }
    return new ParameterEvaluation(entries, errors);
  }

  private static ParameterLookup lookup(
      BucketDefinition d, ParameterQuery q, List<@Nullable Object> values) {
    List<SqliteValue> api = new ArrayList<>(values.size());
    for (Object v : values) {
      api.add(Values.toApi(v));
    }
    return new ParameterLookup(d.name() + "#" + q.queryId(), api);
  }

  @Override
  public RequestQuerier querier(RequestContext request) {
    RequestParameters parameters = new RequestParameters(request);
    List<ResolvedBucket> staticBuckets = new ArrayList<>();
    List<EvaluationError> errors = new ArrayList<>();
    record Pending(
        BucketDefinition definition, TableParameterQuery query, List<ParameterLookup> lookups) {}
    List<Pending> pending = new ArrayList<>();
    for (BucketDefinition d : definitions) {
      if (!request.includeDefaults()
          && request.subscriptions().stream().noneMatch(s -> s.stream().equals(d.name()))) {
        continue;
      }
      // Table-based queries first, then static ones: the order the reference asks its queriers in.
      for (ParameterQuery pq : d.parameterQueries()) {
        if (pq instanceof TableParameterQuery q) {
          try {
            List<ParameterLookup> lookups = new ArrayList<>();
            for (List<@Nullable Object> values : q.lookups(parameters)) {
              lookups.add(lookup(d, q, values));
            }
            if (!lookups.isEmpty()) {
              pending.add(new Pending(d, q, lookups));
            }
          } catch (RuntimeException e) {
            errors.add(new EvaluationError(d.name(), message(e)));
          }
        }
      }
      for (ParameterQuery pq : d.parameterQueries()) {
        if (!(pq instanceof TableParameterQuery)) {
          try {
            for (ParameterQuery.BucketDescription b : pq.staticBuckets(parameters)) {
              staticBuckets.add(resolved(d, b));
            }
          } catch (RuntimeException e) {
            errors.add(new EvaluationError(d.name(), message(e)));
          }
        }
      }
    }
    StreamQuerier streamQuerier =
        streams.isEmpty() ? null : new StreamQuerier(streams, request, parameters);
    if (streamQuerier != null) {
      staticBuckets.addAll(streamQuerier.staticBuckets());
      errors.addAll(streamQuerier.errors());
    }
    List<ResolvedBucket> mergedStatic = merge(staticBuckets);
    List<EvaluationError> errorList = List.copyOf(errors);
    List<Pending> pendingList = List.copyOf(pending);
    boolean streamDynamic = streamQuerier != null && streamQuerier.hasDynamicBuckets();
    return new RequestQuerier() {
      @Override
      public List<ResolvedBucket> staticBuckets() {
        return mergedStatic;
      }

      @Override
      public boolean hasDynamicBuckets() {
        return !pendingList.isEmpty() || streamDynamic;
      }

      @Override
      public List<ResolvedBucket> dynamicBuckets(ParameterLookupSource source) {
        List<ResolvedBucket> fromStreams =
            streamDynamic && streamQuerier != null
                ? streamQuerier.dynamicBuckets(source)
                : List.of();
        if (pendingList.isEmpty()) {
          return fromStreams;
        }
        List<ParameterLookup> all = new ArrayList<>();
        for (Pending p : pendingList) {
          all.addAll(p.lookups());
        }
        Map<ParameterLookup, List<Map<String, SqliteValue>>> results =
            source.lookup(List.copyOf(all));
        List<ResolvedBucket> dynamic = new ArrayList<>();
        for (Pending p : pendingList) {
          List<Map<String, @Nullable Object>> rows = new ArrayList<>();
          for (ParameterLookup l : p.lookups()) {
            for (Map<String, SqliteValue> r : results.getOrDefault(l, List.of())) {
              rows.add(Values.fromApiRow(r));
            }
          }
          for (ParameterQuery.BucketDescription b : p.query().resolve(rows, parameters)) {
            dynamic.add(resolved(p.definition(), b));
          }
        }
        dynamic.addAll(fromStreams);
        return merge(dynamic);
      }

      @Override
      public List<EvaluationError> errors() {
        return errorList;
      }
    };
  }

  private static ResolvedBucket resolved(BucketDefinition d, ParameterQuery.BucketDescription b) {
    return new ResolvedBucket(
        new BucketId(d.bucketPrefix() + b.serializedParameters(), d.name()),
        b.priority(),
        List.of(InclusionReason.DEFAULT));
  }

  /**
   * Keeps the first occurrence of each bucket, concatenating reasons and taking the lowest priority
   * number.
   */
  static List<ResolvedBucket> merge(List<ResolvedBucket> buckets) {
    Map<String, ResolvedBucket> byName = new LinkedHashMap<>();
    for (ResolvedBucket b : buckets) {
      ResolvedBucket existing = byName.get(b.bucket().name());
      if (existing == null) {
        byName.put(b.bucket().name(), b);
      } else {
        List<InclusionReason> reasons = new ArrayList<>(existing.reasons());
        reasons.addAll(b.reasons());
        byName.put(
            b.bucket().name(),
            new ResolvedBucket(
                existing.bucket(), Math.min(existing.priority(), b.priority()), reasons));
      }
    }
    return List.copyOf(byName.values());
  }

  /**
   * Explains, per bucket definition, where a row lands and why it does not land elsewhere: one line
   * per definition and data query.
   */
  @Override
  public List<String> explainRow(TableRef table, SourceRow row) {
    Map<String, @Nullable Object> internal = Values.toInternalRow(row, compatibility);
    List<String> lines = new ArrayList<>();
    for (BucketDefinition d : definitions) {
      boolean any = false;
      for (DataQuery q : d.dataQueries()) {
        if (!q.applies(table)) {
          continue;
        }
        any = true;
        String sql = q.sql.strip().replaceAll("\\s+", " ");
        DataQuery.Output out;
        try {
          out = q.evaluate(table, internal);
        } catch (RuntimeException e) {
          lines.add(d.name() + ": `" + sql + "` failed for this row: " + message(e));
          continue;
        }
        if (out == null) {
          StringBuilder why = new StringBuilder();
          for (String c : referencedColumns(q)) {
            if (why.length() > 0) {
              why.append(", ");
            }
            why.append(c)
                .append('=')
                .append(
                    internal.containsKey(c)
                        ? JsJson.stringifyBig(
                            internal.get(c) instanceof byte[] ? "<blob>" : internal.get(c))
                        : "<absent>");
          }
          lines.add(
              d.name()
                  + ": `"
                  + sql
                  + "` does not match this row: its WHERE clause yields no bucket"
                  + (why.length() > 0 ? " (" + why + ")" : ""));
        } else {
          List<String> buckets =
              out.serializedParameters().stream().map(p -> d.bucketPrefix() + p).toList();
          lines.add(
              d.name()
                  + ": `"
                  + sql
                  + "` puts it into "
                  + buckets
                  + " as "
                  + out.table()
                  + "/"
                  + out.id());
        }
      }
      if (!any) {
        lines.add(d.name() + ": no data query reads " + table);
      }
    }
    for (StreamPlan.Stream st : streams) {
      boolean any = false;
      for (StreamPlan.Variant v : st.variants()) {
        if (!v.table().matches(table)) {
          continue;
        }
        any = true;
        String name = v.bucketPrefix();
        Map<String, @Nullable Object> tableRow =
            TableRefs.streamRow(internal, v.table(), table, streamRowMetadata);
        try {
          List<String> buckets = v.bucketParameters(tableRow);
          if (buckets.isEmpty()) {
            lines.add(
                name
                    + ": `"
                    + oneLine(v.sql())
                    + "` does not match this row: a filter is false or a bucket "
                    + "parameter ("
                    + v.parameters().stream().map(StreamPlan.BucketParameter::rowText).toList()
                    + ") is NULL");
          } else {
            lines.add(
                name
                    + ": `"
                    + oneLine(v.sql())
                    + "` puts it into "
                    + buckets.stream().map(b -> v.bucketPrefix() + b).toList()
                    + " as "
                    + v.outputTable(table)
                    + "/"
                    + SqlValues.idText(internal.get("id")));
          }
        } catch (RuntimeException e) {
          lines.add(name + ": `" + oneLine(v.sql()) + "` failed for this row: " + message(e));
        }
      }
      for (StreamPlan.LookupNode n : lookups) {
        if (n.table.matches(table)
            && st.variants().stream()
                .anyMatch(v -> v.allLookups().stream().anyMatch(m -> m.scope.equals(n.scope)))) {
          any = true;
          StreamPlan.LookupNode.Entry e;
          try {
            e = n.evaluate(internal);
          } catch (RuntimeException ex) {
            lines.add(st.name() + " look-up " + n.scope + " failed for this row: " + message(ex));
            continue;
          }
          lines.add(
              st.name()
                  + " look-up "
                  + n.scope
                  + (e == null
                      ? ": this row is not indexed (a filter is false " + "or a key is NULL)"
                      : ": indexes this row under "
                          + JsJson.stringifyBig(e.key())
                          + " holding "
                          + JsJson.stringifyBig(e.outputs())));
        }
      }
      if (!any) {
        lines.add(st.name() + ": no query of this stream reads " + table);
      }
    }
    return lines;
  }

  private static String oneLine(String sql) {
    return sql.strip().replaceAll("\\s+", " ");
  }

  private static List<String> referencedColumns(DataQuery q) {
    Set<String> cols = new LinkedHashSet<>();
    if (q.select.where() != null) {
      SnapshotPlans.collectColumns(q.select.where(), q.table().sqlName(), cols);
    }
    return List.copyOf(cols);
  }

  @Override
  public String explain() {
    StringBuilder sb = new StringBuilder();
    for (BucketDefinition d : definitions) {
      sb.append("bucket definition ")
          .append(d.name())
          .append(" (bucket ")
          .append(d.bucketPrefix())
          .append(
              JsJson.stringifyPlain(d.bucketParameters().stream().map(p -> "<" + p + ">").toList()))
          .append(")\n");
      for (ParameterQuery q : d.parameterQueries()) {
        sb.append("  parameter query #")
            .append(q.queryId())
            .append(" [")
            .append(
                q instanceof TableParameterQuery t
                    ? "table "
                        + t.sourceTable
                        + ", looked up by "
                        + t.inputParameters.stream().map(Clause.InputParameter::key).toList()
                    : q instanceof StaticParameterQuery
                        ? "static, from the request"
                        : "json_each over the request")
            .append("] priority ")
            .append(q.priority())
            .append('\n');
      }
      for (DataQuery q : d.dataQueries()) {
        sb.append("  data query [table ")
            .append(q.sourceTable)
            .append(" as ")
            .append(q.table().sqlName())
            .append(", columns ")
            .append(q.columnNames())
            .append(", matched on ")
            .append(q.filter.inputParameters().stream().map(Clause.InputParameter::key).toList())
            .append("]\n");
        sb.append("    ").append(q.sql.strip().replaceAll("\\s+", " ")).append('\n');
      }
    }
    for (StreamPlan.Stream st : streams) {
      sb.append("stream ")
          .append(st.name())
          .append(" (edition ")
          .append(st.edition())
          .append(st.autoSubscribe() ? ", subscribed by default" : ", on subscription")
          .append(", priority ")
          .append(st.priority())
          .append(")\n");
      for (StreamPlan.Variant v : st.variants()) {
        sb.append("  variant ")
            .append(v.bucketPrefix())
            .append(" [table ")
            .append(v.table())
            .append(" as ")
            .append(v.outputTable())
            .append(", columns ")
            .append(
                v.extractors().stream()
                    .map(e -> e instanceof DataQuery.ColumnExtractor c ? c.name() : "*")
                    .toList())
            .append("]\n");
        sb.append("    ").append(oneLine(v.sql())).append('\n');
        for (StreamPlan.BucketParameter p : v.parameters()) {
          sb.append("    bucket parameter ")
              .append(p.rowText())
              .append(p.rowExpands() ? " (each element)" : "")
              .append(" from ")
              .append(describe(p.source()))
              .append('\n');
        }
        if (!v.requestGates().isEmpty()) {
          sb.append("    ")
              .append(v.requestGates().size())
              .append(" condition(s) on the request alone\n");
        }
        for (StreamPlan.LookupNode n : v.lookupGates()) {
          sb.append("    only when look-up ").append(n.scope).append(" finds a row\n");
        }
        for (StreamPlan.LookupNode n : v.allLookups()) {
          sb.append("    look-up ")
              .append(n.scope)
              .append(" [table ")
              .append(n.table)
              .append(", keyed by ")
              .append(n.keys.stream().map(k -> k.rowText() + " = " + describe(k.source())).toList())
              .append(", ")
              .append(n.filters.size())
              .append(" filter(s), holds ")
              .append(n.outputs.size())
              .append(" column(s)]\n");
        }
      }
    }
    sb.append("snapshot queries (Postgres):\n");
    for (Map.Entry<TablePattern, String> e : snapshotPlans().sql().entrySet()) {
      sb.append("  ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
    }
    return sb.toString();
  }

  private static String describe(StreamPlan.Source source) {
    if (source instanceof StreamPlan.RequestValue r) {
      return "request value " + r.text();
    } else if (source instanceof StreamPlan.RequestArray r) {
      return "each element of request array " + r.text();
    }
    StreamPlan.LookupOutput o = (StreamPlan.LookupOutput) source;
    return "column " + o.column() + " of look-up " + o.node().scope;
  }

  /** The Postgres snapshot query of each source table the rules read. */
  public Map<TablePattern, String> snapshotSql() {
    return snapshotPlans().sql();
  }
}
