package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.SourceValue.Precision;
import dev.syncline.api.rules.DefinitionInfo;
import dev.syncline.api.rules.EventDefinitionInfo;
import dev.syncline.api.rules.Problem;
import dev.syncline.api.rules.Severity;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.internal.rules.Messages;
import dev.syncline.core.internal.rules.eval.SqlFunctions;
import dev.syncline.core.internal.rules.sql.Ast;
import dev.syncline.core.internal.rules.sql.SqlParser;
import dev.syncline.core.internal.rules.sql.SqlSyntaxException;
import dev.syncline.core.internal.rules.yaml.YamlTree;
import dev.syncline.core.internal.rules.yaml.YamlTree.YMap;
import dev.syncline.core.internal.rules.yaml.YamlTree.YNode;
import dev.syncline.core.internal.rules.yaml.YamlTree.YScalar;
import dev.syncline.core.internal.rules.yaml.YamlTree.YSeq;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads a sync config into compiled definitions, collecting every problem with its position in the
 * YAML text. Single use; not thread-safe.
 */
public final class SyncConfigReader {
  private static final Set<String> TOP_LEVEL_KEYS =
      Set.of("bucket_definitions", "streams", "event_definitions", "config", "with");
  private static final Set<String> DEFINITION_KEYS =
      Set.of("accept_potentially_dangerous_queries", "priority", "parameters", "data");
  private static final Set<String> CONFIG_KEYS =
      Set.of(
          "edition",
          "storage_version",
          "timestamp_max_precision",
          "timestamps_iso8601",
          "versioned_bucket_ids",
          "fixed_json_extract",
          "custom_postgres_types",
          "unstable_sqlite_expression_engine");

  private final String yaml;
  private final String defaultSchema;
  private final @Nullable Map<String, List<String>> schema;
  private final @Nullable Integer bucketVersion;
  private boolean dangerousQueriesAreWarnings;
  private Map<String, Integer> bucketVersions = Map.of();
  private final List<Problem> problems = new ArrayList<>();
  private final List<BucketDefinition> definitions = new ArrayList<>();
  private final List<DefinitionInfo> definitionInfos = new ArrayList<>();
  private final Set<TablePattern> dataTables = new LinkedHashSet<>();
  private final Set<TablePattern> parameterTables = new LinkedHashSet<>();
  private final Set<TablePattern> eventTables = new LinkedHashSet<>();
  private final List<EventDefinitionInfo> eventDefinitions = new ArrayList<>();
  private Compatibility compatibility = Compatibility.LEGACY;
  private final Set<String> names = new LinkedHashSet<>();
  private List<StreamPlan.Stream> streams = List.of();
  private boolean streamsReadRowMetadata;

  /**
   * @param schema known source tables ("schema.table" to columns), for warnings; null when unknown
   * @param bucketVersion when set, bucket ids are prefixed {@code <version>#} (versioned bucket
   *     ids)
   */
  public SyncConfigReader(
      String yaml,
      String defaultSchema,
      @Nullable Map<String, List<String>> schema,
      @Nullable Integer bucketVersion) {
    this.yaml = yaml;
    this.defaultSchema = defaultSchema;
    this.schema = schema;
    this.bucketVersion = bucketVersion;
  }

  /**
   * Reports queries that depend only on client parameters as warnings (PowerSync's behaviour)
   * instead of errors.
   */
  public SyncConfigReader dangerousQueriesAreWarnings(boolean warn) {
    this.dangerousQueriesAreWarnings = warn;
    return this;
  }

  /**
   * Per bucket definition, the version to prefix its bucket ids with instead of the config's own.
   */
  public SyncConfigReader bucketVersions(Map<String, Integer> versions) {
    this.bucketVersions = Map.copyOf(versions);
    return this;
  }

  /** Reads the config; returns the problems (fatal and warnings). */
  public List<Problem> read() {
    YamlTree.Parsed parsed = YamlTree.parse(yaml);
    if (!parsed.errors().isEmpty()) {
      for (YamlTree.YamlSyntaxError e : parsed.errors()) {
        add(Severity.FATAL, e.message(), e.start(), e.end());
      }
      return problems;
    }
    YNode rootNode = parsed.root();
    if (rootNode == null || (rootNode instanceof YScalar s && s.isNull())) {
      add(Severity.FATAL, Messages.BUCKET_DEFINITIONS_OR_STREAMS_IS_REQUIRED, 0, 10);
      return problems;
    }
    if (!(rootNode instanceof YMap root)) {
      add(Severity.FATAL, Messages.BUCKET_DEFINITIONS_OR_STREAMS_IS_REQUIRED, 0, 10);
      return problems;
    }
    boolean schemaErrors = false;
    YNode config = root.get("config");
    if (config != null) {
      if (config instanceof YMap configMap) {
        readConfig(configMap);
        for (YamlTree.Entry e : configMap.entries()) {
          schemaErrors |= !CONFIG_KEYS.contains(e.key().value());
        }
      } else {
        expected(config, "a map");
      }
    }
    for (YamlTree.Entry e : root.entries()) {
      schemaErrors |= !TOP_LEVEL_KEYS.contains(e.key().value());
    }
    YNode buckets = root.get("bucket_definitions");
    YNode streams = root.get("streams");
    YNode with = root.get("with");
    if (compatibility.edition() >= 3) {
      if (buckets != null) {
        add(
            Severity.FATAL,
            Messages.BUCKET_DEFINITIONS_NOT_SUPPORTED_BY_NEW_COMPILER,
            buckets.start(),
            buckets.end());
      }
      if (streams == null) {
        add(Severity.FATAL, Messages.STREAMS_ARE_REQUIRED, 0, 10);
      }
    } else {
      if (with != null) {
        add(
            Severity.FATAL,
            Messages.COMMON_TABLE_EXPRESSIONS_REQUIRE_EDITION_3,
            with.start(),
            with.end());
      }
      if (buckets == null && streams == null) {
        add(Severity.FATAL, Messages.BUCKET_DEFINITIONS_OR_STREAMS_IS_REQUIRED, 0, 10);
      }
      if (buckets != null) {
        if (buckets instanceof YMap bucketMap) {
          schemaErrors |= readBucketDefinitions(bucketMap);
        } else if (!(buckets instanceof YScalar s && s.isNull())) {
          expected(buckets, "a map");
        }
      }
    }
    if (streams instanceof YMap streamMap) {
      StreamCompiler compiler =
          new StreamCompiler(this, compatibility, defaultSchema, schema, bucketVersion);
      schemaErrors |= compiler.read(streamMap, compatibility.edition() >= 3 ? with : null, names);
      this.streams = List.copyOf(compiler.streams());
      this.streamsReadRowMetadata = compiler.readsRowMetadata;
      dataTables.addAll(compiler.dataTables);
      parameterTables.addAll(compiler.parameterTables);
    } else if (streams != null && !(streams instanceof YScalar s && s.isNull())) {
      expected(streams, "a map");
    }
    YNode events = root.get("event_definitions");
    if (events instanceof YMap eventMap) {
      readEventDefinitions(eventMap);
    }
    if (schemaErrors && problems.stream().noneMatch(p -> p.severity() == Severity.FATAL)) {
      add(Severity.FATAL, Messages.MUST_NOT_HAVE_ADDITIONAL_PROPERTIES, 0, 10);
    }
    return problems;
  }

  private void readConfig(YMap config) {
    int edition = 1;
    YNode e = config.get("edition");
    if (e != null) {
      Double n = e instanceof YScalar s ? s.numberValue() : null;
      if (n == null) {
        addAt(e, Messages.MUST_BE_NUMERIC);
      } else {
        edition = n.intValue();
        // Later editions than this version knows are taken, as the reference takes them.
        if (n != Math.rint(n) || edition < 1) {
          add(Severity.FATAL, Messages.MUST_BE_3, 0, 10);
        }
      }
    }
    Boolean iso = flag(config, "timestamps_iso8601");
    Boolean versioned = flag(config, "versioned_bucket_ids");
    Boolean fixed = flag(config, "fixed_json_extract");
    Boolean custom = flag(config, "custom_postgres_types");
    Boolean engine = flag(config, "unstable_sqlite_expression_engine");
    Precision precision = null;
    YNode p = config.get("timestamp_max_precision");
    if (p instanceof YScalar ps && ps.isString()) {
      precision =
          switch (ps.value()) {
            case "seconds" -> Precision.SECONDS;
            case "milliseconds" -> Precision.MILLISECONDS;
            case "microseconds" -> Precision.MICROSECONDS;
            case "nanoseconds" -> Precision.NANOSECONDS;
            default -> null;
          };
      if (precision == null) {
        addAt(p, Messages.UNKNOWN_TIME_PRECISION_ALLOWED_ARE_SECONDS_MILLISECONDS);
      }
    } else if (p != null) {
      addAt(p, Messages.MUST_BE_A_STRING);
    }
    compatibility = new Compatibility(edition, iso, versioned, fixed, custom, engine, precision);
    if (compatibility.sqliteExpressionEngine()) {
      if (edition < 3) {
        add(
            Severity.FATAL,
            Messages.ENABLING_UNSTABLE_SQLITE_EXPRESSION_ENGINE_REQUIRES_EDITION,
            config.start(),
            config.end());
      } else if (!compatibility.fixedJson()) {
        add(
            Severity.FATAL,
            Messages.ENABLING_UNSTABLE_SQLITE_EXPRESSION_ENGINE_REQUIRES_FIXED,
            config.start(),
            config.end());
      }
    }
    if (precision != null && !compatibility.isoTimestamps()) {
      add(Severity.FATAL, Messages.TIMESTAMP_MAX_PRECISION_REQUIRES_TIMESTAMPS_ISO8601_TO, 0, 10);
    }
    YNode sv = config.get("storage_version");
    if (sv != null) {
      Double n = sv instanceof YScalar s ? s.numberValue() : null;
      // The reference's positions of these scalars include the line break after them.
      int end = sv.end() < yaml.length() && yaml.charAt(sv.end()) == '\n' ? sv.end() + 1 : sv.end();
      if (n == null) {
        add(Severity.FATAL, Messages.STORAGE_VERSION_MUST_BE_NUMERIC, sv.start(), end);
      } else if (n != 2 && n != 3) {
        // Version 1 is storage's own; only 2 (stable) and 3 (unstable) may be configured.
        add(Severity.FATAL, Messages.storageVersionNotSupported(numberText(n)), sv.start(), end);
      } else if (n == 3) {
        add(Severity.WARNING, Messages.STORAGE_VERSION_3_UNSTABLE, sv.start(), end);
      }
    }
  }

  /** A YAML number as JavaScript prints it: integers without a fraction. */
  private static String numberText(double n) {
    return n == Math.rint(n) && Math.abs(n) < 1e21 ? Long.toString((long) n) : Double.toString(n);
  }

  /**
   * A boolean key: its value, or null when absent or not a boolean (then a problem is reported).
   */
  private @Nullable Boolean flag(YMap config, String name) {
    YNode n = config.get(name);
    if (n == null) {
      return null;
    }
    Boolean b = n instanceof YScalar s ? s.booleanValue() : null;
    if (b == null) {
      addAt(n, Messages.MUST_BE_A_BOOLEAN);
    }
    return b;
  }

  /** Returns whether a schema-level problem (unknown key) was seen. */
  private boolean readBucketDefinitions(YMap map) {
    boolean unknownKeys = false;
    SqlFunctions functions = new SqlFunctions(compatibility.fixedJson());
    for (YamlTree.Entry entry : map.entries()) {
      String name = entry.key().value();
      if (!names.add(name)) {
        addAt(entry.key(), Messages.DUPLICATE_STREAM_OR_BUCKET_DEFINITION);
        continue;
      }
      if (!(entry.value() instanceof YMap def)) {
        add(
            Severity.FATAL,
            Messages.bucketDefinitionMustBeObject(name),
            entry.key().start(),
            entry.key().start() + 1);
        continue;
      }
      for (YamlTree.Entry e : def.entries()) {
        unknownKeys |= !DEFINITION_KEYS.contains(e.key().value());
      }
      boolean acceptDangerous = booleanOption(def, "accept_potentially_dangerous_queries", false);
      Integer priority = priorityOption(def);
      QueryContext ctx =
          new QueryContext(
              defaultSchema,
              schema,
              compatibility,
              functions,
              acceptDangerous,
              priority,
              dangerousQueriesAreWarnings);
      Integer version = bucketVersions.getOrDefault(name, bucketVersion);
      String prefix = version != null ? version + "#" + name : name;

      List<ParameterQuery> parameterQueries = new ArrayList<>();
      List<String> bucketParameters = null;
      boolean parametersFailed = false;
      YNode params = def.get("parameters");
      List<YScalar> paramScalars = new ArrayList<>();
      if (params == null) {
        paramScalars = null;
      } else if (params instanceof YScalar s) {
        paramScalars.add(s);
      } else if (params instanceof YSeq seq) {
        for (YNode item : seq.items()) {
          if (item instanceof YScalar s) {
            paramScalars.add(s);
          } else {
            addAt(item, Messages.EXPECTED_A_SCALAR_VALUE_HERE);
          }
        }
      } else {
        addAt(params, Messages.PARAMETERS_MUST_BE_A_STRING_OR_ARRAY);
      }
      int queryIndex = 0;
      List<QueryInput> paramInputs = new ArrayList<>();
      if (paramScalars == null) {
        paramInputs.add(new QueryInput("SELECT", null));
      } else {
        for (YScalar s : paramScalars) {
          paramInputs.add(new QueryInput(s.value(), s));
        }
      }
      for (QueryInput input : paramInputs) {
        queryIndex++;
        List<SqlProblem> sqlProblems = new ArrayList<>();
        try {
          ParameterQuery q =
              compileParameterQuery(input.sql, ctx, Integer.toString(queryIndex), sqlProblems);
          if (bucketParameters == null) {
            bucketParameters = q.bucketParameters();
          } else {
            Set<String> union = new LinkedHashSet<>(bucketParameters);
            union.addAll(q.bucketParameters());
            if (union.size() != bucketParameters.size()) {
              throw new QueryException(Messages.BUCKET_PARAMETERS_MUST_MATCH);
            }
          }
          parameterQueries.add(q);
          if (q instanceof TableParameterQuery t) {
            parameterTables.add(t.sourceTable);
          }
        } catch (QueryException e) {
          sqlProblems.add(e.problem != null ? e.problem : SqlProblem.fatal(e.getMessage(), -1, -1));
          if (bucketParameters == null) {
            parametersFailed = true;
          }
        } catch (ExpressionCompiler.StaticEvaluationException e) {
          sqlProblems.add(SqlProblem.fatal(e.getMessage(), -1, -1));
        }
        report(input, sqlProblems);
      }

      YNode data = def.get("data");
      List<DataQuery> dataQueries = new ArrayList<>();
      if (!(data instanceof YSeq dataSeq)) {
        if (data == null) {
          add(Severity.FATAL, Messages.DATA_MUST_BE_AN_ARRAY, def.start(), def.start() + 1);
        } else {
          add(Severity.FATAL, Messages.DATA_MUST_BE_AN_ARRAY, data.start(), data.start() + 1);
        }
      } else {
        for (YNode item : dataSeq.items()) {
          if (!(item instanceof YScalar s)) {
            addAt(item, Messages.EXPECTED_A_SCALAR_VALUE_HERE);
            continue;
          }
          QueryInput input = new QueryInput(s.value(), s);
          List<SqlProblem> sqlProblems = new ArrayList<>();
          try {
            if (bucketParameters == null) {
              throw new QueryException(Messages.BUCKET_PARAMETERS_MUST_BE_DEFINED);
            }
            Ast.Statement statement = parseSingle(input.sql);
            DataQuery q =
                DataQuery.compile(bucketParameters, input.sql, statement, ctx, sqlProblems);
            dataQueries.add(q);
            dataTables.add(q.sourceTable);
          } catch (QueryException e) {
            sqlProblems.add(
                e.problem != null ? e.problem : SqlProblem.fatal(e.getMessage(), -1, -1));
          } catch (ExpressionCompiler.StaticEvaluationException e) {
            sqlProblems.add(SqlProblem.fatal(e.getMessage(), -1, -1));
          }
          report(input, sqlProblems);
        }
      }
      if (parametersFailed && bucketParameters == null) {
        bucketParameters = List.of();
      }
      definitions.add(
          new BucketDefinition(
              name,
              prefix,
              bucketParameters == null ? List.of() : bucketParameters,
              List.copyOf(parameterQueries),
              List.copyOf(dataQueries)));
      definitionInfos.add(new DefinitionInfo(name, DefinitionInfo.Kind.BUCKET_DEFINITION, true));
    }
    return unknownKeys;
  }

  /**
   * A boolean key of a definition or stream: its value, {@code fallback} when absent (a problem
   * when not a boolean).
   */
  boolean booleanOption(YMap def, String key, boolean fallback) {
    Boolean b = flag(def, key);
    return b == null ? fallback : b;
  }

  /**
   * The {@code priority} of a definition or stream: 0..3, or null when absent or invalid (a
   * problem).
   */
  @Nullable Integer priorityOption(YMap def) {
    YNode pr = def.get("priority");
    if (pr == null) {
      return null;
    }
    Double n = pr instanceof YScalar s ? s.numberValue() : null;
    if (n == null || n != Math.rint(n) || n < 0 || n > 3) {
      // The reference marks the first character of the value.
      add(
          Severity.FATAL,
          Messages.INVALID_PRIORITY_EXPECTED_A_NUMBER_BETWEEN_0,
          pr.start(),
          pr.start() + 1);
      return null;
    }
    return n.intValue();
  }

  /** A query and the YAML scalar it was written in (null for implied queries). */
  record QueryInput(String sql, @Nullable YScalar scalar) {}

  /** Parses one statement; more than one, or a syntax error, is a problem. */
  static Ast.Statement parseSingle(String sql) throws QueryException {
    List<Ast.Statement> statements;
    try {
      statements = SqlParser.parse(sql);
    } catch (SqlSyntaxException e) {
      throw new QueryException(SqlProblem.fatal(e.getMessage(), e.start(), e.end()));
    }
    if (statements.size() > 1) {
      Ast.Span s = statements.get(1).span();
      throw new QueryException(
          SqlProblem.fatal(
              Messages.ONLY_A_SINGLE_SELECT_STATEMENT_IS_SUPPORTED, s.start(), s.end()));
    }
    return statements.get(0);
  }

  private ParameterQuery compileParameterQuery(
      String sql, QueryContext ctx, String queryId, List<SqlProblem> problems)
      throws QueryException {
    Ast.Statement statement = parseSingle(sql);
    Ast.Select q = QuerySupport.requireSelect(sql, statement);
    if (q.from().isEmpty()) {
      problems.addAll(QuerySupport.unsupportedFeatures(sql, q));
      return StaticParameterQuery.compile(sql, q, ctx, queryId, problems);
    }
    problems.addAll(QuerySupport.unsupportedFeatures(sql, q));
    Ast.FromItem from = q.from().get(0);
    if (q.from().size() != 1) {
      throw new QueryException(
          SqlProblem.fatal(
              Messages.MUST_SELECT_FROM_A_SINGLE_TABLE, from.span().start(), from.span().end()));
    }
    if (from instanceof Ast.FromCall call) {
      return TableValuedParameterQuery.compile(sql, q, call, ctx, queryId, problems);
    }
    if (from instanceof Ast.FromSelect) {
      throw new QueryException(
          SqlProblem.fatal(
              Messages.SUBQUERIES_ARE_NOT_SUPPORTED_YET, from.span().start(), from.span().end()));
    }
    return TableParameterQuery.compile(sql, q, (Ast.FromTable) from, ctx, queryId, problems);
  }

  private void readEventDefinitions(YMap events) {
    for (YamlTree.Entry entry : events.entries()) {
      if (!(entry.value() instanceof YMap def)) {
        add(
            Severity.FATAL,
            Messages.EVENT_DEFINITIONS_MUST_BE_OBJECTS,
            0,
            10); // where the reference reports it
        continue;
      }
      YNode payloads = def.get("payloads");
      if (!(payloads instanceof YSeq seq)) {
        if (payloads != null) {
          add(
              Severity.FATAL,
              Messages.EVENT_DEFINITION_PAYLOADS_MUST_BE_AN_ARRAY,
              0,
              10); // where the reference reports it
        }
        continue;
      }
      List<TablePattern> tables = new ArrayList<>();
      for (YNode item : seq.items()) {
        if (!(item instanceof YScalar s)) {
          add(
              Severity.FATAL,
              Messages.PAYLOAD_QUERIES_FOR_EVENTS_MUST_BE_SCALAR,
              0,
              10); // where the reference reports it
          continue;
        }
        QueryInput input = new QueryInput(s.value(), s);
        List<SqlProblem> sqlProblems = new ArrayList<>();
        try {
          Ast.Select q = QuerySupport.requireSelect(s.value(), parseSingle(s.value()));
          if (q.from().size() != 1 || !(q.from().get(0) instanceof Ast.FromTable from)) {
            Ast.Span at =
                q.from().isEmpty() ? new Ast.Span(0, s.value().length()) : q.from().get(0).span();
            throw new QueryException(
                SqlProblem.fatal(Messages.MUST_SELECT_FROM_A_SINGLE_TABLE, at.start(), at.end()));
          }
          TablePattern pattern = TableRefs.pattern(from.name(), defaultSchema);
          tables.add(pattern);
          eventTables.add(pattern);
        } catch (QueryException e) {
          sqlProblems.add(e.problem != null ? e.problem : SqlProblem.fatal(e.getMessage(), -1, -1));
        }
        report(input, sqlProblems);
      }
      eventDefinitions.add(new EventDefinitionInfo(entry.key().value(), List.copyOf(tables)));
    }
  }

  void report(QueryInput input, List<SqlProblem> sqlProblems) {
    for (SqlProblem p : sqlProblems) {
      YScalar scalar = input.scalar;
      if (scalar == null) {
        add(p.severity(), p.message(), 0, 10);
        continue;
      }
      int start;
      int end;
      if (p.start() < 0) {
        start = YamlTree.sourceOffset(yaml, scalar, 0);
        end = YamlTree.sourceOffset(yaml, scalar, Math.max(1, input.sql.length()));
      } else {
        start = YamlTree.sourceOffset(yaml, scalar, p.start());
        end = YamlTree.sourceOffset(yaml, scalar, p.end());
      }
      add(p.severity(), p.message(), start, Math.max(end, start));
    }
  }

  private void expected(YNode node, String what) {
    addAt(node, Messages.expectedHere(what));
  }

  void addAt(YNode node, String message) {
    add(Severity.FATAL, message, node.start(), node.end());
  }

  void add(Severity severity, String message, int start, int end) {
    int line = 1;
    int lineStart = 0;
    for (int i = 0; i < start && i < yaml.length(); i++) {
      if (yaml.charAt(i) == '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    problems.add(new Problem(severity, message, start, end, line, start - lineStart + 1));
  }

  List<BucketDefinition> definitions() {
    return definitions;
  }

  /** The definitions and streams, in declaration order. */
  public List<DefinitionInfo> definitionInfos() {
    return List.copyOf(definitionInfos);
  }

  /** Tables read by data, parameter and event queries. */
  public List<TablePattern> sourceTables() {
    Set<TablePattern> all = new LinkedHashSet<>(dataTables);
    all.addAll(parameterTables);
    all.addAll(eventTables);
    return List.copyOf(all);
  }

  /** The event definitions. */
  public List<EventDefinitionInfo> eventDefinitions() {
    return List.copyOf(eventDefinitions);
  }

  Compatibility compatibility() {
    return compatibility;
  }

  /** Whether a stream reads a source table's metadata ({@code t.schema()} and the like). */
  boolean streamsReadRowMetadata() {
    return streamsReadRowMetadata;
  }

  /** The compiled streams, in declaration order. */
  List<StreamPlan.Stream> streams() {
    return streams;
  }

  /** Whether the config defines {@code streams:}. */
  public boolean usesStreams() {
    return !streams.isEmpty();
  }

  String yaml() {
    return yaml;
  }

  boolean dangerousQueriesAreWarnings() {
    return dangerousQueriesAreWarnings;
  }

  void addDefinitionInfo(DefinitionInfo info) {
    definitionInfos.add(info);
  }
}
