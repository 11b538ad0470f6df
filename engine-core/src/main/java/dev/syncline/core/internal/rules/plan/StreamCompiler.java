package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.rules.DefinitionInfo;
import dev.syncline.api.rules.DefinitionInfo.Kind;
import dev.syncline.api.rules.Severity;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.internal.rules.Messages;
import dev.syncline.core.internal.rules.eval.JsJson;
import dev.syncline.core.internal.rules.eval.SqlFunction;
import dev.syncline.core.internal.rules.eval.SqlFunctions;
import dev.syncline.core.internal.rules.eval.SqlValues;
import dev.syncline.core.internal.rules.plan.StreamPlan.BucketParameter;
import dev.syncline.core.internal.rules.plan.StreamPlan.Ev;
import dev.syncline.core.internal.rules.plan.StreamPlan.KeyPart;
import dev.syncline.core.internal.rules.plan.StreamPlan.LookupNode;
import dev.syncline.core.internal.rules.plan.StreamPlan.LookupOutput;
import dev.syncline.core.internal.rules.plan.StreamPlan.RequestArray;
import dev.syncline.core.internal.rules.plan.StreamPlan.RequestValue;
import dev.syncline.core.internal.rules.plan.StreamPlan.Source;
import dev.syncline.core.internal.rules.plan.StreamPlan.StreamRequest;
import dev.syncline.core.internal.rules.sql.Ast;
import dev.syncline.core.internal.rules.sql.Ast.Expr;
import dev.syncline.core.internal.rules.yaml.YamlTree;
import dev.syncline.core.internal.rules.yaml.YamlTree.YMap;
import dev.syncline.core.internal.rules.yaml.YamlTree.YNode;
import dev.syncline.core.internal.rules.yaml.YamlTree.YScalar;
import dev.syncline.core.internal.rules.yaml.YamlTree.YSeq;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Compiles the {@code streams:} section of a sync config (editions 2 and 3) into {@link
 * StreamPlan.Stream}s, reporting every problem through the {@link SyncConfigReader} that owns it.
 * Single use; not thread-safe.
 *
 * <p>A stream query is planned like this: the WHERE clause (and JOIN conditions) is put in
 * disjunctive normal form, splitting only the ORs that mix the output row with request values or
 * subqueries; each conjunction becomes a variant. In a variant, conditions on the output row alone
 * filter rows, conditions on the request alone gate the request, and comparisons between the two
 * become bucket parameters. Subqueries, common table expressions and joined tables become
 * parameter-index look-ups ({@link LookupNode}): the joined table's rows are indexed by the columns
 * compared with request values (or with the outputs of a nested look-up), and hold the columns the
 * outer query compares with.
 */
final class StreamCompiler {
  private static final Set<String> STREAM_KEYS =
      Set.of(
          "query",
          "queries",
          "auto_subscribe",
          "priority",
          "accept_potentially_dangerous_queries",
          "with");

  /** How many arguments a function takes: at least {@code min}, at most {@code max} (-1: any). */
  private record Arity(int min, int max) {}

  /**
   * The functions edition-3 streams know, with their number of arguments, as the reference's second
   * compiler lists them; names are matched in lower case.
   */
  private static final Map<String, Arity> EDITION_3_FUNCTIONS =
      Map.ofEntries(
          Map.entry("hex", new Arity(1, 1)),
          Map.entry("ifnull", new Arity(2, -1)),
          Map.entry("iif", new Arity(3, 3)),
          Map.entry("instr", new Arity(2, 2)),
          Map.entry("length", new Arity(1, 1)),
          Map.entry("lower", new Arity(1, 1)),
          Map.entry("substring", new Arity(2, 3)),
          Map.entry("typeof", new Arity(1, 1)),
          Map.entry("upper", new Arity(1, 1)),
          Map.entry("json_array_length", new Arity(1, 2)),
          Map.entry("json_extract", new Arity(2, -1)),
          Map.entry("unixepoch", new Arity(1, -1)),
          Map.entry("datetime", new Arity(1, -1)),
          Map.entry("base64", new Arity(1, 1)),
          Map.entry("json_keys", new Arity(1, 1)),
          Map.entry("uuid_blob", new Arity(1, 1)),
          Map.entry("st_asgeojson", new Arity(1, 1)),
          Map.entry("st_astext", new Arity(1, 1)),
          Map.entry("st_x", new Arity(1, 1)),
          Map.entry("st_y", new Arity(1, 1)));

  /** The schemas of request functions in streams ({@code auth.user_id()}, ...). */
  private static final Set<String> REQUEST_SCHEMAS = Set.of("auth", "subscription", "connection");

  /** Operators edition 3 compiles and the reference's row evaluator does not have. */
  private static final Set<Ast.BinaryOp> EVALUATOR_LACKS =
      Set.of(
          Ast.BinaryOp.MODULO,
          Ast.BinaryOp.BIT_AND,
          Ast.BinaryOp.BIT_OR,
          Ast.BinaryOp.SHIFT_LEFT,
          Ast.BinaryOp.SHIFT_RIGHT);

  private final SyncConfigReader reader;
  private final String defaultSchema;
  private final @Nullable Map<String, List<String>> schema;
  private final @Nullable Integer bucketVersion;
  private final int edition;
  private final SqlFunctions functions;
  private final boolean exactIntegers;
  private final Map<String, LookupNode> sharedLookups = new LinkedHashMap<>();
  private final Map<String, String> sharedScopes = new LinkedHashMap<>();
  private final Set<YScalar> reportedCtes = Collections.newSetFromMap(new IdentityHashMap<>());
  private final List<StreamPlan.Stream> streams = new ArrayList<>();
  final Set<TablePattern> dataTables = new LinkedHashSet<>();
  final Set<TablePattern> parameterTables = new LinkedHashSet<>();

  /** Whether a query reads a source table's metadata ({@code t.schema()} and the like). */
  boolean readsRowMetadata;

  StreamCompiler(
      SyncConfigReader reader,
      Compatibility compatibility,
      String defaultSchema,
      @Nullable Map<String, List<String>> schema,
      @Nullable Integer bucketVersion) {
    this.reader = reader;
    this.defaultSchema = defaultSchema;
    this.schema = schema;
    this.bucketVersion = bucketVersion;
    this.edition = compatibility.edition();
    this.functions = new SqlFunctions(compatibility.fixedJson());
    this.exactIntegers = compatibility.edition() >= 3;
  }

  List<StreamPlan.Stream> streams() {
    return streams;
  }

  /** A common table expression: its SQL, where it is written and where its name is. */
  private record Cte(String sql, YScalar scalar, YScalar name) {}

  /** Every common table expression defined, in order; those used, by identity. */
  private final List<Cte> definedCtes = new ArrayList<>();

  private final Set<Cte> usedCtes = Collections.newSetFromMap(new IdentityHashMap<>());

  /** Reads every stream; returns whether a schema-level problem (unknown key) was seen. */
  boolean read(YMap map, @Nullable YNode globalWith, Set<String> names) {
    boolean unknownKeys = false;
    Map<String, Cte> globalCtes = readCtes(globalWith);
    for (YamlTree.Entry entry : map.entries()) {
      String name = entry.key().value();
      if (edition < 3) {
        reader.add(
            Severity.WARNING, Messages.ALPHA_STREAMS, entry.key().start(), entry.value().end());
      }
      if (!names.add(name)) {
        reader.add(
            Severity.FATAL,
            Messages.DUPLICATE_STREAM_OR_BUCKET_DEFINITION,
            entry.key().start(),
            entry.key().start() + 1);
        continue;
      }
      if (!(entry.value() instanceof YMap def)) {
        reader.add(Severity.FATAL, Messages.MUST_BE_OBJECT, 0, 10);
        continue;
      }
      for (YamlTree.Entry e : def.entries()) {
        // Edition 3 takes keys it does not know, as the reference does.
        unknownKeys |= edition < 3 && !STREAM_KEYS.contains(e.key().value());
      }
      boolean autoSubscribe = reader.booleanOption(def, "auto_subscribe", false);
      boolean acceptDangerous =
          reader.booleanOption(def, "accept_potentially_dangerous_queries", false);
      Integer configured = reader.priorityOption(def);
      int priority = configured == null ? 3 : configured;
      Map<String, Cte> ctes = new LinkedHashMap<>(globalCtes);
      YNode with = def.get("with");
      if (with != null && edition < 3) {
        reader.add(Severity.FATAL, Messages.CTES_NEED_THE_NEW_COMPILER, with.start(), with.end());
      } else {
        ctes.putAll(readCtes(with));
      }
      YNode query = def.get("query");
      YNode queries = def.get("queries");
      List<YScalar> scalars = new ArrayList<>();
      if ((query == null) == (queries == null)) {
        reader.add(
            Severity.FATAL, Messages.ONE_OF_QUERIES_OR_QUERY_MUST_BE, def.start(), def.end());
      } else if (query != null) {
        if (query instanceof YScalar s) {
          scalars.add(s);
        } else {
          reader.addAt(query, Messages.EXPECTED_A_SCALAR_VALUE_HERE);
        }
      } else if (queries instanceof YSeq seq) {
        for (YNode item : seq.items()) {
          if (item instanceof YScalar s) {
            scalars.add(s);
          } else {
            reader.addAt(item, Messages.EXPECTED_A_SCALAR_VALUE_HERE);
          }
        }
      } else {
        reader.addAt(queries, Messages.MUST_BE_ARRAY);
      }
      StreamContext sc = new StreamContext(name, ctes, acceptDangerous);
      List<StreamPlan.Variant> variants = new ArrayList<>();
      for (YScalar s : scalars) {
        if (edition < 2) {
          reader.add(
              Severity.FATAL,
              Messages.STREAMS_REQUIRE_EDITION_2,
              YamlTree.sourceOffset(reader.yaml(), s, 0),
              YamlTree.sourceOffset(reader.yaml(), s, s.value().length()));
          continue;
        }
        QueryCompiler qc = new QueryCompiler(sc, s.value(), s);
        List<SqlProblem> problems = qc.problems;
        try {
          qc.compileStream(variants);
          if (edition < 3 && autoSubscribe && qc.usesSubscriptionParameters) {
            problems.add(
                SqlProblem.warning(
                    Messages.DEFAULT_STREAM_USES_SUBSCRIPTION_PARAMETERS, 0, s.value().length()));
          }
        } catch (QueryException e) {
          problems.add(e.problem != null ? e.problem : SqlProblem.fatal(e.getMessage(), -1, -1));
        } catch (ExpressionCompiler.StaticEvaluationException e) {
          problems.add(SqlProblem.fatal(e.getMessage(), -1, -1));
        }
        qc.moveCteProblems();
        reader.report(new SyncConfigReader.QueryInput(s.value(), s), problems);
      }
      for (StreamPlan.Variant v : variants) {
        dataTables.add(v.table());
        for (LookupNode n : v.allLookups()) {
          parameterTables.add(n.table);
        }
      }
      streams.add(
          new StreamPlan.Stream(
              name, autoSubscribe, edition >= 3 ? priority : 3, edition, List.copyOf(variants)));
      reader.addDefinitionInfo(new DefinitionInfo(name, Kind.STREAM, autoSubscribe));
    }
    for (Cte cte : definedCtes) {
      if (!usedCtes.contains(cte)) {
        reader.add(
            Severity.WARNING,
            Messages.THIS_COMMON_TABLE_EXPRESSION_ISN_T_REFERENCED,
            cte.name().start(),
            cte.name().end());
      }
    }
    return unknownKeys;
  }

  private Map<String, Cte> readCtes(@Nullable YNode with) {
    Map<String, Cte> out = new LinkedHashMap<>();
    if (with == null) {
      return out;
    }
    if (!(with instanceof YMap map)) {
      reader.addAt(with, Messages.MUST_BE_OBJECT);
      return out;
    }
    for (YamlTree.Entry e : map.entries()) {
      if (e.value() instanceof YScalar s) {
        Cte cte = new Cte(s.value(), s, e.key());
        out.put(e.key().value(), cte);
        definedCtes.add(cte);
      } else {
        reader.addAt(e.value(), Messages.EXPECTED_A_SCALAR_VALUE_HERE);
      }
    }
    return out;
  }

  /** Where a common table expression's text was appended to a query's (see cteInFrom). */
  private record CteRegion(int offset, Cte cte) {}

  /**
   * Reports a common table expression's problems where it is written, once however many queries use
   * it.
   */
  void reportCte(Cte cte, List<SqlProblem> cteProblems) {
    if (reportedCtes.add(cte.scalar())) {
      reader.report(new SyncConfigReader.QueryInput(cte.sql(), cte.scalar()), cteProblems);
    }
  }

  /** What all queries of one stream share. */
  private final class StreamContext {
    final String name;
    final Map<String, Cte> ctes;
    final boolean acceptDangerous;
    final Map<String, LookupNode> lookups = new LinkedHashMap<>();
    final Map<String, String> scopes = new LinkedHashMap<>();
    final Map<String, Ast.Select> parsedCtes = new LinkedHashMap<>();
    final Set<String> expanding = new HashSet<>();

    /**
     * Common table expressions whose SQL does not parse: in FROM, read as tables (as the
     * reference).
     */
    final Set<String> unparsable = new HashSet<>();

    StreamContext(String name, Map<String, Cte> ctes, boolean acceptDangerous) {
      this.name = name;
      this.ctes = ctes;
      this.acceptDangerous = acceptDangerous;
    }

    LookupNode lookup(
        TablePattern table,
        String alias,
        List<CExpr> filters,
        List<KeyPart> keys,
        List<CExpr> outputs) {
      // What the index holds depends on the table, filters, key columns and outputs, not on where a
      // request gets
      // its key values: look-ups differing only in that share one index (one scope). Everything
      // here reads the one
      // table, so "members.user_id" and "user_id" are the same expression.
      StringBuilder index = new StringBuilder(table.toString()).append("|f:");
      filters.forEach(f -> index.append(unqualified(f.text, alias)).append(';'));
      index.append("|k:");
      keys.forEach(k -> index.append(unqualified(k.rowText(), alias)).append(';'));
      index.append("|o:");
      outputs.forEach(o -> index.append(unqualified(o.text, alias)).append(';'));
      StringBuilder full = new StringBuilder(index).append("|s:");
      keys.forEach(k -> full.append(k.source().text()).append(';'));
      Map<String, String> scopes = edition >= 3 ? sharedScopes : this.scopes;
      Map<String, LookupNode> nodes = edition >= 3 ? sharedLookups : lookups;
      LookupNode existing = nodes.get(full.toString());
      if (existing != null) {
        return existing;
      }
      String scope =
          scopes.computeIfAbsent(
              index.toString(),
              k -> edition >= 3 ? "lookup#" + scopes.size() : name + "|" + scopes.size());
      List<String> outputNames = new ArrayList<>();
      for (int i = 0; i < outputs.size(); i++) {
        outputNames.add(edition >= 3 ? Integer.toString(i) : "result");
      }
      LookupNode node =
          new LookupNode(
              scope,
              table,
              filters.stream().map(f -> f.ev).toList(),
              keys,
              outputs.stream().map(o -> o.ev).toList(),
              outputNames);
      nodes.put(full.toString(), node);
      return node;
    }
  }

  /** SQL text without {@code alias.} qualifiers outside string literals. */
  static String unqualified(String text, String alias) {
    StringBuilder out = new StringBuilder(text.length());
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\'') {
        quoted = !quoted;
      } else if (!quoted
          && text.startsWith(alias + ".", i)
          && (i == 0 || !isIdentifierPart(text.charAt(i - 1)))) {
        i += alias.length();
        continue;
      } else if (!quoted
          && text.startsWith("\"" + alias + "\".", i)
          && (i == 0 || !isIdentifierPart(text.charAt(i - 1)))) {
        i += alias.length() + 2;
        continue;
      }
      out.append(c);
    }
    return out.toString();
  }

  private static boolean isIdentifierPart(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '"' || c == '.';
  }

  /** A table visible in a query. */
  private record ScopeTable(
      String alias,
      String nameInSchema,
      @Nullable TablePattern pattern,
      Ast.@Nullable FromCall call,
      Ast.Span span) {}

  /**
   * A compiled expression with what it depends on.
   *
   * @param tables the aliases of the tables whose columns it reads
   * @param request whether it reads the request
   * @param auth whether it reads authenticated request values ({@code auth.*})
   * @param unauthenticated the first place it reads client-controlled values, or null
   */
  private record CExpr(
      Ev ev,
      Set<String> tables,
      boolean request,
      boolean auth,
      Ast.@Nullable Span unauthenticated,
      boolean subscription,
      String text,
      boolean error) {}

  /**
   * Compiles one query (a {@code query:} or {@code queries:} entry, or a common table expression).
   */
  private final class QueryCompiler {
    final StreamContext stream;

    /**
     * The query text, followed by the text of each common table expression read in FROM (inlined
     * with its nodes' places in this text, see {@link #cteInFrom}); {@link #length} is the query's
     * own.
     */
    String sql;

    final int length;

    /** Where each common table expression's text starts in {@link #sql}. */
    final List<CteRegion> regions = new ArrayList<>();

    final YScalar scalar;
    final List<SqlProblem> problems = new ArrayList<>();
    boolean usesSubscriptionParameters;
    Map<String, ScopeTable> scope = Map.of();

    /** For a common table expression's query: where the query using it names it; else null. */
    Ast.@Nullable Ref cteRef;

    /** Set when this common table expression's query has not exactly one column. */
    boolean cteColumnsWrong;

    QueryCompiler(StreamContext stream, String sql, YScalar scalar) {
      this.stream = stream;
      this.sql = sql;
      this.length = sql.length();
      this.scalar = scalar;
      this.expressions = new Expressions();
    }

    /** A compiler for a subquery written in this query: the same text. */
    QueryCompiler nested() {
      QueryCompiler inner = new QueryCompiler(stream, sql, scalar, length);
      inner.regions.addAll(regions);
      return inner;
    }

    private QueryCompiler(StreamContext stream, String sql, YScalar scalar, int length) {
      this.stream = stream;
      this.sql = sql;
      this.length = length;
      this.scalar = scalar;
      this.expressions = new Expressions();
    }

    /**
     * {@code FROM name} of a common table expression (edition 3): the query reads it as a subquery
     * in FROM, which {@link InlineViews} then inlines. Its text is appended to {@link #sql} and its
     * nodes placed there, so texts and problems stay exact; {@link #moveCteProblems} reports those
     * where the expression is written. One that does not parse is reported there and read as a
     * table, as the reference does.
     */
    Ast.Select cteInFrom(Ast.Select q) {
      if (edition < 3) {
        return q;
      }
      List<Ast.FromItem> from = new ArrayList<>();
      boolean changed = false;
      for (Ast.FromItem item : q.from()) {
        Ast.FromItem view = item instanceof Ast.FromTable t ? cteView(t) : null;
        changed |= view != null;
        from.add(view != null ? view : item);
      }
      return changed ? q.with(q.columns(), from, q.where(), q.joinConditions()) : q;
    }

    /** {@code FROM name} of a common table expression as a subquery in FROM; else null. */
    Ast.@Nullable FromSelect cteView(Ast.FromTable t) {
      String name = t.name().name();
      Cte cte = t.name().schema() == null ? stream.ctes.get(name) : null;
      if (cte == null || stream.expanding.contains(name) || stream.unparsable.contains(name)) {
        return null;
      }
      usedCtes.add(cte);
      int offset = sql.length() + 1;
      Ast.Select view;
      try {
        if (!stream.parsedCtes.containsKey(cte.sql())) {
          // its own problems, in place (and the parse the IN form reuses)
          stream.parsedCtes.put(
              cte.sql(), new QueryCompiler(stream, cte.sql(), cte.scalar()).parse());
        }
        view = (Ast.Select) SyncConfigReader.parseSingle(" ".repeat(offset) + cte.sql());
      } catch (QueryException e) {
        reportCte(cte, List.of(e.problem));
        stream.unparsable.add(name);
        return null;
      }
      sql = sql + "\n" + cte.sql();
      regions.add(new CteRegion(offset, cte));
      return new Ast.FromSelect(view, t.alias() != null ? t.alias() : name, t.join(), t.span());
    }

    /**
     * Reports the problems found in appended common table expressions where those are written (once
     * per expression), leaving the query's own.
     */
    void moveCteProblems() {
      if (regions.isEmpty()) {
        return;
      }
      Map<Cte, List<SqlProblem>> moved = new LinkedHashMap<>();
      problems.removeIf(
          p -> {
            CteRegion region = null;
            for (CteRegion r : regions) {
              if (p.start() >= r.offset()) {
                region = r;
              }
            }
            if (region == null) {
              return false;
            }
            int off = region.offset();
            moved
                .computeIfAbsent(region.cte(), k -> new ArrayList<>())
                .add(new SqlProblem(p.message(), p.start() - off, p.end() - off, p.severity()));
            return true;
          });
      moved.forEach(StreamCompiler.this::reportCte);
    }

    CExpr error(String message, Ast.Span at) {
      problems.add(SqlProblem.fatal(message, at.start(), at.end()));
      return new CExpr((r, q) -> null, Set.of(), false, false, null, false, "", true);
    }

    String text(Ast.Node node) {
      return sql.substring(node.span().start(), node.span().end()).strip().replaceAll("\\s+", " ");
    }

    Ast.Select parse() throws QueryException {
      Ast.Statement statement = SyncConfigReader.parseSingle(sql);
      if (!(statement instanceof Ast.Select select)) {
        Ast.Span s = statement.span();
        throw new QueryException(
            SqlProblem.fatal(
                edition >= 3
                    ? Messages.EXPECTED_A_SELECT_STATEMENT
                    : Messages.ONLY_SELECT_STATEMENTS_ARE_SUPPORTED,
                s.start(),
                s.end()));
      }
      return select;
    }

    // ---- the stream query ----

    void compileStream(List<StreamPlan.Variant> variants) throws QueryException {
      Ast.Select q = cteInFrom(parse());
      if (edition >= 3) {
        q = InlineViews.inline(q, this::error);
      }
      if (edition < 3 && (q.from().size() != 1 || !(q.from().get(0) instanceof Ast.FromTable))) {
        // Edition-2 streams select from one table, as data queries of bucket definitions do.
        throw new QueryException(
            SqlProblem.fatal(
                Messages.MUST_SELECT_FROM_A_SINGLE_TABLE, q.span().start(), q.span().end()));
      }
      problems.addAll(
          edition >= 3
              ? QuerySupport.unsupportedFeaturesEdition3(ownText(), q)
              : QuerySupport.unsupportedFeatures(ownText(), q));
      if (q.usingSpan() != null) {
        throw new QueryException(
            SqlProblem.fatal(Messages.USING_IS_NOT_SUPPORTED, q.span().start(), q.span().end()));
      }
      scope = tables(q);
      // The output table: the one the result columns read (edition 2: the one table).
      String output = edition < 3 ? scope.keySet().iterator().next() : null;
      for (Ast.Column c : q.columns()) {
        String t = output == null ? columnTable(c.expr()) : null;
        if (t != null) {
          output = t;
          break;
        }
      }
      boolean hasId = false;
      boolean hasStar = false;
      List<DataQuery.Extractor> extractors = new ArrayList<>();
      for (Ast.Column c : q.columns()) {
        if (c.expr() instanceof Ast.Ref ref && ref.name().equals("*")) {
          // The first compiler reads a star's qualifier as no more than that.
          if (edition >= 3 && ref.table() != null && !scope.containsKey(ref.table().name())) {
            error(Messages.tableNotInFrom(ref.table().name()), ref.span());
          } else if (edition >= 3 && ref.table() != null && !ref.table().name().equals(output)) {
            error(Messages.resultColumnsFromOneTable(output), ref.span());
          }
          hasStar = true;
          extractors.add(new DataQuery.StarExtractor());
          continue;
        }
        CExpr value = compile(c.expr());
        if (value.error) {
          continue;
        }
        if (!value.tables.isEmpty() && !value.tables.equals(Set.of(output))) {
          error(Messages.resultColumnsFromOneTable(output), c.expr().span());
          continue;
        }
        if (value.request) {
          error(
              edition >= 3
                  ? Messages.SYNCS_A_CONNECTION_PARAMETER
                  : Messages.PARAMETER_MATCH_EXPRESSION_IS_NOT_ALLOWED_HERE,
              c.expr().span());
          continue;
        }
        String name;
        if (c.alias() != null) {
          name = c.alias();
        } else if (c.expr() instanceof Ast.Ref ref) {
          name = ref.name();
        } else if (edition < 3) {
          error(Messages.ALIAS_IS_REQUIRED, c.expr().span());
          continue;
        } else {
          name = text(c.expr());
          problems.add(
              SqlProblem.warning(
                  Messages.THE_NAME_OF_THIS_COLUMN_IS_UNSPECIFIED,
                  c.expr().span().start(),
                  c.expr().span().end()));
        }
        hasId |= name.equals("id");
        String sourceColumn = c.expr() instanceof Ast.Ref ref ? ref.name() : null;
        Ev ev = value.ev;
        extractors.add(
            new DataQuery.ColumnExtractor(name, row -> ev.eval(row, null), sourceColumn));
      }
      ScopeTable outTable = output == null ? null : scope.get(output);
      TablePattern outPattern = outTable == null ? null : outTable.pattern();
      if (edition < 3 && outPattern != null) {
        // The first compiler's rule for data queries: an id column, or a star over a table that
        // may have one.
        List<String> known = schema == null ? null : TableRefs.columns(schema, outPattern);
        hasId |= hasStar && (known == null || known.contains("id"));
        if (!hasId) {
          Ast.Span at =
              q.columns().isEmpty() ? new Ast.Span(0, sql.length()) : q.columns().get(0).span();
          problems.add(
              hasStar
                  ? SqlProblem.warning(
                      Messages.QUERY_MUST_RETURN_AN_ID_COLUMN, at.start(), at.end())
                  : SqlProblem.fatal(
                      Messages.QUERY_MUST_RETURN_AN_ID_COLUMN, at.start(), at.end()));
        }
      }
      if (output == null || outTable == null || outPattern == null) {
        throw new QueryException(
            SqlProblem.fatal(
                Messages.MUST_HAVE_A_RESULT_COLUMN_SELECTING_FROM,
                q.span().start(),
                q.span().end()));
      }
      ScopeTable out = outTable;
      if (edition >= 3) {
        warnAliasedPrimaryInJoin(q, output, outPattern);
      }
      Expr where = q.where();
      for (Expr on : q.joinConditions()) {
        where = where == null ? on : new Ast.Binary(Ast.BinaryOp.AND, where, on, where.span());
      }
      for (List<Expr> atoms : dnf(where)) {
        VariantBuilder vb = new VariantBuilder(output);
        vb.build(atoms);
        if (problems.stream().anyMatch(p -> p.severity() == Severity.FATAL)) {
          continue;
        }
        String prefix =
            (bucketVersion != null ? bucketVersion + "#" : "")
                + stream.name
                + "|"
                + variants.size();
        List<BucketParameter> parameters = vb.orderedParameters();
        variants.add(
            new StreamPlan.Variant(
                prefix,
                outPattern,
                out.alias(),
                !out.alias().equals(out.nameInSchema()),
                vb.rowFilters,
                parameters,
                vb.requestGates,
                vb.lookupGates,
                List.copyOf(extractors),
                sql,
                vb.sameAs(parameters)));
        if (edition >= 3
            && !stream.acceptDangerous
            && vb.unauthenticated != null
            && !vb.authenticated) {
          // Like dangerous parameter queries: an error unless the compiler was asked for
          // PowerSync's warning.
          String message = Messages.UNAUTHENTICATED_STREAM_PARAMETER;
          problems.add(
              reader.dangerousQueriesAreWarnings()
                  ? SqlProblem.warning(
                      message, vb.unauthenticated.start(), vb.unauthenticated.end())
                  : SqlProblem.fatal(
                      message + " " + Messages.DANGEROUS_QUERY_OPT_IN_STREAM,
                      vb.unauthenticated.start(),
                      vb.unauthenticated.end()));
        }
      }
    }

    /**
     * In a join, an alias on the table the stream selects from renames the synced table, often
     * unintentionally (an alias added to shorten the ON clause): the reference warns unless the
     * alias is quoted (a {@code "} anywhere in the table's FROM text).
     */
    void warnAliasedPrimaryInJoin(Ast.Select q, String output, TablePattern pattern) {
      if (q.from().size() < 2) {
        return;
      }
      for (Ast.FromItem item : q.from()) {
        if (item instanceof Ast.FromTable t && t.alias() != null && t.alias().equals(output)) {
          if (sql.substring(t.span().start(), t.span().end()).contains("\"")) {
            return;
          }
          String table = pattern.tablePattern();
          expressions.warn(Messages.aliasedPrimaryTableInJoin(output, table), t.span());
          return;
        }
      }
    }

    /** The tables of a FROM clause by alias. */
    Map<String, ScopeTable> tables(Ast.Select q) throws QueryException {
      Map<String, ScopeTable> out = new LinkedHashMap<>();
      for (Ast.FromItem item : q.from()) {
        if (item instanceof Ast.FromTable t) {
          if (edition < 3) {
            expressions.checkNameCase(t.name());
          }
          if (t.name().schema() == null
              && stream.ctes.containsKey(t.name().name())
              && !stream.expanding.contains(t.name().name())
              && !stream.unparsable.contains(t.name().name())) {
            // Joined with other tables (alone, cteInFrom inlined it): Syncline would read a table
            // of that name, so it refuses rather than sync the wrong rows.
            usedCtes.add(stream.ctes.get(t.name().name()));
            throw new QueryException(
                SqlProblem.fatal(
                    Messages.CTE_IN_FROM_NOT_SUPPORTED, t.span().start(), t.span().end()));
          }
          TablePattern pattern = TableRefs.pattern(t.name(), defaultSchema);
          String alias = t.alias() != null ? t.alias() : t.name().name();
          if (schema != null && TableRefs.columns(schema, pattern) == null) {
            problems.add(
                SqlProblem.warning(
                    Messages.THIS_TABLE_COULD_NOT_BE_FOUND_IN, t.span().start(), t.span().end()));
          }
          out.put(alias, new ScopeTable(alias, t.name().name(), pattern, null, t.span()));
        } else if (item instanceof Ast.FromCall c) {
          String alias = c.alias() != null ? c.alias() : c.call().name();
          out.put(alias, new ScopeTable(alias, c.call().name(), null, c, c.span()));
        } else {
          throw new QueryException(
              SqlProblem.fatal(
                  Messages.SUBQUERIES_IN_FROM_ARE_NOT_SUPPORTED,
                  item.span().start(),
                  item.span().end()));
        }
      }
      return out;
    }

    /** The alias of the table a result column reads, if it reads exactly one. */
    @Nullable String columnTable(Expr e) {
      if (e instanceof Ast.Ref ref && ref.name().equals("*")) {
        if (ref.table() != null) {
          return scope.containsKey(ref.table().name()) ? ref.table().name() : null;
        }
        List<String> real =
            scope.values().stream()
                .filter(t -> t.pattern() != null)
                .map(ScopeTable::alias)
                .toList();
        return real.size() == 1 ? real.get(0) : null;
      }
      Deps d = deps(e);
      return d.tables.size() == 1 ? d.tables.iterator().next() : null;
    }

    // ---- dependencies and normal form ----

    /** What an expression reads, found without compiling it (and so without reporting problems). */
    static final class Deps {
      final Set<String> tables = new LinkedHashSet<>();
      boolean request;
      boolean subquery;
    }

    Deps deps(@Nullable Expr e) {
      Deps d = new Deps();
      visit(e, d);
      return d;
    }

    private void visit(@Nullable Expr e, Deps d) {
      if (e == null) {
        return;
      }
      if (e instanceof Ast.Ref ref) {
        if (ref.table() != null) {
          if (scope.containsKey(ref.table().name())) {
            d.tables.add(ref.table().name());
          }
        } else if (scope.size() == 1) {
          d.tables.add(scope.keySet().iterator().next());
        } else if (isCte(ref)) {
          d.subquery = true;
        }
      } else if (e instanceof Ast.Call c) {
        String qualifier = c.schema();
        if (qualifier != null
            && edition >= 3
            && !REQUEST_SCHEMAS.contains(qualifier)
            && TableRefs.metadataKey(c.name()) != null) {
          // t.schema() and the like read the row of t (a table-valued function has none)
          ScopeTable t = scope.get(qualifier);
          if (t != null && t.call() == null) {
            d.tables.add(qualifier);
          }
        } else if (qualifier != null) {
          d.request = true;
        }
        c.args().forEach(a -> visit(a, d));
      } else if (e instanceof Ast.Binary b) {
        visit(b.left(), d);
        if ((b.op() == Ast.BinaryOp.IN || b.op() == Ast.BinaryOp.NOT_IN)
            && b.right() instanceof Ast.Ref r
            && isCte(r)) {
          d.subquery = true;
        } else {
          visit(b.right(), d);
        }
      } else if (e instanceof Ast.Unary u) {
        visit(u.operand(), d);
      } else if (e instanceof Ast.Member m) {
        visit(m.operand(), d);
      } else if (e instanceof Ast.Cast c) {
        visit(c.operand(), d);
      } else if (e instanceof Ast.ListExpr l) {
        l.items().forEach(i -> visit(i, d));
      } else if (e instanceof Ast.SubSelect) {
        d.subquery = true;
      } else if (e instanceof Ast.Other o) {
        o.children().forEach(c -> visit(c, d));
      }
    }

    /**
     * Whether a bare name is a common table expression. Not inside its own definition: there, as in
     * the reference, the name is a column.
     */
    boolean isCte(Ast.Ref ref) {
      return ref.table() == null
          && !ref.name().equals("*")
          && stream.ctes.containsKey(ref.name())
          && !stream.expanding.contains(ref.name())
          && !scope.containsKey(ref.name());
    }

    /** Whether an OR can stay one condition: it reads only one table, or only the request. */
    boolean simpleOr(Expr e) {
      Deps d = deps(e);
      return !d.subquery && ((d.tables.size() <= 1 && !d.request) || d.tables.isEmpty());
    }

    /**
     * {@code x NOT IN (SELECT c FROM u ...)}. Edition 3 reads it as NOT over a join with u, one
     * condition reading x's side and u's column: it names u's column as the second thing read, as
     * the reference does. Otherwise (and for common table expressions) negations are refused.
     */
    void negatedSubquery(Ast.Binary b) {
      if (edition >= 3
          && b.right() instanceof Ast.SubSelect s
          && s.select().columns().size() == 1
          && !(s.select().columns().get(0).expr() instanceof Ast.Ref r && r.name().equals("*"))) {
        Expr inner = s.select().columns().get(0).expr();
        Deps left = deps(b.left());
        if (left.tables.size() == 1 && !left.request) {
          ScopeTable t = scope.get(left.tables.iterator().next());
          error(Messages.alreadyReferencesTable(t == null ? "" : t.nameInSchema()), inner.span());
          return;
        } else if (left.tables.isEmpty() && left.request) {
          error(Messages.CONNECTION_PARAMETERS_THEN_ROW_DATA, inner.span());
          return;
        }
      }
      error(Messages.NEGATIONS_ARE_NOT_ALLOWED_HERE, b.span());
    }

    /**
     * A condition reading the row and the request, or two tables, other than by comparing them with
     * =. Edition 3, as the reference: each side of an {@code A = B} (else the whole condition)
     * reads one thing, and each value read that conflicts with the first one is named (request
     * after row, row after request, a second table). Edition 2, as the first compiler: where the
     * compiled expression first mixes them. Otherwise {@code fallback} over the condition.
     */
    void conflictingReads(Expr condition, String fallback) {
      int before = problems.size();
      if (edition >= 3) {
        if (condition instanceof Ast.Binary b && b.op() == Ast.BinaryOp.EQ) {
          reportConflictingReads(b.left());
          reportConflictingReads(b.right());
        } else {
          reportConflictingReads(condition);
        }
      } else {
        compile(condition);
      }
      if (problems.size() == before) {
        error(fallback, condition.span());
      }
    }

    /** Edition 3's check that an expression reads one table or the request (see above). */
    void reportConflictingReads(Expr e) {
      List<Expr> reads = new ArrayList<>();
      dependencies(e, reads);
      String rowTable = null;
      boolean connection = false;
      for (Expr read : reads) {
        if (read instanceof Ast.Call c && isRequestCall(c)) {
          if (rowTable != null) {
            error(Messages.ROW_DATA_THEN_CONNECTION_PARAMETERS, read.span());
          }
          connection = true;
        } else {
          String table = dependencyTable(read);
          if (connection) {
            error(Messages.CONNECTION_PARAMETERS_THEN_ROW_DATA, read.span());
          } else if (rowTable != null && table != null && !rowTable.equals(table)) {
            ScopeTable first = scope.get(rowTable);
            error(
                Messages.alreadyReferencesTable(first == null ? rowTable : first.nameInSchema()),
                read.span());
          }
          if (table != null) {
            rowTable = table;
          }
        }
      }
    }

    boolean isRequestCall(Ast.Call c) {
      return c.schema() != null && REQUEST_SCHEMAS.contains(c.schema());
    }

    /** The values an expression reads, in order: column references and request calls. */
    void dependencies(@Nullable Expr e, List<Expr> out) {
      if (e == null) {
        return;
      }
      if (e instanceof Ast.Ref ref) {
        if (!ref.name().equals("*")) {
          out.add(ref);
        }
      } else if (e instanceof Ast.Call c) {
        if (isRequestCall(c) || (c.schema() != null && TableRefs.metadataKey(c.name()) != null)) {
          out.add(c);
        } else {
          c.args().forEach(a -> dependencies(a, out));
        }
      } else if (e instanceof Ast.Binary b) {
        dependencies(b.left(), out);
        dependencies(b.right(), out);
      } else if (e instanceof Ast.Unary u) {
        dependencies(u.operand(), out);
      } else if (e instanceof Ast.Member m) {
        dependencies(m.operand(), out);
      } else if (e instanceof Ast.Cast c) {
        dependencies(c.operand(), out);
      } else if (e instanceof Ast.ListExpr l) {
        l.items().forEach(i -> dependencies(i, out));
      } else if (e instanceof Ast.Other o) {
        o.children().forEach(c -> dependencies(c, out));
      }
    }

    /** The alias of the table a column reference or metadata call reads, or null. */
    @Nullable String dependencyTable(Expr read) {
      String qualifier =
          read instanceof Ast.Ref ref
              ? (ref.table() == null ? null : ref.table().name())
              : ((Ast.Call) read).schema();
      if (qualifier == null) {
        return scope.size() == 1 ? scope.keySet().iterator().next() : null;
      }
      ScopeTable t = scope.get(qualifier);
      return t == null || (read instanceof Ast.Call && t.call() != null) ? null : qualifier;
    }

    /** The conjunctions of a condition, splitting only ORs that cannot be one condition. */
    List<List<Expr>> dnf(@Nullable Expr e) {
      if (e == null) {
        return List.of(List.of());
      }
      if (e instanceof Ast.Binary b && b.op() == Ast.BinaryOp.AND) {
        List<List<Expr>> out = new ArrayList<>();
        for (List<Expr> l : dnf(b.left())) {
          for (List<Expr> r : dnf(b.right())) {
            List<Expr> both = new ArrayList<>(l);
            both.addAll(r);
            out.add(both);
          }
        }
        return out;
      }
      if (e instanceof Ast.Binary b && b.op() == Ast.BinaryOp.OR && !simpleOr(e)) {
        List<List<Expr>> out = new ArrayList<>(dnf(b.left()));
        out.addAll(dnf(b.right()));
        return out;
      }
      return List.of(List.of(e));
    }

    /** The conjuncts of a condition that must not contain ORs mixing tables with the request. */
    List<Expr> conjuncts(@Nullable Expr e) {
      List<Expr> out = new ArrayList<>();
      if (e == null) {
        return out;
      }
      if (e instanceof Ast.Binary b && b.op() == Ast.BinaryOp.AND) {
        out.addAll(conjuncts(b.left()));
        out.addAll(conjuncts(b.right()));
      } else if (e instanceof Ast.Binary b && b.op() == Ast.BinaryOp.OR && !simpleOr(e)) {
        problems.add(
            SqlProblem.fatal(
                Messages.STREAM_SUBQUERIES_CAN_T_USE_OR_FILTERS, e.span().start(), e.span().end()));
      } else {
        out.add(e);
      }
      return out;
    }

    /** For {@code x IN (SELECT ...)} or {@code x IN cte}: the subquery; else null. */
    @Nullable Object subqueryOf(Expr atom) {
      if (atom instanceof Ast.Binary b
          && (b.op() == Ast.BinaryOp.IN || b.op() == Ast.BinaryOp.NOT_IN)) {
        if (b.right() instanceof Ast.SubSelect s) {
          return s;
        }
        if (b.right() instanceof Ast.Ref r && isCte(r)) {
          return r;
        }
      }
      return null;
    }

    // ---- variants ----

    /** Collects the parts of one conjunction of the stream query. */
    final class VariantBuilder {
      final String output;
      final List<Ev> rowFilters = new ArrayList<>();
      final List<Ev> requestGates = new ArrayList<>();
      final List<LookupNode> lookupGates = new ArrayList<>();
      final List<BucketParameter> requestParameters = new ArrayList<>();
      final List<BucketParameter> lookupParameters = new ArrayList<>();

      /**
       * The reference's order hash of parameters whose row side this compiler can render as the
       * reference does (see ReferenceSql).
       */
      final IdentityHashMap<BucketParameter, List<String>> rowKeys = new IdentityHashMap<>();

      /**
       * For each ordered parameter, the index of an earlier one with the same row expression
       * (compared with another request value or look-up result), or -1; edition 3 only.
       */
      List<Integer> sameAs(List<BucketParameter> ordered) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < ordered.size(); i++) {
          int same = -1;
          List<String> key = edition >= 3 ? rowKeys.get(ordered.get(i)) : null;
          for (int j = 0; j < i && same < 0 && key != null; j++) {
            if (key.equals(rowKeys.get(ordered.get(j)))) {
              same = j;
            }
          }
          out.add(same);
        }
        return out;
      }

      /** Notes the row side of a scalar parameter, for the reference's parameter order. */
      void noteRowSide(BucketParameter p, Expr row) {
        List<String> key = p.rowExpands() ? null : ReferenceSql.key(row);
        if (key != null) {
          rowKeys.put(p, key);
        }
      }

      final List<Expr> joinAtoms = new ArrayList<>();

      /** Join conditions turned into look-ups; any other is an error (never silently dropped). */
      final Set<Expr> consumed = Collections.newSetFromMap(new IdentityHashMap<>());

      boolean authenticated;
      Ast.@Nullable Span unauthenticated;

      VariantBuilder(String output) {
        this.output = output;
      }

      /**
       * Bucket parameters in id order: request values first, then look-up results, each group
       * last-first.
       */
      List<BucketParameter> orderedParameters() {
        List<BucketParameter> all = new ArrayList<>(requestParameters);
        all.addAll(lookupParameters);
        if (edition >= 3 && rowKeys.keySet().containsAll(all)) {
          // The reference orders parameters by the stable hash of their row expressions (one
          // expression compared with several sources is one parameter: see sameAs).
          all.sort(
              Comparator.comparingInt(
                  p -> ReferenceSql.orderHash(Objects.requireNonNull(rowKeys.get(p)))));
          return List.copyOf(all);
        }
        List<BucketParameter> out = new ArrayList<>(requestParameters);
        Collections.reverse(out);
        List<BucketParameter> lookups = new ArrayList<>(lookupParameters);
        Collections.reverse(lookups);
        out.addAll(lookups);
        return List.copyOf(out);
      }

      void use(CExpr e) {
        authenticated |= e.auth;
        if (e.unauthenticated != null && unauthenticated == null) {
          unauthenticated = e.unauthenticated;
        }
        usesSubscriptionParameters |= e.subscription;
      }

      void build(List<Expr> atoms) {
        for (Expr atom : atoms) {
          if (atom instanceof Ast.Unary u && u.op() == Ast.UnaryOp.NOT) {
            Deps d = deps(u.operand());
            if (edition >= 3 && !d.subquery && !d.tables.isEmpty() && d.request) {
              // Edition 3 reads NOT (row = request) as one condition mixing the two.
              conflictingReads(atom, Messages.NEGATIONS_ARE_NOT_ALLOWED_HERE);
              continue;
            }
            if (d.subquery || (!d.tables.isEmpty() && d.request)) {
              // The reference's span of "x IN (SELECT ...)" ends with the subquery's last token,
              // inside the ")".
              int end =
                  u.operand() instanceof Ast.Binary b && b.right() instanceof Ast.SubSelect s
                      ? s.select().span().end()
                      : atom.span().end();
              error(
                  Messages.NEGATIONS_ARE_NOT_ALLOWED_HERE, new Ast.Span(atom.span().start(), end));
              continue;
            }
          }
          Object sub = subqueryOf(atom);
          if (sub != null) {
            Ast.Binary b = (Ast.Binary) atom;
            if (b.op() == Ast.BinaryOp.NOT_IN) {
              negatedSubquery(b);
              continue;
            }
            Deps ld = deps(b.left());
            if (ld.subquery) {
              error(Messages.UNSUPPORTED_SUBQUERY, b.left().span());
            } else if (ld.tables.equals(Set.of(output)) && !ld.request) {
              CExpr left = compile(b.left());
              Source source = subquery(sub, null, this);
              if (!left.error && source != null) {
                BucketParameter p = new BucketParameter(left.ev, false, source, left.text);
                noteRowSide(p, b.left());
                add(p);
              }
            } else if (ld.tables.isEmpty() && ld.request) {
              CExpr left = compile(b.left());
              use(left);
              Source source = subquery(sub, new RequestValue(left.ev, left.text), this);
              if (source instanceof LookupOutput o) {
                lookupGates.add(o.node());
              } else if (source instanceof RequestArray array) {
                Ev l = left.ev;
                requestGates.add(
                    (Map<String, @Nullable Object> row, @Nullable StreamRequest r) ->
                        SqlValues.operator("IN", l.eval(row, r), array.ev().eval(row, r)));
              }
            } else if (ld.tables.isEmpty()) {
              error(Messages.IN_SUBQUERY_LEFT_OPERAND, b.left().span());
            } else if (!ld.tables.contains(output) && ld.tables.size() == 1) {
              joinAtoms.add(atom);
            } else {
              error(Messages.UNSUPPORTED_SUBQUERY_FILTER, atom.span());
            }
            continue;
          }
          if (edition >= 3 && jsonEachJoin(atom)) {
            continue;
          }
          Deps d = deps(atom);
          if (!d.tables.isEmpty() && !d.tables.equals(Set.of(output))) {
            joinAtoms.add(atom);
          } else if (d.tables.isEmpty()) {
            CExpr c = compile(atom);
            use(c);
            requestGates.add(c.ev);
          } else if (!d.request) {
            rowFilters.add(compileCondition(atom).ev);
          } else {
            BucketParameter p = match(atom, output, this);
            if (p != null) {
              add(p);
            }
          }
        }
        if (!joinAtoms.isEmpty()) {
          joins();
        }
      }

      /**
       * {@code row = j.value} with {@code json_each(request_value) AS j} in FROM: the row value is
       * one of the request array's elements, as {@code row IN request_value} (edition 3).
       */
      boolean jsonEachJoin(Expr atom) {
        if (!(atom instanceof Ast.Binary b) || b.op() != Ast.BinaryOp.EQ) {
          return false;
        }
        Ast.Call each = jsonEachValue(b.left());
        Expr rowSide = b.right();
        if (each == null) {
          each = jsonEachValue(b.right());
          rowSide = b.left();
        }
        if (each == null) {
          return false;
        }
        Deps rd = deps(rowSide);
        Deps ad = deps(each.args().get(0));
        if (!rd.tables.equals(Set.of(output)) || rd.request || !ad.tables.isEmpty()) {
          return false;
        }
        CExpr row = compile(rowSide);
        CExpr array = compile(each.args().get(0));
        if (row.error || array.error) {
          return true;
        }
        use(array);
        BucketParameter p =
            new BucketParameter(row.ev, false, new RequestArray(array.ev, array.text), row.text);
        noteRowSide(p, rowSide);
        add(p);
        return true;
      }

      /** The {@code json_each(x)} call of FROM a reference {@code j.value} reads, or null. */
      Ast.@Nullable Call jsonEachValue(Expr e) {
        if (!(e instanceof Ast.Ref ref) || !ref.name().equals("value") || ref.table() == null) {
          return null;
        }
        ScopeTable t = scope.get(ref.table().name());
        if (t == null || t.call() == null) {
          return null;
        }
        Ast.Call call = t.call().call();
        return call.schema() == null
                && call.name().equalsIgnoreCase("json_each")
                && call.args().size() == 1
            ? call
            : null;
      }

      void add(BucketParameter p) {
        if (p.source() instanceof LookupOutput) {
          lookupParameters.add(p);
        } else {
          requestParameters.add(p);
        }
      }

      /** Turns the conditions on joined tables into look-ups. */
      void joins() {
        Set<String> visited = new LinkedHashSet<>();
        visited.add(output);
        Map<String, List<Expr>> links = new LinkedHashMap<>();
        for (Expr atom : joinAtoms) {
          Deps d = deps(atom);
          if (d.tables.size() == 2 && d.tables.contains(output) && !d.request) {
            String other =
                d.tables.stream().filter(t -> !t.equals(output)).findFirst().orElseThrow();
            links.computeIfAbsent(other, k -> new ArrayList<>()).add(atom);
          }
        }
        for (Map.Entry<String, List<Expr>> e : links.entrySet()) {
          if (visited.contains(e.getKey())) {
            continue;
          }
          List<CExpr> parentSides = new ArrayList<>();
          LookupNode node = joinNode(e.getKey(), output, e.getValue(), parentSides, visited);
          if (node == null) {
            continue;
          }
          for (int i = 0; i < parentSides.size(); i++) {
            CExpr side = parentSides.get(i);
            add(new BucketParameter(side.ev, false, new LookupOutput(node, i), side.text));
          }
        }
        // Joined tables with conditions but no link to the output table gate the request.
        for (Expr atom : joinAtoms) {
          Deps d = deps(atom);
          for (String t : d.tables) {
            if (!visited.contains(t)) {
              LookupNode gate = joinNode(t, null, List.of(), new ArrayList<>(), visited);
              if (gate != null) {
                lookupGates.add(gate);
              }
            }
          }
        }
        for (Expr atom : joinAtoms) {
          if (!consumed.contains(atom)) {
            conflictingReads(atom, Messages.UNSUPPORTED_JOIN_CONDITION);
          }
        }
      }

      /**
       * The look-up of joined table {@code alias}: keyed by its conditions on the request and its
       * links to tables further away, holding the columns linked to {@code parent}.
       */
      @Nullable LookupNode joinNode(
          String alias,
          @Nullable String parent,
          List<Expr> parentLinks,
          List<CExpr> parentSides,
          Set<String> visited) {
        visited.add(alias);
        ScopeTable table = Objects.requireNonNull(scope.get(alias), "the alias is in scope");
        if (table.pattern() == null) {
          error(Messages.SYNC_STREAMS_CAN_ONLY_SELECT_FROM_ACTUAL, table.span());
          return null;
        }
        List<CExpr> outputs = new ArrayList<>();
        for (Expr link : parentLinks) {
          consumed.add(link);
          if (!(link instanceof Ast.Binary b && b.op() == Ast.BinaryOp.EQ)) {
            conflictingReads(link, Messages.TABLES_CAN_ONLY_BE_JOINED_WITH_EQUALITY);
            continue;
          }
          Deps left = deps(b.left());
          boolean leftIsThis = left.tables.equals(Set.of(alias));
          CExpr mine = compile(leftIsThis ? b.left() : b.right());
          CExpr theirs = compile(leftIsThis ? b.right() : b.left());
          if (mine.error || theirs.error) {
            continue;
          }
          if (!mine.tables.equals(Set.of(alias)) || !theirs.tables.equals(Set.of(parent))) {
            conflictingReads(link, Messages.TABLES_CAN_ONLY_BE_JOINED_WITH_EQUALITY);
            continue;
          }
          outputs.add(mine);
          parentSides.add(theirs);
        }
        List<CExpr> filters = new ArrayList<>();
        List<KeyPart> keys = new ArrayList<>();
        Map<String, List<Expr>> childLinks = new LinkedHashMap<>();
        for (Expr atom : joinAtoms) {
          Deps d = deps(atom);
          Object sub = subqueryOf(atom);
          if (d.tables.equals(Set.of(alias))
              || (sub != null && deps(((Ast.Binary) atom).left()).tables.equals(Set.of(alias)))) {
            consumed.add(atom);
            tableCondition(atom, alias, filters, keys, this);
          } else if (d.tables.size() == 2
              && d.tables.contains(alias)
              && !d.request
              && (parent == null || !d.tables.contains(parent))) {
            String other =
                d.tables.stream().filter(t -> !t.equals(alias)).findFirst().orElseThrow();
            if (!visited.contains(other)) {
              childLinks.computeIfAbsent(other, k -> new ArrayList<>()).add(atom);
            }
          }
        }
        for (Map.Entry<String, List<Expr>> e : childLinks.entrySet()) {
          List<CExpr> mySides = new ArrayList<>();
          LookupNode child = joinNode(e.getKey(), alias, e.getValue(), mySides, visited);
          if (child == null) {
            continue;
          }
          for (int i = 0; i < mySides.size(); i++) {
            keys.add(
                new KeyPart(mySides.get(i).ev, new LookupOutput(child, i), mySides.get(i).text));
          }
        }
        if (filters.isEmpty() && keys.isEmpty() && outputs.isEmpty()) {
          return null;
        }
        return stream.lookup(table.pattern(), alias, filters, keys, outputs);
      }
    }

    /**
     * A condition comparing the output row with the request: {@code row = request}, {@code row IN
     * request_array}, {@code request IN row_array}, {@code row_array && request_array}.
     */
    @SuppressWarnings("ReferenceEquality") // identity: which side of this comparison is the row
    @Nullable BucketParameter match(Expr atom, String table, VariantBuilder vb) {
      if (!(atom instanceof Ast.Binary b)
          || !EnumSet.of(Ast.BinaryOp.EQ, Ast.BinaryOp.IN, Ast.BinaryOp.OVERLAPS)
              .contains(b.op())) {
        conflictingReads(atom, Messages.CANNOT_USE_TABLE_VALUES_AND_PARAMETERS_IN);
        return null;
      }
      CExpr l = compile(b.left());
      CExpr r = compile(b.right());
      if (l.error || r.error) {
        return null;
      }
      boolean rowLeft = l.tables.equals(Set.of(table)) && !l.request;
      boolean rowRight = r.tables.equals(Set.of(table)) && !r.request;
      boolean requestLeft = l.tables.isEmpty();
      boolean requestRight = r.tables.isEmpty();
      CExpr row;
      CExpr request;
      if (rowLeft && requestRight) {
        row = l;
        request = r;
      } else if (requestLeft && rowRight) {
        row = r;
        request = l;
      } else {
        error(Messages.CANNOT_USE_TABLE_VALUES_AND_PARAMETERS_IN, atom.span());
        return null;
      }
      vb.use(request);
      BucketParameter p =
          switch (b.op()) {
            case EQ ->
                new BucketParameter(
                    row.ev, false, new RequestValue(request.ev, request.text), row.text);
            case IN ->
                row == l
                    ? new BucketParameter(
                        row.ev, false, new RequestArray(request.ev, request.text), row.text)
                    : new BucketParameter(
                        row.ev, true, new RequestValue(request.ev, request.text), row.text);
            default ->
                new BucketParameter(
                    row.ev, true, new RequestArray(request.ev, request.text), row.text);
          };
      vb.noteRowSide(p, row == l ? b.left() : b.right());
      return p;
    }

    /** A condition on a look-up table alone (or with the request): a filter or a key. */
    void tableCondition(
        Expr atom, String alias, List<CExpr> filters, List<KeyPart> keys, VariantBuilder vb) {
      Object sub = subqueryOf(atom);
      if (sub != null) {
        Ast.Binary b = (Ast.Binary) atom;
        if (b.op() == Ast.BinaryOp.NOT_IN) {
          error(Messages.NEGATIONS_ARE_NOT_ALLOWED_HERE, atom.span());
          return;
        }
        CExpr left = compile(b.left());
        Source source = subquery(sub, null, vb);
        if (!left.error && source != null) {
          keys.add(new KeyPart(left.ev, source, left.text));
        }
        return;
      }
      Deps d = deps(atom);
      if (!d.request) {
        // a WHERE condition of the look-up's query: x [NOT] IN value reads the value as JSON
        CExpr c = compileCondition(atom);
        if (!c.error) {
          filters.add(c);
        }
        return;
      }
      BucketParameter p = match(atom, alias, vb);
      if (p == null) {
        return;
      }
      if (p.rowExpands()) {
        error(Messages.LOOK_UPS_CANNOT_EXPAND_ARRAYS_OF_THE, atom.span());
        return;
      }
      keys.add(new KeyPart(p.row(), p.source(), p.rowText()));
    }

    /**
     * Compiles {@code x IN (SELECT ...)} (or a common table expression): a look-up holding the
     * selected column, or, for {@code SELECT value FROM json_each(request_value)}, the request
     * array itself. With {@code gate} set, the selected column is compared with it instead (a key),
     * and the look-up holds nothing.
     */
    @SuppressWarnings("ReferenceEquality") // identity: the very expression compiled for this query
    @Nullable Source subquery(Object sub, @Nullable RequestValue gate, VariantBuilder vb) {
      QueryCompiler inner;
      Ast.Select q;
      if (sub instanceof Ast.SubSelect s) {
        inner = nested();
        q = s.select();
      } else {
        Ast.Ref ref = (Ast.Ref) sub;
        Cte cte =
            Objects.requireNonNull(stream.ctes.get(ref.name()), "a subquery reference names a CTE");
        usedCtes.add(cte);
        // Inside its own definition the name is a column (see isCte): no expansion loops.
        stream.expanding.add(ref.name());
        inner = new QueryCompiler(stream, cte.sql(), cte.scalar());
        inner.cteRef = ref;
        try {
          q =
              stream.parsedCtes.containsKey(cte.sql())
                  ? stream.parsedCtes.get(cte.sql())
                  : inner.parse();
          stream.parsedCtes.put(cte.sql(), q);
        } catch (QueryException e) {
          // Reported where the common table expression is written, as the reference does.
          stream.expanding.remove(ref.name());
          reportCte(cte, List.of(e.problem));
          return null;
        }
      }
      Source result;
      try {
        result = inner.subqueryBody(q, gate, vb, span());
      } catch (QueryException e) {
        inner.problems.add(e.problem);
        result = null;
      } finally {
        if (sub instanceof Ast.Ref ref) {
          stream.expanding.remove(ref.name());
        }
      }
      usesSubscriptionParameters |= inner.usesSubscriptionParameters;
      inner.moveCteProblems();
      if (inner.scalar == scalar) {
        problems.addAll(inner.problems);
      } else if (!inner.problems.isEmpty()) {
        reportCte(Objects.requireNonNull(stream.ctes.get(((Ast.Ref) sub).name())), inner.problems);
      }
      if (inner.cteColumnsWrong) {
        error(Messages.CTE_MUST_RETURN_A_SINGLE_COLUMN, ((Ast.Ref) sub).span());
      }
      return result;
    }

    Ast.Span span() {
      return new Ast.Span(0, length);
    }

    /** The query's own text (without appended common table expressions). */
    String ownText() {
      return sql.substring(0, length);
    }

    @Nullable Source subqueryBody(
        Ast.Select q, @Nullable RequestValue gate, VariantBuilder outer, Ast.Span outerQuery)
        throws QueryException {
      if (edition >= 3) {
        q = InlineViews.inline(cteInFrom(q), this::error);
      }
      problems.addAll(QuerySupport.unsupportedFeatures(ownText(), q));
      if (q.from().size() != 1) {
        throw new QueryException(
            SqlProblem.fatal(
                Messages.SUBQUERIES_MUST_SELECT_FROM_A_SINGLE_TABLE,
                q.span().start(),
                q.span().end()));
      }
      scope = tables(q);
      ScopeTable table = scope.values().iterator().next();
      if (edition >= 3) {
        // A subquery's one column is an expression; a common table expression's columns are
        // expressions (each * refused where it is) and, used as IN's list, there is one.
        int expressions = 0;
        for (Ast.Column c : q.columns()) {
          if (c.expr() instanceof Ast.Ref r && r.name().equals("*")) {
            if (cteRef != null) {
              error(Messages.STAR_NOT_ALLOWED_IN_SUBQUERIES, r.span());
            }
          } else {
            expressions++;
          }
        }
        if (expressions != 1 || q.columns().size() != 1) {
          if (cteRef != null) {
            cteColumnsWrong = expressions != 1;
            return null;
          }
          throw new QueryException(
              SqlProblem.fatal(
                  Messages.MUST_RETURN_A_SINGLE_EXPRESSION_COLUMN,
                  q.span().start(),
                  q.span().end()));
        }
      }
      if (q.columns().size() != 1) {
        if (edition < 3) {
          throw new QueryException(
              SqlProblem.fatal(
                  Messages.UNSUPPORTED_SUBQUERY_WITHOUT_PARAMETER,
                  outerQuery.start(),
                  outerQuery.end()));
        }
        throw new QueryException(
            SqlProblem.fatal(
                Messages.SUBQUERIES_MUST_RETURN_EXACTLY_ONE_COLUMN,
                q.span().start(),
                q.span().end()));
      }
      Ast.Column column = q.columns().get(0);
      if (table.call() != null) {
        Ast.Call call = table.call().call();
        if (!call.name().equals("json_each")
            || call.args().size() != 1
            || q.where() != null
            || !(column.expr() instanceof Ast.Ref ref)
            || !ref.name().equals("value")) {
          throw new QueryException(
              SqlProblem.fatal(
                  Messages.SYNC_STREAMS_CAN_ONLY_SELECT_FROM_ACTUAL,
                  table.span().start(),
                  table.span().end()));
        }
        scope = Map.of();
        CExpr array = compile(call.args().get(0));
        if (array.error) {
          return null;
        }
        if (!array.tables.isEmpty()) {
          error(Messages.JSON_EACH_CAN_ONLY_READ_REQUEST_VALUES, call.span());
          return null;
        }
        outer.use(array);
        return new RequestArray(array.ev, array.text);
      }
      CExpr selected = compile(column.expr());
      if (selected.error) {
        return null;
      }
      if (selected.request) {
        error(Messages.SUBQUERIES_MUST_SELECT_A_COLUMN_OF_THEIR, column.expr().span());
        return null;
      }
      List<CExpr> filters = new ArrayList<>();
      List<KeyPart> keys = new ArrayList<>();
      List<CExpr> outputs = new ArrayList<>();
      if (gate != null) {
        keys.add(new KeyPart(selected.ev, gate, selected.text));
      } else {
        outputs.add(selected);
      }
      VariantBuilder vb = new VariantBuilder(table.alias());
      for (Expr atom : conjuncts(q.where())) {
        tableCondition(atom, table.alias(), filters, keys, vb);
      }
      outer.authenticated |= vb.authenticated;
      if (outer.unauthenticated == null) {
        outer.unauthenticated = vb.unauthenticated;
      }
      if (edition < 3
          && gate == null
          && keys.isEmpty()
          && problems.stream().noneMatch(p -> p.severity() == Severity.FATAL)) {
        throw new QueryException(
            SqlProblem.fatal(
                Messages.UNSUPPORTED_SUBQUERY_WITHOUT_PARAMETER,
                outerQuery.start(),
                outerQuery.end()));
      }
      if (problems.stream().anyMatch(p -> p.severity() == Severity.FATAL)) {
        return null;
      }
      LookupNode node =
          stream.lookup(
              Objects.requireNonNull(table.pattern(), "checked above"),
              table.alias(),
              filters,
              keys,
              outputs);
      return new LookupOutput(node, 0);
    }

    // ---- expressions ----

    /** Created once {@link #sql} is set (it reads it). */
    final Expressions expressions;

    CExpr compile(Expr e) {
      return expressions.compile(e);
    }

    /** The top-level condition of WHERE being compiled by {@link #compileCondition}, or null. */
    @Nullable Expr topCondition;

    /**
     * Compiles a top-level condition of WHERE on the output row: there the reference also takes
     * {@code x [NOT] IN value}, reading the value as JSON.
     */
    CExpr compileCondition(Expr atom) {
      topCondition = atom;
      try {
        return compile(atom);
      } finally {
        topCondition = null;
      }
    }

    Ast.Span nameSpan(Ast.Call c) {
      int start = c.span().start();
      int length = (c.schema() != null ? c.schema().length() + 1 : 0) + c.name().length();
      return new Ast.Span(start, Math.min(start + length, c.span().end()));
    }

    /**
     * The expressions of a stream query: each knows the tables, request values and
     * client-controlled values it depends on; a combination of only constants is evaluated at
     * compile time.
     */
    final class Expressions extends ExpressionCompiler<CExpr> {
      Expressions() {
        super(
            StreamCompiler.this.functions,
            exactIntegers,
            QueryCompiler.this.sql,
            QueryCompiler.this.problems);
      }

      @Override
      CExpr constant(@Nullable Object value, Ast.Node at) {
        return new CExpr((r, q) -> value, Set.of(), false, false, null, false, text(at), false);
      }

      @Override
      CExpr error(String message, Ast.Span at) {
        return QueryCompiler.this.error(message, at);
      }

      @Override
      boolean failed(CExpr compiled) {
        return compiled.error;
      }

      // Edition-2 ("alpha") streams compile expressions with the reference's first compiler, as
      // bucket definitions do; edition 3 has a compiler of its own, with other rules and messages.

      @Override
      boolean checksNodeFirst() {
        return edition >= 3;
      }

      @Override
      boolean notEqualIsNotEqual() {
        return edition >= 3;
      }

      @Override
      boolean supportsConditionals() {
        return edition >= 3;
      }

      @Override
      boolean numericMembers() {
        return edition >= 3;
      }

      @Override
      @Nullable String refusal(Ast.BinaryOp op) {
        if (edition < 3) {
          return legacyRefusal(op);
        }
        return switch (op) {
          case LIKE, NOT_LIKE -> Messages.LIKE_NOT_SUPPORTED;
          case AND,
              OR,
              EQ,
              NE,
              LT,
              GT,
              LE,
              GE,
              ADD,
              SUBTRACT,
              MULTIPLY,
              DIVIDE,
              MODULO,
              BIT_AND,
              BIT_OR,
              SHIFT_LEFT,
              SHIFT_RIGHT,
              CONCAT,
              OVERLAPS,
              JSON,
              JSON_TEXT,
              IN,
              NOT_IN ->
              null;
          default -> Messages.UNSUPPORTED_BINARY_OPERATOR;
        };
      }

      @Override
      @Nullable String refusal(Ast.UnaryOp op) {
        if (edition < 3) {
          return legacyRefusal(op);
        }
        return op == Ast.UnaryOp.NEGATE ? Messages.UNARY_MINUS_NOT_SUPPORTED : null;
      }

      @Override
      @Nullable String arityProblem(Ast.Call call, SqlFunction fn) {
        if (edition < 3) {
          return null; // the first compiler checks no argument count (see withArity)
        }
        Arity allowed = EDITION_3_FUNCTIONS.get(call.name().toLowerCase(Locale.ROOT));
        int n = call.args().size();
        if (allowed == null) {
          return null; // refused before, as unknown
        } else if (n < allowed.min()) {
          return Messages.expectedAtLeastArguments(allowed.min());
        } else if (allowed.max() >= 0 && n > allowed.max()) {
          return Messages.expectedAtMostArguments(allowed.max());
        }
        return null;
      }

      @Override
      @Nullable CExpr refuseCall(Ast.Call c) {
        if (edition < 3) {
          return null; // the first compiler: unknown functions (random() too) are "not defined"
        }
        if (c.distinct()) {
          return error(Messages.DISTINCT_ORDER_BY_FILTER_AND_OVER_CLAUSES, nameSpan(c));
        }
        String name = c.name().toLowerCase(Locale.ROOT);
        if (name.equals("random") || name.equals("randomblob")) {
          return error(Messages.FORBIDDEN_CALL_SYNC_DEFINITIONS_MUST_BE_DETERMINISTIC, nameSpan(c));
        } else if (!EDITION_3_FUNCTIONS.containsKey(name)) {
          return error(Messages.UNKNOWN_FUNCTION, nameSpan(c));
        }
        return null;
      }

      @Override
      SqlFunction binaryFunction(Ast.BinaryOp op) {
        if (EVALUATOR_LACKS.contains(op)) {
          // Edition 3 compiles these, but the reference's evaluator has no such operator: every
          // row fails.
          String message = Messages.operatorNotSupported(op.sql());
          return new SqlFunction(
              "operator" + op.sql(),
              2,
              2,
              a -> {
                throw new IllegalArgumentException(message);
              });
        }
        return super.binaryFunction(op);
      }

      @Override
      CExpr castRefused(Ast.Cast c, String to) {
        return edition >= 3
            ? error(Messages.INVALID_SQLITE_CAST, c.typeSpan())
            : super.castRefused(c, to);
      }

      @Override
      CExpr unsupported(Expr e) {
        if (edition < 3) {
          return super.unsupported(e);
        } else if (e instanceof Ast.Other o && o.kind() == Ast.OtherKind.EXISTS) {
          return error(
              Messages.UNKNOWN_FUNCTION, new Ast.Span(e.span().start(), e.span().start() + 6));
        } else if (e instanceof Ast.Other o && o.kind() == Ast.OtherKind.PARAMETER) {
          return error(Messages.SQL_PARAMETERS_NOT_ALLOWED, e.span());
        }
        return error(Messages.THIS_EXPRESSION_IS_NOT_SUPPORTED_BY_POWERSYNC, e.span());
      }

      @Override
      CExpr subquery(Ast.SubSelect s) {
        return edition >= 3
            ? error(Messages.INVALID_POSITION_FOR_SUBQUERIES_SUBQUERIES_ARE_ONLY, s.span())
            : super.subquery(s);
      }

      /** Combines sub-expressions with a function of their values; constant when they all are. */
      @Override
      CExpr apply(Ast.Node at, SqlFunction fn, List<CExpr> args, List<Expr> argExprs) {
        Set<String> tables = new LinkedHashSet<>();
        boolean request = false;
        boolean auth = false;
        boolean subscription = false;
        Ast.Span unauth = null;
        for (CExpr a : args) {
          if (a.error) {
            return a;
          }
          tables.addAll(a.tables);
          request |= a.request;
          auth |= a.auth;
          subscription |= a.subscription;
          if (unauth == null) {
            unauth = a.unauthenticated;
          }
        }
        if (!tables.isEmpty() && request) {
          if (edition >= 3 && at instanceof Expr e) {
            reportConflictingReads(e);
            return new CExpr((r, q) -> null, Set.of(), false, false, null, false, "", true);
          }
          // The first compiler: at the operand that first mixes the two.
          boolean rowSeen = false;
          boolean requestSeen = false;
          for (int i = 0; i < args.size(); i++) {
            CExpr a = args.get(i);
            boolean row = !a.tables.isEmpty();
            if ((row && requestSeen) || (a.request && rowSeen)) {
              return error(
                  Messages.CANNOT_USE_TABLE_VALUES_AND_PARAMETERS_IN, argExprs.get(i).span());
            }
            rowSeen |= row;
            requestSeen |= a.request;
          }
          return error(Messages.CANNOT_USE_TABLE_VALUES_AND_PARAMETERS_IN, at.span());
        }
        int n = args.size();
        Ev[] evs = args.stream().map(a -> a.ev).toArray(Ev[]::new);
        Ev ev;
        if (n == 1) {
          Ev a = evs[0];
          ev = (row, r) -> fn.call(a.eval(row, r));
        } else if (n == 2) {
          Ev a = evs[0];
          Ev b = evs[1];
          ev = (row, r) -> fn.call(a.eval(row, r), b.eval(row, r));
        } else {
          ev =
              (row, r) -> {
                @Nullable Object[] values = new Object[n];
                for (int i = 0; i < n; i++) {
                  values[i] = evs[i].eval(row, r);
                }
                return fn.call(values);
              };
        }
        if (tables.isEmpty() && !request) {
          try {
            Object value = ev.eval(Map.of(), null);
            return constant(value, at);
          } catch (RuntimeException e) {
            if (edition >= 3) {
              // Edition 3 evaluates no expression while compiling: this one fails on every row.
              return new CExpr(ev, Set.of(), false, false, null, false, text(at), false);
            }
            throw new StaticEvaluationException(String.valueOf(e.getMessage()));
          }
        }
        return new CExpr(
            ev, Set.copyOf(tables), request, auth, unauth, subscription, text(at), false);
      }

      @Override
      CExpr column(Ast.Ref ref) {
        if (edition < 3) {
          checkRefCase(ref); // the first compiler's warnings
        }
        if (ref.name().equals("*")) {
          return error(Messages.COLUMNS_ARE_NOT_SUPPORTED_HERE, ref.span());
        }
        ScopeTable table;
        if (ref.table() != null) {
          if (ref.table().schema() != null && edition < 3) {
            return error(Messages.SCHEMA_IS_NOT_SUPPORTED_IN_COLUMN_REFERENCES, ref.span());
          }
          // Edition 3 resolves "schema.table.column" by the table's name.
          table = scope.get(ref.table().name());
          if (table == null) {
            return edition >= 3
                ? error(Messages.tableNotInFrom(ref.table().name()), ref.span())
                : error(
                    Messages.undefinedReference(ref.table().name() + "." + ref.name()), ref.span());
          }
        } else if (scope.size() == 1) {
          table = scope.values().iterator().next();
        } else if (scope.isEmpty() && edition < 3) {
          return error(Messages.undefinedReference(ref.name()), ref.span());
        } else {
          return error(
              Messages.INVALID_UNQUALIFIED_REFERENCE_SINCE_MULTIPLE_TABLES_ARE, ref.span());
        }
        if (table.call() != null) {
          return error(Messages.SYNC_STREAMS_CAN_ONLY_SELECT_FROM_ACTUAL, ref.span());
        }
        if (schema != null && table.pattern() != null) {
          List<String> columns = TableRefs.columns(schema, table.pattern());
          if (columns != null && !columns.contains(ref.name())) {
            // the first compiler names the column, edition 3's does not
            warn(
                edition >= 3 ? Messages.COLUMN_NOT_FOUND : Messages.columnNotFound(ref.name()),
                ref.span());
          }
        }
        String column = ref.name();
        return new CExpr(
            (row, r) -> row.get(column),
            Set.of(table.alias()),
            false,
            false,
            null,
            false,
            text(ref),
            false);
      }

      @Override
      CExpr binary(Ast.Binary b) {
        Ast.BinaryOp op = b.op();
        if (op != Ast.BinaryOp.IN && op != Ast.BinaryOp.NOT_IN) {
          return super.binary(b);
        }
        if (b.right() instanceof Ast.SubSelect || (b.right() instanceof Ast.Ref r && isCte(r))) {
          return error(Messages.SUBQUERIES_ARE_ONLY_SUPPORTED_IN_TOP_LEVEL, b.span());
        }
        boolean negated = op == Ast.BinaryOp.NOT_IN;
        boolean condition = b == topCondition;
        if (edition < 3) {
          if (negated && condition && !(b.right() instanceof Ast.ListExpr)) {
            return notInJsonArray(b, compile(b.left()), compile(b.right()));
          }
          return super.binary(b);
        }
        CExpr left = compile(b.left());
        List<Expr> values = scalarValues(b.right());
        if (values != null) {
          return scalarIn(b, left, values, negated);
        }
        if (b.right() instanceof Ast.ListExpr list) {
          // The reference reads "x IN (a, b)" as "x IN json_each((a, b))": a list is no value and,
          // outside a WHERE condition, json_each no table it can select from.
          CExpr failed = error(Messages.THIS_EXPRESSION_IS_NOT_SUPPORTED_BY_POWERSYNC, list.span());
          if (!negated && !condition) {
            error(Messages.SYNC_STREAMS_CAN_ONLY_SELECT_FROM_ACTUAL, list.span());
          }
          return failed;
        }
        CExpr right = compile(b.right());
        if (negated) {
          return notInJsonArray(b, left, right);
        } else if (!condition) {
          // "x IN y" is "x IN (SELECT value FROM json_each(y))": outside a WHERE condition,
          // json_each is no table a stream can select from.
          return right.error
              ? right
              : error(Messages.SYNC_STREAMS_CAN_ONLY_SELECT_FROM_ACTUAL, b.right().span());
        }
        // In a condition, the row joins json_each(y): y must be JSON text, x one of its values.
        return apply(
            b,
            new SqlFunction(
                "operator_in_json_each",
                2,
                2,
                a -> {
                  if (!(a[1] instanceof String text)) {
                    throw new IllegalArgumentException("Expected JSON string");
                  }
                  Object parsed;
                  try {
                    parsed = JsJson.parseBig(text);
                  } catch (RuntimeException e) {
                    throw new IllegalArgumentException("Expected JSON string", e);
                  }
                  List<?> items = parsed instanceof List<?> list ? list : List.of(parsed);
                  for (Object v : items) {
                    if (a[0] != null && SqlValues.compare(SqlValues.fromJson(v, true), a[0]) == 0) {
                      return SqlValues.TRUE;
                    }
                  }
                  return SqlValues.FALSE;
                }),
            List.of(left, right),
            List.of(b.left(), b.right()));
      }

      /**
       * {@code x NOT IN y} with a value y: whether the JSON array y holds x, negated (NOT NULL is
       * true).
       */
      CExpr notInJsonArray(Ast.Binary b, CExpr left, CExpr right) {
        SqlFunction in = operatorFunction("IN");
        return apply(
            b,
            new SqlFunction("operatorNOT IN", 2, 2, a -> SqlValues.not(in.call(a[0], a[1]))),
            List.of(left, right),
            List.of(b.left(), b.right()));
      }

      /** The values of {@code ARRAY[a, b]} or {@code ROW(a, b)}, or null for anything else. */
      @Nullable List<Expr> scalarValues(Expr right) {
        if (right instanceof Ast.Other o && o.kind() == Ast.OtherKind.ARRAY) {
          return o.children();
        } else if (right instanceof Ast.Call c
            && c.schema() == null
            && c.name().equalsIgnoreCase("row")) {
          return c.args();
        }
        return null;
      }

      /**
       * {@code x [NOT] IN ARRAY[a, b]}: true when x equals a value; else NULL when x or a value is
       * NULL, false otherwise; NOT IN is its negation, where NOT NULL is true.
       */
      CExpr scalarIn(Ast.Binary b, CExpr left, List<Expr> values, boolean negated) {
        List<CExpr> args = new ArrayList<>();
        args.add(left);
        values.forEach(v -> args.add(compile(v)));
        List<Expr> argExprs = new ArrayList<>();
        argExprs.add(b.left());
        argExprs.addAll(values);
        return apply(
            b,
            new SqlFunction(
                negated ? "operator_not_in_values" : "operator_in_values",
                args.size(),
                args.size(),
                a -> {
                  Object in = null;
                  if (a[0] != null) {
                    boolean found = false;
                    boolean sawNull = false;
                    for (int i = 1; i < a.length && !found; i++) {
                      if (a[i] == null) {
                        sawNull = true;
                      } else {
                        found = SqlValues.compare(a[0], a[i]) == 0;
                      }
                    }
                    in = found ? SqlValues.TRUE : sawNull ? null : SqlValues.FALSE;
                  }
                  return negated ? SqlValues.not(in) : in;
                }),
            args,
            argExprs);
      }

      /**
       * {@code t.schema()}, {@code t.table_name()} or {@code t.table_suffix()}: the metadata of the
       * table a row of {@code t} was replicated from.
       */
      CExpr rowMetadata(Ast.Call c, String tableName, String key) {
        if (!c.args().isEmpty()) {
          return error(Messages.EXPECTED_NO_ARGUMENTS_HERE, nameSpan(c));
        }
        ScopeTable table = scope.get(tableName);
        if (table == null) {
          return error(Messages.tableNotInFrom(tableName), c.span());
        } else if (table.call() != null) {
          // A table-valued function's rows come from no table: the reference reads NULL.
          return constant(null, c);
        }
        TablePattern pattern = table.pattern();
        if (key.equals(TableRefs.TABLE_SUFFIX_KEY) && pattern != null && !pattern.isWildcard()) {
          warn(Messages.TABLE_SUFFIX_ALWAYS_EMPTY, nameSpan(c));
        }
        readsRowMetadata = true;
        return new CExpr(
            (row, r) -> row.get(key),
            Set.of(table.alias()),
            false,
            false,
            null,
            false,
            text(c),
            false);
      }

      @Override
      CExpr schemaCall(Ast.Call c) {
        String schemaName = Objects.requireNonNull(c.schema(), "a schema call has a schema");
        String name = c.name();
        if (edition >= 3 && !REQUEST_SCHEMAS.contains(schemaName)) {
          // Edition 3: a call qualified by a table in scope reads that table's metadata.
          String key = TableRefs.metadataKey(name);
          return key == null
              ? error(Messages.INVALID_SCHEMA_IN_FUNCTION_NAME, nameSpan(c))
              : rowMetadata(c, schemaName, key);
        }
        if (schemaName.equals("request")) {
          return edition >= 3
              ? error(Messages.INVALID_SCHEMA_IN_FUNCTION_NAME, nameSpan(c))
              : error(Messages.functionNotDefined("request." + name), c.span());
        }
        if (edition < 3) {
          // The first compiler's request functions and words.
          int arguments =
              switch (name) {
                case "user_id" -> schemaName.equals("auth") ? 0 : -1;
                case "parameters" -> 0;
                case "parameter" -> 1;
                default -> -1;
              };
          String full = schemaName + "." + name;
          if (arguments < 0 || !REQUEST_SCHEMAS.contains(schemaName)) {
            return error(Messages.functionNotDefined(full), c.span());
          } else if (c.args().size() != arguments) {
            return error(Messages.functionTakesArguments(full, arguments), c.span());
          }
        }
        if (!REQUEST_SCHEMAS.contains(schemaName)) {
          return error(Messages.INVALID_SCHEMA_IN_FUNCTION_NAME, nameSpan(c));
        }
        @Nullable Function<StreamRequest, @Nullable Object> noArgs = null;
        BiFunction<StreamRequest, @Nullable Object, @Nullable Object> oneArg = null;
        switch (name) {
          case "user_id" -> {
            if (!schemaName.equals("auth")) {
              return error(Messages.USER_ID_IS_ONLY_AVAILABLE_ON_AUTH, nameSpan(c));
            }
            noArgs = StreamRequest::userId;
          }
          case "parameters" ->
              noArgs =
                  switch (schemaName) {
                    case "auth" -> StreamRequest::authParameters;
                    case "subscription" -> StreamRequest::subscriptionParameters;
                    default -> StreamRequest::connectionParameters;
                  };
          case "parameter" ->
              oneArg =
                  switch (schemaName) {
                    case "auth" -> StreamRequest::authParameter;
                    case "subscription" -> StreamRequest::subscriptionParameter;
                    default -> StreamRequest::connectionParameter;
                  };
          default -> {
            return error(Messages.UNKNOWN_REQUEST_FUNCTION, nameSpan(c));
          }
        }
        boolean auth = schemaName.equals("auth");
        boolean subscription = schemaName.equals("subscription");
        Ast.Span unauth = auth ? null : c.span();
        if (noArgs != null) {
          // Extra arguments: edition 3 ignores them; edition 2 refused them above.
          Function<StreamRequest, @Nullable Object> f = noArgs;
          return new CExpr(
              (row, r) -> r == null ? null : f.apply(r),
              Set.of(),
              true,
              auth,
              unauth,
              subscription,
              text(c),
              false);
        }
        if (c.args().size() != 1) {
          return error(Messages.EXPECTED_A_SINGLE_ARGUMENT_HERE, nameSpan(c));
        }
        CExpr arg = compile(c.args().get(0));
        if (arg.error) {
          return arg;
        }
        if (!arg.tables.isEmpty()) {
          return error(Messages.CANNOT_USE_TABLE_VALUES_AND_PARAMETERS_IN, c.args().get(0).span());
        }
        BiFunction<StreamRequest, @Nullable Object, @Nullable Object> f =
            Objects.requireNonNull(oneArg, "one of the two is set");
        Ev a = arg.ev;
        return new CExpr(
            (row, r) -> r == null ? null : f.apply(r, a.eval(row, r)),
            Set.of(),
            true,
            auth || arg.auth,
            unauth != null ? unauth : arg.unauthenticated,
            subscription || arg.subscription,
            text(c),
            false);
      }
    }
  }
}
