package dev.syncline.core.internal.rules;

import dev.syncline.api.rules.TablePattern;
import org.jspecify.annotations.Nullable;

/**
 * Every diagnostic the sync-rules compilers give, in one place (as Calcite keeps its messages in
 * {@code CalciteResource}): the reference implementation's own words, which rules parity requires
 * verbatim (the conformance vectors compare them), grouped by the compiler that raises them. Fixed
 * messages are constants named after their words; messages that name something are methods.
 *
 * <p>Compilers pass these to their {@code error}/{@code warn} helpers with the span the reference
 * reports; {@code MessagesInOnePlaceTest} fails the build when a compiler writes a diagnostic's
 * text itself.
 */
public final class Messages {
  private Messages() {}

  // ---- Bucket definitions: expressions and clauses (ClauseCompiler.java) ----
  public static final String ALIAS_IS_REQUIRED = "alias is required";
  public static final String CANNOT_HAVE_BUCKET_PARAMETERS_ON_BOTH_SIDES =
      "Cannot have bucket parameters on both sides of = operator";
  public static final String INVALID_VALUE_FOR_PRIORITY_MUST_BE_BETWEEN =
      "Invalid value for priority, must be between 0 and 3 (inclusive).";
  public static final String IS_NOT_SUPPORTED_HERE_USE_EXPLICIT_COLUMNS =
      "* is not supported here - use explicit columns";
  public static final String MUST_ONLY_DEPEND_ON_DATA_DERIVED_FROM =
      "Must only depend on data derived from request.";
  public static final String NOT_SUPPORTED_HERE = "* not supported here";
  public static final String PARAMETER_MATCH_CLAUSES_CANNOT_BE_USED_HERE =
      "Parameter match clauses cannot be used here";
  public static final String PARAMETER_MATCH_EXPRESSION_IS_NOT_ALLOWED_HERE =
      "Parameter match expression is not allowed here";
  public static final String PRIORITY_MUST_BE_A_SIMPLE_INTEGER_LITERAL =
      "Priority must be a simple integer literal";
  public static final String SCHEMA_IS_NOT_SUPPORTED_IN_COLUMN_REFERENCES =
      "Schema is not supported in column references";

  // ---- Bucket definitions: data queries (DataQuery.java) ----
  public static final String MUST_SELECT_FROM_A_SINGLE_TABLE = "Must SELECT from a single table";
  public static final String QUERY_MUST_RETURN_AN_ID_COLUMN = "Query must return an \"id\" column";

  // ---- Expressions (every compiler) (ExpressionCompiler.java) ----
  public static final String FUNCTION_EXISTS_IS_NOT_DEFINED = "Function 'exists' is not defined";

  // ---- SQL clauses no query may use (QuerySupport.java) ----
  public static final String DISTINCT_IS_NOT_SUPPORTED = "DISTINCT is not supported";
  public static final String FOR_IS_NOT_SUPPORTED = "FOR is not supported";
  public static final String FULL_JOIN_IS_NOT_SUPPORTED = "FULL JOIN is not supported";
  public static final String GROUP_BY_IS_NOT_SUPPORTED = "GROUP BY is not supported";
  public static final String HAVING_IS_NOT_SUPPORTED = "HAVING is not supported";
  public static final String LIMIT_IS_NOT_SUPPORTED = "LIMIT is not supported";
  public static final String ONLY_SELECT_STATEMENTS_ARE_SUPPORTED =
      "Only SELECT statements are supported";
  public static final String ORDER_BY_IS_NOT_SUPPORTED = "ORDER BY is not supported";
  public static final String SELECT_FOR_IS_NOT_SUPPORTED = "SELECT FOR is not supported";

  // ---- Bucket definitions: parameter queries without a table (StaticParameterQuery.java) ----
  public static final String CANNOT_SET_PRIORITY_MULTIPLE_TIMES =
      "Cannot set priority multiple times.";

  // ---- Sync Streams (StreamCompiler.java) ----
  public static final String CANNOT_USE_TABLE_VALUES_AND_PARAMETERS_IN =
      "Cannot use table values and parameters in the same clauses";
  public static final String COLUMNS_ARE_NOT_SUPPORTED_HERE = "* columns are not supported here";
  public static final String DISTINCT_ORDER_BY_FILTER_AND_OVER_CLAUSES =
      "DISTINCT, ORDER BY, FILTER and OVER clauses are not supported";
  public static final String DUPLICATE_STREAM_OR_BUCKET_DEFINITION =
      "Duplicate stream or bucket definition.";
  public static final String EXPECTED_A_SCALAR_VALUE_HERE = "Expected a scalar value here.";
  public static final String EXPECTED_A_SINGLE_ARGUMENT_HERE = "Expected a single argument here";
  public static final String EXPECTED_NO_ARGUMENTS_HERE = "Expected no arguments here";
  public static final String FORBIDDEN_CALL_SYNC_DEFINITIONS_MUST_BE_DETERMINISTIC =
      "Forbidden call: Sync definitions must be deterministic.";
  public static final String INVALID_POSITION_FOR_SUBQUERIES_SUBQUERIES_ARE_ONLY =
      "Invalid position for subqueries. Subqueries are only supported in WHERE clauses.";
  public static final String INVALID_SCHEMA_IN_FUNCTION_NAME = "Invalid schema in function name";
  public static final String INVALID_SQLITE_CAST = "Invalid SQLite cast";
  public static final String INVALID_UNQUALIFIED_REFERENCE_SINCE_MULTIPLE_TABLES_ARE =
      "Invalid unqualified reference since multiple tables are in scope";
  public static final String JSON_EACH_CAN_ONLY_READ_REQUEST_VALUES =
      "json_each() can only read request values here";
  public static final String LOOK_UPS_CANNOT_EXPAND_ARRAYS_OF_THE =
      "Look-ups cannot expand arrays of the looked-up table";
  public static final String MUST_BE_ARRAY = "must be array";
  public static final String MUST_BE_OBJECT = "must be object";
  public static final String MUST_HAVE_A_RESULT_COLUMN_SELECTING_FROM =
      "Must have a result column selecting from a table";
  public static final String NEGATIONS_ARE_NOT_ALLOWED_HERE = "Negations are not allowed here";
  public static final String ONE_OF_QUERIES_OR_QUERY_MUST_BE =
      "One of `queries` or `query` must be given.";
  public static final String STREAM_SUBQUERIES_CAN_T_USE_OR_FILTERS =
      "Stream subqueries can't use OR filters";
  public static final String SUBQUERIES_ARE_ONLY_SUPPORTED_IN_TOP_LEVEL =
      "Subqueries are only supported in top-level conditions";
  public static final String SUBQUERIES_IN_FROM_ARE_NOT_SUPPORTED =
      "Subqueries in FROM are not supported";
  public static final String SUBQUERIES_MUST_RETURN_EXACTLY_ONE_COLUMN =
      "Subqueries must return exactly one column";
  public static final String SUBQUERIES_MUST_SELECT_A_COLUMN_OF_THEIR =
      "Subqueries must select a column of their table";
  public static final String SUBQUERIES_MUST_SELECT_FROM_A_SINGLE_TABLE =
      "Subqueries must select from a single table";
  public static final String SYNC_STREAMS_CAN_ONLY_SELECT_FROM_ACTUAL =
      "Sync streams can only select from actual tables";
  public static final String TABLES_CAN_ONLY_BE_JOINED_WITH_EQUALITY =
      "Tables can only be joined with equality conditions";
  public static final String THE_NAME_OF_THIS_COLUMN_IS_UNSPECIFIED =
      "The name of this column is unspecified, consider adding an alias.";
  public static final String THIS_COMMON_TABLE_EXPRESSION_ISN_T_REFERENCED =
      "This common table expression isn't referenced.";
  public static final String THIS_EXPRESSION_IS_NOT_SUPPORTED_BY_POWERSYNC =
      "This expression is not supported by PowerSync";
  public static final String THIS_TABLE_COULD_NOT_BE_FOUND_IN =
      "This table could not be found in the source schema.";
  public static final String UNKNOWN_FUNCTION = "Unknown function";
  public static final String UNKNOWN_REQUEST_FUNCTION = "Unknown request function";
  public static final String UNSUPPORTED_SUBQUERY = "Unsupported subquery";
  public static final String UNSUPPORTED_SUBQUERY_FILTER = "Unsupported subquery filter";
  public static final String USER_ID_IS_ONLY_AVAILABLE_ON_AUTH =
      ".user_id() is only available on auth schema";
  public static final String USING_IS_NOT_SUPPORTED = "USING is not supported";

  // ---- The YAML document and its config (SyncConfigReader.java) ----
  public static final String BUCKET_DEFINITIONS_OR_STREAMS_IS_REQUIRED =
      "'bucket_definitions' or 'streams' is required";
  public static final String COMMON_TABLE_EXPRESSIONS_REQUIRE_EDITION_3 =
      "Common table expressions require edition 3.";
  public static final String DATA_MUST_BE_AN_ARRAY = "'data' must be an array";
  public static final String ENABLING_UNSTABLE_SQLITE_EXPRESSION_ENGINE_REQUIRES_EDITION =
      "Enabling unstable_sqlite_expression_engine requires edition: 3";
  public static final String ENABLING_UNSTABLE_SQLITE_EXPRESSION_ENGINE_REQUIRES_FIXED =
      "Enabling unstable_sqlite_expression_engine requires fixed_json_extract";
  public static final String EVENT_DEFINITIONS_MUST_BE_OBJECTS =
      "Event definitions must be objects.";
  public static final String EVENT_DEFINITION_PAYLOADS_MUST_BE_AN_ARRAY =
      "Event definition payloads must be an array.";
  public static final String INVALID_PRIORITY_EXPECTED_A_NUMBER_BETWEEN_0 =
      "Invalid priority, expected a number between 0 and 3 (inclusive).";
  public static final String MUST_BE_3 = "must be <= 3";
  public static final String MUST_BE_A_BOOLEAN = "must be a boolean";
  public static final String MUST_BE_A_STRING = "must be a string";
  public static final String MUST_BE_NUMERIC = "must be numeric";
  public static final String MUST_NOT_HAVE_ADDITIONAL_PROPERTIES =
      "must NOT have additional properties";
  public static final String ONLY_A_SINGLE_SELECT_STATEMENT_IS_SUPPORTED =
      "Only a single SELECT statement is supported";
  public static final String PARAMETERS_MUST_BE_A_STRING_OR_ARRAY =
      "Parameters must be a string or array of strings";
  public static final String PAYLOAD_QUERIES_FOR_EVENTS_MUST_BE_SCALAR =
      "Payload queries for events must be scalar.";
  public static final String STORAGE_VERSION_MUST_BE_NUMERIC = "Storage version must be numeric";
  public static final String STREAMS_ARE_REQUIRED = "'streams' are required.";
  public static final String SUBQUERIES_ARE_NOT_SUPPORTED_YET = "Subqueries are not supported yet";
  public static final String TIMESTAMP_MAX_PRECISION_REQUIRES_TIMESTAMPS_ISO8601_TO =
      "'timestamp_max_precision' requires 'timestamps_iso8601' to be enabled.";
  public static final String UNKNOWN_TIME_PRECISION_ALLOWED_ARE_SECONDS_MILLISECONDS =
      "Unknown time precision, allowed are seconds, milliseconds, microseconds, nanoseconds";

  // ---- Bucket definitions: parameter queries (TableParameterQuery.java) ----
  public static final String CANNOT_HAVE_MULTIPLE_ARRAY_INPUT_PARAMETERS =
      "Cannot have multiple array input parameters";
  public static final String TABLE_ALIASES_NOT_SUPPORTED_IN_PARAMETER_QUERIES =
      "Table aliases not supported in parameter queries";

  // ---- Messages that name something ----

  /** The first compiler's unknown column (bucket definitions, edition-2 streams). */
  public static String columnNotFound(String column) {
    return "Column not found: " + column;
  }

  /** Edition 3's unknown column: the span says which. */
  public static final String COLUMN_NOT_FOUND = "Column not found.";

  public static String schemaNotAvailableInDataQueries(String schema) {
    return schema + " schema is not available in data queries";
  }

  public static String undefinedReference(String name) {
    return "Undefined reference: " + name;
  }

  /** An unknown function of the first compiler, by its full name ({@code schema.name}). */
  public static String functionNotDefined(String name) {
    return "Function '" + name + "' is not defined";
  }

  public static String functionTakesArguments(String name, int arguments) {
    return "Function '" + name + "' takes " + arguments + " arguments.";
  }

  /** A bucket definition's query reads a table the given source schema does not have. */
  public static String tableNotFound(TablePattern table) {
    return "Table " + table.schema() + "." + table.tablePattern() + " not found";
  }

  public static String queryMustCoverAllBucketParameters(String expected, String got) {
    return "Query must cover all bucket parameters. Expected: " + expected + " Got: " + got;
  }

  public static String castNotSupported(String type) {
    return "CAST not supported for '" + type + "'";
  }

  public static String unquotedIdentifierLowerCased(String source) {
    return "Unquoted identifiers are converted to lower-case. Use \"" + source + "\" instead.";
  }

  public static String undefinedTable(String table) {
    return "Undefined table " + table;
  }

  public static String resultColumnsFromOneTable(@Nullable String table) {
    return "Result columns must all come from one table, " + table;
  }

  /** Edition 3: a qualifier that names no table of the query. */
  public static String tableNotInFrom(String table) {
    return "Table '" + table + "' has not been added in a FROM clause here.";
  }

  /** Sync-rules 0.39: an alias on the table a stream selects from, in a join. */
  public static String aliasedPrimaryTableInJoin(String alias, String table) {
    return "The source row is synced under its alias '"
        + alias
        + "' instead of '"
        + table
        + "'. When joining, an alias is often added only to make the ON clause easier to write;"
        + " if that is the case here, the rename is likely unintentional and clients querying '"
        + table
        + "' will see zero rows. Drop the alias on the source table, or quote it (`AS \""
        + alias
        + "\"`) to keep the rename and silence this warning.";
  }

  public static String storageVersionNotSupported(String version) {
    return "Storage version " + version + " is not supported";
  }

  /** A YAML node of the wrong kind ({@code what}: "a map", "a sequence", ...). */
  public static String expectedHere(String what) {
    return "Expected " + what + " here.";
  }

  public static String tableValuedFunctionNotDefined(String name) {
    return "Table-valued function " + name + " is not defined.";
  }

  public static String bucketDefinitionMustBeObject(String name) {
    return "'" + name + "' bucket definition must be an object";
  }

  public static String unsupportedMemberOperation(String operator) {
    return "Unsupported member operation " + operator;
  }

  /** The first compiler's binary operators it has no function for. */
  public static String operatorNotSupported(String operator) {
    return "Operator not supported: " + operator;
  }

  /** The first compiler's unary operators it has no function for. */
  public static String operatorIsNotSupported(String operator) {
    return "Operator " + operator + " is not supported";
  }

  public static String expectedAtLeastArguments(int n) {
    return "Expected at least " + n + " arguments";
  }

  public static String expectedAtMostArguments(int n) {
    return "Expected at most " + n + " arguments";
  }

  /** Edition 3: a condition reads a second table besides {@code table} (not compared by =). */
  public static String alreadyReferencesTable(String table) {
    return "This expression already references '"
        + table
        + "', so it can't also reference data from this row unless the two are compared with an"
        + " equals operator.";
  }

  /** The reference's SQL parser on a statement it has two readings of. */
  public static String ambiguousSqlSyntax(String sql) {
    return "\uD83D\uDC80 Ambiguous SQL syntax: Please file an issue stating the request that has"
        + " failed at https://github.com/oguimbal/pgsql-ast-parser:\n\n        "
        + sql
        + "\n\n        ";
  }

  /** Edition 3: {@code s.schema()} (or another metadata function) of a subquery in FROM. */
  public static String metadataOfSubquery(String function) {
    return function + "() is not supported on subqueries";
  }

  // ---- Longer fixed messages ----

  /** Syncline's own: a common table expression joined with other tables in FROM. */
  public static final String CTE_IN_FROM_NOT_SUPPORTED =
      "Syncline does not support joining a common table expression yet; select from it alone or"
          + " compare with it (x IN name)";

  public static final String COLUMN_NOT_FOUND_IN_SUBQUERY = "Column not found in subquery.";

  public static final String MUST_RETURN_A_SINGLE_EXPRESSION_COLUMN =
      "Must return a single expression column";
  public static final String STAR_NOT_ALLOWED_IN_SUBQUERIES =
      "* columns are not allowed in subqueries or common table expressions";
  public static final String CTE_MUST_RETURN_A_SINGLE_COLUMN =
      "Common-table expression must return a single column";

  public static final String ROW_DATA_THEN_CONNECTION_PARAMETERS =
      "This expression already references row data, so it can't also reference connection"
          + " parameters unless the two are compared with an equals operator.";

  public static final String CONNECTION_PARAMETERS_THEN_ROW_DATA =
      "This expression already references connection parameters, so it can't also reference row"
          + " data unless the two are compared with an equals operator.";

  public static final String ALPHA_STREAMS =
      "This is using an alpha version of Sync Streams. We recommend "
          + "upgrading `config.edition` to version 3 to support the latest features.";

  /** A stream's own {@code with:} in an edition-2 config. */
  public static final String CTES_NEED_THE_NEW_COMPILER =
      "Common table expressions are not supported without the `sync_config_compiler` option.";

  public static final String EXPECTED_A_SELECT_STATEMENT = "Expected a SELECT statement";

  public static final String SYNCS_A_CONNECTION_PARAMETER =
      "This attempts to sync a connection parameter. Only values from the source "
          + "database can be synced.";

  public static final String UNAUTHENTICATED_STREAM_PARAMETER =
      "Clients can send any value for this unauthenticated parameter, so this is unsuitable for "
          + "authorization. Consider further constraining this with an authenticated parameter.";

  /** Syncline's own addition when the dangerous query is refused rather than warned about. */
  public static final String DANGEROUS_QUERY_OPT_IN_STREAM =
      "If any client may read these rows, set accept_potentially_dangerous_queries: true on the"
          + " stream.";

  public static final String DANGEROUS_QUERY =
      "Potentially dangerous query based on parameters set by the client. The client "
          + "can send any value for these parameters so it's not a good place to do authorization.";

  /** Syncline's own addition when the dangerous query is refused rather than warned about. */
  public static final String DANGEROUS_QUERY_OPT_IN_DEFINITION =
      "If this is intended, set accept_potentially_dangerous_queries: true on the definition.";

  public static final String LIKE_NOT_SUPPORTED = "LIKE expressions are not currently supported.";
  public static final String UNSUPPORTED_BINARY_OPERATOR = "Unsupported binary operator";
  public static final String UNARY_MINUS_NOT_SUPPORTED = "Unary minus is not currently supported";

  public static final String MULTIPLE_IN_EXPRESSIONS_ON_BUCKET_PARAMETERS =
      "Cannot have multiple IN expressions on bucket parameters";

  /** Followed by the two sides' parameters. */
  public static final String OR_SIDES_MUST_USE_SAME_PARAMETERS =
      "Left and right sides of OR must use the same parameters, or split into separate queries.";

  public static final String BUCKET_PARAMETERS_MUST_MATCH =
      "Bucket parameters must match for each parameter query within a bucket";
  public static final String BUCKET_PARAMETERS_MUST_BE_DEFINED =
      "Bucket parameters must be defined";
  public static final String BUCKET_PARAMETERS_ON_RIGHT_OF_IN =
      "Cannot use bucket parameters on the right side of IN operators";
  public static final String BUCKET_PARAMETERS_IN_EXPRESSIONS =
      "Cannot use bucket parameters in expressions";

  public static final String STREAMS_REQUIRE_EDITION_2 =
      "Sync streams require edition 2 or later. Try adding a `config: {edition: 2} "
          + "block to the end of the file.`";

  public static final String DEFAULT_STREAM_USES_SUBSCRIPTION_PARAMETERS =
      "Clients subscribe to this stream by default, but it uses subscription parameters. Default"
          + " subscriptions use null for all parameters, which can lead to unintentional results."
          + " Try removing the parameter or not marking the stream as auto-subscribe.";

  public static final String IN_SUBQUERY_LEFT_OPERAND =
      "For IN subqueries, the left operand must either depend on the row to sync or stream "
          + "parameters.";

  /** Syncline's own: a join it cannot turn into look-ups (the reference compiles more). */
  public static final String UNSUPPORTED_JOIN_CONDITION =
      "Unsupported join condition: tables can be joined in a tree, each by = between columns of"
          + " two tables, and filtered by conditions on one table and the request";

  public static final String UNSUPPORTED_SUBQUERY_WITHOUT_PARAMETER =
      "Unsupported subquery without parameter, must depend on request parameters";

  public static final String SQL_PARAMETERS_NOT_ALLOWED =
      "SQL parameters are not allowed. Use parameter functions instead: "
          + "https://docs.powersync.com/usage/sync-streams#accessing-parameters";

  public static final String TABLE_SUFFIX_ALWAYS_EMPTY =
      "table_suffix() is always empty because this table is not selected with a wildcard name.";

  public static final String BUCKET_DEFINITIONS_NOT_SUPPORTED_BY_NEW_COMPILER =
      "'bucket_definitions' are not supported by the new compiler. Consider using "
          + "https://powersync-community.github.io/bucket-definitions-to-sync-streams/ to translate"
          + " them to streams.";

  public static final String STORAGE_VERSION_3_UNSTABLE =
      "Storage version 3 is unstable, and may cause unexpected behavior or stop functioning in"
          + " any release";
}
