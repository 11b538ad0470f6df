package dev.syncline.testkit;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.DefinitionInfo;
import dev.syncline.api.rules.EvaluatedRow;
import dev.syncline.api.rules.InclusionReason.Subscription;
import dev.syncline.api.rules.ParameterEvaluation;
import dev.syncline.api.rules.ParameterIndexEntry;
import dev.syncline.api.rules.ParameterLookupSource;
import dev.syncline.api.rules.Problem;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.RequestQuerier;
import dev.syncline.api.rules.ResolvedBucket;
import dev.syncline.api.rules.RowEvaluation;
import dev.syncline.api.rules.Severity;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesException;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.rules.SyncRulesCompiler;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Loads conformance vectors and checks each case against the compiler, through the public rules API
 * only ({@code SyncRulesCompiler}, {@code SyncRules}): what {@link ConformanceRunner} and the
 * build's vector tests run. Stateless.
 */
final class ConformanceSuite {
  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

  private ConformanceSuite() {}

  /** One case of a vector file. */
  record VectorCase(String file, String id, String kind, JsonNode json) {}

  /** Loads every case of every {@code *.json} file in {@code dir}, sorted by file name. */
  static List<VectorCase> load(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new SynclineException(
          ErrorCode.INVALID_INPUT_FILE,
          "conformance vector directory not found: " + dir.toAbsolutePath());
    }
    List<VectorCase> cases = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        JsonNode root = MAPPER.readTree(f.toFile());
        for (JsonNode c : root.get("cases")) {
          cases.add(
              new VectorCase(
                  f.getFileName().toString(), c.get("id").asText(), c.get("kind").asText(), c));
        }
      }
    } catch (IOException e) {
      throw new SynclineException(
          ErrorCode.INVALID_INPUT_FILE, "cannot read vectors in " + dir + ": " + e, e);
    }
    if (cases.isEmpty()) {
      throw new SynclineException(ErrorCode.INVALID_INPUT_FILE, "no conformance vectors in " + dir);
    }
    return cases;
  }

  /** Checks one case; returns the mismatches (empty when it passes). */
  static List<String> check(VectorCase c) {
    List<String> failures = new ArrayList<>();
    try {
      checkCase(c, failures);
    } catch (RuntimeException e) {
      failures.add("unexpected exception: " + e);
    }
    return failures;
  }

  private static SyncRulesCompiler compiler(JsonNode c) {
    // The vectors record the reference, which only warns about queries on client-controlled values.
    SyncRulesCompiler.Builder b =
        SyncRulesCompiler.builder()
            .defaultSchema(c.get("default_schema").asText())
            .warnOnDangerousQueries();
    if (c.has("schema")) {
      Map<String, List<String>> tables = new LinkedHashMap<>();
      for (JsonNode t : c.get("schema")) {
        List<String> cols = new ArrayList<>();
        t.get("columns").forEach(col -> cols.add(col.get("name").asText()));
        tables.put(t.get("schema").asText() + "." + t.get("table").asText(), cols);
      }
      b.sourceSchema(tables);
    }
    if (c.has("bucket_version")) {
      b.bucketVersion(c.get("bucket_version").asInt());
    }
    return b.build();
  }

  private static void checkCase(VectorCase vc, List<String> failures) {
    JsonNode c = vc.json();
    String yaml = c.get("yaml").asText();
    JsonNode expected = c.get("expected");
    SyncRulesCompiler compiler = compiler(c);
    SyncRulesSource source = SyncRulesSource.ofYaml(yaml, vc.id());
    List<Problem> problems = compiler.check(source);
    boolean valid = problems.stream().noneMatch(p -> p.severity() == Severity.FATAL);
    if (expected.has("compile_exception")) {
      // The reference crashed on this config: Syncline must refuse it with a diagnostic instead.
      if (valid) {
        failures.add(
            "the reference threw ("
                + expected.get("compile_exception").asText()
                + "); expected a fatal diagnostic, got "
                + problems);
      }
      return;
    }
    if (valid != expected.get("valid").asBoolean()) {
      failures.add(
          "valid: expected "
              + expected.get("valid").asBoolean()
              + " but was "
              + valid
              + "; problems: "
              + problems);
      return;
    }
    compareDiagnostics(expected.get("diagnostics"), problems, failures);
    if (!valid) {
      return;
    }
    SyncRules rules;
    try {
      rules = compiler.compileRules(source);
    } catch (SyncRulesException e) {
      failures.add("compile failed: " + e.getMessage());
      return;
    }
    switch (vc.kind()) {
      case "compile" -> checkCompile(rules, expected, failures);
      case "row" -> checkRow(rules, c.get("input"), expected, failures);
      case "parameter_row" -> checkParameterRow(rules, c.get("input"), expected, failures);
      case "request" -> checkRequest(rules, c.get("input"), expected, failures);
      default -> failures.add("unknown kind " + vc.kind());
    }
  }

  // ---- diagnostics ----

  private static boolean isLibraryMessage(String m) {
    return m.matches("(?s).*at line \\d+, column \\d+:.*")
        || m.startsWith("Syntax error at line")
        || m.startsWith("invalid syntax at line")
        || m.startsWith("Unexpected end of input")
        || m.startsWith("must ");
  }

  private static void compareDiagnostics(
      JsonNode expected, List<Problem> actual, List<String> failures) {
    List<Problem> remaining = new ArrayList<>(actual);
    List<JsonNode> library = new ArrayList<>();
    for (JsonNode d : expected) {
      String message = d.get("message").asText();
      Severity severity = Severity.valueOf(d.get("severity").asText().toUpperCase(Locale.ROOT));
      if (isLibraryMessage(message)) {
        library.add(d);
        continue;
      }
      int start = d.get("start").asInt();
      int end = d.get("end").asInt();
      String prefix =
          message.contains("[{") ? message.substring(0, message.indexOf("[{")) : message;
      Problem match = null;
      for (Problem p : remaining) {
        if (p.severity() == severity
            && p.start() == start
            && p.end() == end
            && (p.message().equals(message)
                || (!prefix.equals(message) && p.message().startsWith(prefix)))) {
          match = p;
          break;
        }
      }
      if (match == null) {
        failures.add(
            "missing diagnostic " + severity + " " + start + ".." + end + " '" + message + "'");
      } else {
        remaining.remove(match);
      }
    }
    for (JsonNode d : library) {
      Severity severity = Severity.valueOf(d.get("severity").asText().toUpperCase(Locale.ROOT));
      int line = d.get("line").asInt();
      Problem match =
          remaining.stream()
              .filter(p -> p.severity() == severity && p.line() == line)
              .findFirst()
              .orElse(
                  remaining.stream()
                      .filter(p -> p.severity() == severity)
                      .findFirst()
                      .orElse(null));
      if (match == null) {
        failures.add(
            "missing library-family diagnostic "
                + severity
                + " at line "
                + line
                + " '"
                + d.get("message").asText().lines().findFirst().orElse("")
                + "'");
      }
    }
    if (library.isEmpty()) {
      for (Problem p : remaining) {
        failures.add(
            "unexpected diagnostic "
                + p.severity()
                + " "
                + p.start()
                + ".."
                + p.end()
                + " '"
                + p.message()
                + "'");
      }
    }
  }

  private static void checkCompile(SyncRules rules, JsonNode expected, List<String> failures) {
    if (expected.has("definitions")) {
      List<String> exp = new ArrayList<>();
      for (JsonNode d : expected.get("definitions")) {
        exp.add(
            d.get("name").asText()
                + "/"
                + d.get("type").asText()
                + "/"
                + d.get("subscribed_by_default"));
      }
      List<String> act = new ArrayList<>();
      for (DefinitionInfo d : rules.definitions()) {
        act.add(
            d.name()
                + "/"
                + (d.kind() == DefinitionInfo.Kind.STREAM ? "stream" : "bucket_definition")
                + "/"
                + d.subscribedByDefault());
      }
      if (!exp.equals(act)) {
        failures.add("definitions: expected " + exp + " but was " + act);
      }
    }
    if (expected.has("source_tables")) {
      List<String> exp = new ArrayList<>();
      for (JsonNode t : expected.get("source_tables")) {
        exp.add(
            t.get("connection_tag").asText()
                + "."
                + t.get("schema").asText()
                + "."
                + t.get("table_pattern").asText());
      }
      List<String> act = new ArrayList<>();
      for (TablePattern t : rules.sourceTables()) {
        act.add(t.connectionTag() + "." + t.schema() + "." + t.tablePattern());
      }
      if (!exp.equals(act)) {
        failures.add("source_tables: expected " + exp + " but was " + act);
      }
    }
    if (expected.has("event_definitions")) {
      List<String> exp = new ArrayList<>();
      for (JsonNode e : expected.get("event_definitions")) {
        List<String> tables = new ArrayList<>();
        e.get("source_tables")
            .forEach(
                t -> tables.add(t.get("schema").asText() + "." + t.get("table_pattern").asText()));
        exp.add(e.get("name").asText() + tables);
      }
      List<String> act =
          rules.eventDefinitions().stream()
              .map(
                  e ->
                      e.name()
                          + e.sourceTables().stream()
                              .map(t -> t.schema() + "." + t.tablePattern())
                              .toList())
              .toList();
      if (!exp.equals(act)) {
        failures.add("event_definitions: expected " + exp + " but was " + act);
      }
    }
  }

  // ---- rows ----

  private static TableRef table(JsonNode input) {
    JsonNode t = input.get("table");
    return TableRef.of(t.get("schema").asText(), t.get("name").asText());
  }

  /** Decodes a vector row (tagged values, literal number types) into a source row. */
  static SourceRow row(JsonNode row) {
    Map<String, SourceValue> columns = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = row.properties().iterator();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      columns.put(e.getKey(), value(e.getValue()));
    }
    return new SourceRow(columns);
  }

  private static SourceValue value(JsonNode v) {
    if (v.isNull()) {
      return SqliteValue.NULL;
    } else if (v.isTextual()) {
      return SqliteValue.of(v.asText());
    } else if (v.isIntegralNumber()) {
      return SqliteValue.of(v.bigIntegerValue().longValueExact());
    } else if (v.isFloatingPointNumber()) {
      return SqliteValue.of(v.doubleValue());
    } else if (v.isBoolean()) {
      return SqliteValue.of(v.booleanValue() ? 1L : 0L);
    } else if (v.has("$blob")) {
      return new SqliteValue.BlobValue(HexFormat.of().parseHex(v.get("$blob").asText()));
    } else if (v.has("$real")) {
      return SqliteValue.of(
          switch (v.get("$real").asText()) {
            case "Infinity" -> Double.POSITIVE_INFINITY;
            case "-Infinity" -> Double.NEGATIVE_INFINITY;
            default -> Double.NaN;
          });
    } else if (v.has("$datetime")) {
      return new SourceValue.Timestamp(
          v.get("$datetime").asText(),
          precision(v.get("precision")),
          precision(v.get("default_precision")));
    } else if (v.has("$time")) {
      return new SourceValue.TimeOfDay(v.get("$time").asText(), precision(v.get("precision")));
    } else if (v.has("$array")) {
      return new SourceValue.SourceArray(arrayElements(v.get("$array")));
    }
    throw new IllegalArgumentException("unsupported vector value " + v);
  }

  private static List<Object> arrayElements(JsonNode array) {
    List<Object> out = new ArrayList<>();
    for (JsonNode e : array) {
      if (e.isBoolean()) {
        out.add(e.booleanValue());
      } else if (e.isArray()) {
        out.add(new SourceValue.SourceArray(arrayElements(e)));
      } else {
        out.add(value(e));
      }
    }
    return out;
  }

  private static SourceValue.Precision precision(@Nullable JsonNode n) {
    return n == null
        ? SourceValue.Precision.MICROSECONDS
        : SourceValue.Precision.valueOf(n.asText().toUpperCase(Locale.ROOT));
  }

  private static void checkRow(
      SyncRules rules, JsonNode input, JsonNode expected, List<String> failures) {
    RowEvaluation result = rules.evaluateRow(table(input), row(input.get("row")));
    List<String> exp = new ArrayList<>();
    for (JsonNode r : expected.get("rows")) {
      exp.add(
          r.get("bucket").asText()
              + " | "
              + r.get("table").asText()
              + " | "
              + r.get("id").asText()
              + " | "
              + r.get("data_json").asText());
    }
    List<String> act = new ArrayList<>();
    for (EvaluatedRow r : result.rows()) {
      act.add(r.bucket().name() + " | " + r.table() + " | " + r.id() + " | " + r.data());
    }
    if (!exp.equals(act)) {
      failures.add("rows:\n    expected " + exp + "\n    but was  " + act);
    }
    int expErrors = expected.get("errors").size();
    if (expErrors != result.errors().size()) {
      failures.add("errors: expected " + expected.get("errors") + " but was " + result.errors());
    }
  }

  /** A lookup key value from a vector, in our representation. */
  private static SqliteValue lookupValue(JsonNode v) {
    if (v.isNull()) {
      return SqliteValue.NULL;
    } else if (v.isTextual()) {
      return SqliteValue.of(v.asText());
    } else if (v.isIntegralNumber()) {
      BigInteger b = v.bigIntegerValue();
      return b.bitLength() < 64 ? SqliteValue.of(b.longValue()) : SqliteValue.of(b.doubleValue());
    } else if (v.isFloatingPointNumber()) {
      return SqliteValue.of(v.doubleValue());
    } else if (v.isBoolean()) {
      return SqliteValue.of(v.booleanValue() ? 1L : 0L);
    }
    return SqliteValue.of(v.toString());
  }

  private static void checkParameterRow(
      SyncRules rules, JsonNode input, JsonNode expected, List<String> failures) {
    ParameterEvaluation result = rules.evaluateParameterRow(table(input), row(input.get("row")));
    Map<String, String> scopes = new HashMap<>();
    List<String> exp = new ArrayList<>();
    List<String> expScopes = new ArrayList<>();
    for (JsonNode l : expected.get("lookups")) {
      JsonNode key = l.get("lookup");
      List<SqliteValue> values = new ArrayList<>();
      for (int i = 2; i < key.size(); i++) {
        values.add(lookupValue(key.get(i)));
      }
      List<Map<String, SqliteValue>> rows = new ArrayList<>();
      for (JsonNode r : l.get("bucket_parameters")) {
        Map<String, SqliteValue> m = new LinkedHashMap<>();
        r.properties()
            .iterator()
            .forEachRemaining(e -> m.put(e.getKey(), lookupValue(e.getValue())));
        rows.add(m);
      }
      exp.add(values + " -> " + rows);
      expScopes.add(key.get(0).asText() + "/" + key.get(1).asText());
    }
    List<String> act = new ArrayList<>();
    List<String> actScopes = new ArrayList<>();
    for (ParameterIndexEntry e : result.entries()) {
      act.add(e.lookup().values() + " -> " + e.bucketParameters());
      actScopes.add(e.lookup().scope());
    }
    if (!exp.equals(act)) {
      failures.add("lookups:\n    expected " + exp + "\n    but was  " + act);
    } else {
      for (int i = 0; i < exp.size(); i++) {
        String previous = scopes.putIfAbsent(expScopes.get(i), actScopes.get(i));
        if (previous != null && !previous.equals(actScopes.get(i))) {
          failures.add("inconsistent scope mapping for " + expScopes.get(i));
        }
      }
    }
    if (expected.get("errors").size() != result.errors().size()) {
      failures.add("errors: expected " + expected.get("errors") + " but was " + result.errors());
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, @Nullable Object> jsonMap(@Nullable JsonNode node) {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    return MAPPER.convertValue(node, LinkedHashMap.class);
  }

  private static void checkRequest(
      SyncRules rules, JsonNode input, JsonNode expected, List<String> failures) {
    List<ParameterEvaluation> parameterRows = new ArrayList<>();
    int parameterRowErrors = 0;
    for (JsonNode pr : input.get("parameter_rows")) {
      ParameterEvaluation ev = rules.evaluateParameterRow(table(pr), row(pr.get("row")));
      parameterRowErrors += ev.errors().size();
      parameterRows.add(ev);
    }
    if (expected.has("parameter_row_errors")
        && expected.get("parameter_row_errors").size() != parameterRowErrors) {
      failures.add(
          "parameter_row_errors: expected "
              + expected.get("parameter_row_errors").size()
              + " but was "
              + parameterRowErrors);
    }
    boolean includeDefaults = true;
    List<RequestContext.Subscription> subscriptions = new ArrayList<>();
    JsonNode streams = input.get("streams");
    if (streams != null && !streams.isNull()) {
      includeDefaults =
          !streams.has("include_defaults") || streams.get("include_defaults").asBoolean(true);
      if (streams.has("subscriptions")) {
        for (JsonNode s : streams.get("subscriptions")) {
          JsonNode priority = s.get("override_priority");
          subscriptions.add(
              new RequestContext.Subscription(
                  s.get("stream").asText(),
                  jsonMap(s.get("parameters")),
                  priority == null || priority.isNull() ? null : priority.asInt()));
        }
      }
    }
    RequestContext request =
        new RequestContext(
            jsonMap(input.get("jwt")),
            jsonMap(input.get("parameters")),
            includeDefaults,
            subscriptions);
    RequestQuerier querier = rules.querier(request);
    List<ResolvedBucket> buckets = querier.allBuckets(ParameterLookupSource.of(parameterRows));
    List<String> exp = new ArrayList<>();
    for (JsonNode b : expected.get("buckets")) {
      List<String> reasons = new ArrayList<>();
      b.get("inclusion_reasons")
          .forEach(
              r -> reasons.add(r.isTextual() ? r.asText() : "sub" + r.get("subscription").asInt()));
      reasons.sort(null);
      exp.add(b.get("bucket").asText() + " p" + b.get("priority").asInt() + " " + reasons);
    }
    List<String> act = new ArrayList<>();
    for (ResolvedBucket b : buckets) {
      List<String> reasons = new ArrayList<>();
      b.reasons()
          .forEach(r -> reasons.add(r instanceof Subscription s ? "sub" + s.index() : "default"));
      reasons.sort(null);
      act.add(b.bucket().name() + " p" + b.priority() + " " + reasons);
    }
    exp.sort(null);
    act.sort(null);
    if (!exp.equals(act)) {
      failures.add("buckets:\n    expected " + exp + "\n    but was  " + act);
    }
    if (expected.get("querier_errors").size() != querier.errors().size()) {
      failures.add(
          "querier_errors: expected "
              + expected.get("querier_errors")
              + " but was "
              + querier.errors());
    } else {
      for (int i = 0; i < querier.errors().size(); i++) {
        JsonNode e = expected.get("querier_errors").get(i);
        var actual = querier.errors().get(i);
        Integer subscription =
            e.has("subscription") && !e.get("subscription").isNull()
                ? e.get("subscription").asInt()
                : null;
        if (!e.get("descriptor").asText().equals(actual.definition())
            || !Objects.equals(subscription, actual.subscription())) {
          failures.add("querier error: expected " + e + " but was " + actual);
        }
      }
    }
    if (expected.has("has_dynamic_buckets")
        && expected.get("has_dynamic_buckets").asBoolean() != querier.hasDynamicBuckets()) {
      failures.add(
          "has_dynamic_buckets: expected "
              + expected.get("has_dynamic_buckets")
              + " but was "
              + querier.hasDynamicBuckets());
    }
    Objects.requireNonNull(buckets);
  }
}
