package dev.syncline.core.upload;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.engine.SyncEngine;
import dev.syncline.api.upload.ConflictResolver;
import dev.syncline.api.upload.CrudEntry;
import dev.syncline.api.upload.UploadBatch;
import dev.syncline.api.upload.UploadResult;
import dev.syncline.api.upload.WriteAuthorizer;
import dev.syncline.core.internal.stream.ErrorEnvelope;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.io.IOException;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.jspecify.annotations.Nullable;

/**
 * Applies clients' offline writes to Postgres: the server side of the PowerSync SDKs' upload queue.
 *
 * <pre>{@code
 * UploadHandler uploads = UploadHandler.builder(dataSource)
 *     .table("lists", "created_at", "name", "owner_id")
 *     .table("todos")                                  // every column of public.todos
 *     .authorizer((user, entry, current, tx) -> ...)  // who may write what
 *     .engine(engine)                                  // creates the write checkpoint after each commit
 *     .build();
 * UploadResult result = uploads.apply(user, UploadHandler.parse(body));
 * // or, in an HTTP endpoint after verifying the token: UploadHandler.Response r = uploads.handle(user, body);
 * // or the whole endpoint, token first and the body read without holding a thread: new UploadServlet(...)
 * }</pre>
 *
 * <p>A batch (one client transaction) is applied in one database transaction, or not at all:
 *
 * <ul>
 *   <li>Only allowed tables and columns are written; an unknown table or column, a value the
 *       column's type does not accept, a value or row larger than the configured limits, a NUL
 *       character, or a constraint violation rejects the batch ({@code UPLOAD_INVALID}, HTTP 422; a
 *       unique violation is {@code UPLOAD_CONFLICT}, 409). Tables and columns outside the
 *       allow-list are refused from the list itself, without asking the database.
 *   <li>Each entry's row is read and locked ({@code SELECT ... FOR UPDATE}; the rows of a table the
 *       batch writes several rows of with one query, in id order, so that concurrent uploads of the
 *       same rows do not deadlock), then the {@link WriteAuthorizer} decides with the verified
 *       token ({@code UPLOAD_FORBIDDEN}, 403) and the {@link ConflictResolver} decides what to
 *       write ({@code UPLOAD_CONFLICT}, 409; default last-write-wins).
 *   <li>With a transaction id, the batch is applied exactly once per user and client: the last
 *       applied id is kept in the idempotency table (one row per client) and a retry answers {@link
 *       UploadResult.AlreadyApplied}.
 *   <li>Only failures that may pass (connection lost, serialization failure, deadlock, the server
 *       shutting down, missing rights or tables an operator can fix, or any error Syncline cannot
 *       classify) throw {@code UPLOAD_RETRY} (503): the client keeps the batch and retries.
 *       Uploaded data is never dropped because of a server-side problem, and a client's own mistake
 *       is never answered with "retry", which would stick its upload queue for good.
 * </ul>
 *
 * Rejections name the entry and say what is wrong in general terms ("a unique constraint refuses
 * the row"), never with SQL, constraint names or row values; the database's own message goes to the
 * log. Every rejection is logged at {@code INFO}, every failure to retry at {@code WARNING}, with
 * user, client, code and cause (logger {@code dev.syncline.core.upload.UploadHandler}, {@link
 * System.Logger}).
 *
 * <p>Values are bound as text and cast to the column's type in SQL, so JSON numbers, strings and
 * booleans (SQLite's 0/1 too) reach {@code integer}, {@code numeric}, {@code uuid}, {@code
 * timestamptz}, {@code boolean}, {@code jsonb}, enums and arrays (a JSON array) alike. A timestamp
 * without a zone is read as UTC (the handler's own transactions set {@code TimeZone} to UTC; inside
 * the host's transaction the host's session time zone applies).
 *
 * <p>Threads: {@link #apply} may be called from any number of request threads at once; each call
 * uses one connection. Column types are read from the catalog at first use; when a table allowed
 * with all its columns is sent a column not seen before, the catalog is read again at most once a
 * minute.
 */
public final class UploadHandler {
  private static final System.Logger LOG = System.getLogger(UploadHandler.class.getName());
  private static final ObjectMapper JSON =
      new ObjectMapper()
          // 1e999 stays a number the database refuses as out of range, never an infinity or a parse
          // failure.
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** Largest upload body {@link #parse} accepts, by default. */
  public static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

  /**
   * Largest value of one column an upload may carry, by default: 1 MiB (UTF-8 bytes of its text
   * form).
   */
  public static final int DEFAULT_MAX_VALUE_BYTES = 1 << 20;

  /** Largest row (the sum of its values) an upload may carry, by default: 4 MiB. */
  public static final int DEFAULT_MAX_ROW_BYTES = 4 << 20;

  /** Longest row id, in characters. */
  public static final int MAX_ID_LENGTH = 1024;

  /** Problems listed in a rejection's answer; the rest are counted ({@code problem_count}). */
  static final int MAX_PROBLEMS_SHOWN = 10;

  /** How often an unknown column may make the handler read a table's columns again. */
  private static final long CATALOG_REFRESH_NANOS = TimeUnit.MINUTES.toNanos(1);

  static {
    JSON.getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder()
                .maxNestingDepth(64)
                .maxStringLength(MAX_BODY_BYTES)
                .build());
  }

  private final @Nullable DataSource dataSource;
  private final Map<String, TableSpec> tables;
  private final WriteAuthorizer authorizer;
  private final ConflictResolver conflicts;
  private final @Nullable SyncEngine engine;
  private final String idempotencyTable;
  private final int maxValueBytes;
  private final int maxRowBytes;
  private final int maxBodyBytes;
  private final Map<String, TableInfo> catalog = new ConcurrentHashMap<>();
  private volatile boolean idempotencyTableReady;

  /** What the builder allows for one client table. */
  private record TableSpec(
      String clientTable,
      String schema,
      String table,
      @Nullable Set<String> columns,
      String idColumn) {}

  /**
   * Column types of a table as the catalog gives them, e.g. {@code timestamp with time zone}, and
   * when they were read ({@link System#nanoTime()}).
   */
  private record TableInfo(Map<String, String> types, long readAt) {}

  private UploadHandler(Builder b) {
    this.dataSource = b.dataSource;
    this.tables = Map.copyOf(b.tables);
    this.authorizer =
        Objects.requireNonNull(
            b.authorizer,
            "authorizer is required (WriteAuthorizer.allowAll() allows everything, for development only)");
    this.conflicts = b.conflicts;
    this.engine = b.engine;
    this.idempotencyTable = b.idempotencyTable;
    this.maxValueBytes = b.maxValueBytes;
    this.maxRowBytes = b.maxRowBytes;
    this.maxBodyBytes = b.maxBodyBytes;
    if (tables.isEmpty()) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "an upload handler allows at least one table");
    }
  }

  /** Starts configuring a handler that runs its own transactions on {@code dataSource}. */
  public static Builder builder(DataSource dataSource) {
    return new Builder(Objects.requireNonNull(dataSource));
  }

  /**
   * Starts configuring a handler that only runs inside the host's transactions ({@link
   * #apply(Connection, AuthContext, UploadBatch)}).
   */
  public static Builder builder() {
    return new Builder(null);
  }

  /** Configures an {@link UploadHandler}; at least one table and an authorizer are required. */
  public static final class Builder {
    private final @Nullable DataSource dataSource;
    private final Map<String, TableSpec> tables = new LinkedHashMap<>();
    private @Nullable WriteAuthorizer authorizer;
    private ConflictResolver conflicts = ConflictResolver.lastWriteWins();
    private @Nullable SyncEngine engine;
    private String idempotencyTable = "syncline_upload_clients";
    private int maxValueBytes = DEFAULT_MAX_VALUE_BYTES;
    private int maxRowBytes = DEFAULT_MAX_ROW_BYTES;
    private int maxBodyBytes = MAX_BODY_BYTES;

    private Builder(@Nullable DataSource dataSource) {
      this.dataSource = dataSource;
    }

    /**
     * Allows writes to {@code table} (in schema {@code public}, the client's table of the same
     * name), to the given columns only, or to every column when none are given. The row id column
     * is {@code id}.
     */
    public Builder table(String table, String... columns) {
      return table(table, TableRef.of("public", table), "id", columns);
    }

    /**
     * Allows writes from the client's {@code clientTable} to {@code target}, keyed by {@code
     * idColumn}, to the given columns only, or to every column when none are given.
     */
    public Builder table(String clientTable, TableRef target, String idColumn, String... columns) {
      Set<String> allowed = columns.length == 0 ? null : Set.of(columns);
      tables.put(
          Objects.requireNonNull(clientTable),
          new TableSpec(
              clientTable,
              target.schema(),
              target.name(),
              allowed,
              Objects.requireNonNull(idColumn)));
      return this;
    }

    /** Decides whether a user may make a write. Required. */
    public Builder authorizer(WriteAuthorizer authorizer) {
      this.authorizer = Objects.requireNonNull(authorizer);
      return this;
    }

    /**
     * Decides what to write given the row's current state; default {@link
     * ConflictResolver#lastWriteWins()}.
     */
    public Builder conflicts(ConflictResolver conflicts) {
      this.conflicts = Objects.requireNonNull(conflicts);
      return this;
    }

    /**
     * Creates a write checkpoint after each committed upload, returned in {@link
     * UploadResult.Applied}.
     */
    public Builder engine(SyncEngine engine) {
      this.engine = Objects.requireNonNull(engine);
      return this;
    }

    /**
     * The table that remembers each client's last applied transaction; default {@code
     * syncline_upload_clients}, created when missing ({@code user_id text, client_id text,
     * last_transaction_id bigint, updated_at timestamptz, PRIMARY KEY (user_id, client_id)}).
     */
    public Builder idempotencyTable(String name) {
      if (!name.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?")) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT,
            "idempotency table name must be a plain "
                + "(optionally schema-qualified) SQL identifier, got "
                + name);
      }
      this.idempotencyTable = name;
      return this;
    }

    /**
     * The largest value of one column an upload may write, in UTF-8 bytes of its text form (a JSON
     * value: its JSON text); larger ones reject the batch ({@code UPLOAD_INVALID}). Default {@value
     * #DEFAULT_MAX_VALUE_BYTES}.
     */
    public Builder maxValueBytes(int bytes) {
      this.maxValueBytes = positive(bytes, "max value bytes");
      return this;
    }

    /**
     * The largest row an upload may write: the sum of its values' sizes; larger ones reject the
     * batch ({@code UPLOAD_INVALID}). Default {@value #DEFAULT_MAX_ROW_BYTES}.
     */
    public Builder maxRowBytes(int bytes) {
      this.maxRowBytes = positive(bytes, "max row bytes");
      return this;
    }

    /**
     * The largest upload body {@link #handle} and {@link UploadServlet} accept; larger ones are
     * refused with {@code INVALID_REQUEST} (400). Default {@value #MAX_BODY_BYTES}.
     */
    public Builder maxBodyBytes(int bytes) {
      this.maxBodyBytes = positive(bytes, "max body bytes");
      return this;
    }

    private static int positive(int value, String what) {
      if (value < 1) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, what + " must be positive, got " + value);
      }
      return value;
    }

    /** The handler. */
    public UploadHandler build() {
      return new UploadHandler(this);
    }
  }

  /**
   * Parses an upload body: {@code {"client_id": "...", "transaction_id": n, "ops": [{"op":
   * "PUT"|"PATCH"|"DELETE", "table": "...", "id": "...", "data": {...}}]}}. Unknown fields are
   * ignored; {@code opData} is accepted for {@code data} (the SDKs' field name), {@code type} for
   * {@code table}. Numbers with a fraction or an exponent become {@link java.math.BigDecimal}s
   * (exactly as sent, never an infinity), large integers {@link java.math.BigInteger}s.
   *
   * @throws SynclineException with {@code INVALID_REQUEST} saying what is malformed (the body is
   *     not a JSON object of that shape, names a field twice, or its client id is longer than
   *     {@value WriteCheckpointKey#MAX_CLIENT_ID_LENGTH} characters or holds control characters)
   */
  public static UploadBatch parse(byte[] body) {
    return parse(body, MAX_BODY_BYTES);
  }

  private static UploadBatch parse(byte[] body, int maxBodyBytes) {
    if (body.length > maxBodyBytes) {
      throw invalid("upload body is larger than " + maxBodyBytes + " bytes");
    }
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw invalid("upload body is not valid JSON");
    }
    if (root == null || !root.isObject()) {
      throw invalid("upload body must be a JSON object");
    }
    JsonNode clientId = root.get("client_id");
    if (clientId == null || !clientId.isTextual() || clientId.asText().isEmpty()) {
      throw invalid("client_id must be a non-empty string");
    }
    try {
      WriteCheckpointKey.checkClientId(clientId.asText());
    } catch (SynclineException e) {
      throw invalid(e.getMessage().substring(e.getMessage().indexOf("client_id")));
    }
    JsonNode tx = root.get("transaction_id");
    Long transactionId = null;
    if (tx != null && !tx.isNull()) {
      if (!tx.isIntegralNumber() || !tx.canConvertToLong()) {
        throw invalid("transaction_id must be an integer");
      }
      transactionId = tx.asLong();
    }
    JsonNode ops = root.get("ops");
    if (ops == null || !ops.isArray()) {
      throw invalid("ops must be an array");
    }
    List<CrudEntry> entries = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      JsonNode op = ops.get(i);
      if (!op.isObject()) {
        throw invalid("ops[" + i + "] must be an object");
      }
      CrudEntry.Op kind;
      try {
        kind = CrudEntry.Op.valueOf(text(op, "op", i));
      } catch (IllegalArgumentException e) {
        throw invalid("ops[" + i + "].op must be PUT, PATCH or DELETE");
      }
      String table = op.has("table") ? text(op, "table", i) : text(op, "type", i);
      String id = text(op, "id", i);
      JsonNode data = op.has("data") ? op.get("data") : op.get("opData");
      Map<String, @Nullable Object> values = new LinkedHashMap<>();
      if (data != null && !data.isNull()) {
        if (!data.isObject()) {
          throw invalid("ops[" + i + "].data must be an object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = data.properties().iterator();
            it.hasNext(); ) {
          Map.Entry<String, JsonNode> f = it.next();
          values.put(f.getKey(), value(f.getValue()));
        }
      }
      entries.add(new CrudEntry(kind, table, id, values));
    }
    return new UploadBatch(clientId.asText(), transactionId, entries);
  }

  private static String text(JsonNode op, String field, int index) {
    JsonNode v = op.get(field);
    if (v == null || !v.isTextual() || v.asText().isEmpty()) {
      throw invalid("ops[" + index + "]." + field + " must be a non-empty string");
    }
    return v.asText();
  }

  private static @Nullable Object value(JsonNode v) {
    if (v.isNull()) {
      return null;
    } else if (v.isTextual()) {
      return v.asText();
    } else if (v.isBoolean()) {
      return v.asBoolean();
    } else if (v.isIntegralNumber()) {
      return v.canConvertToLong() ? (Object) v.asLong() : v.bigIntegerValue();
    } else if (v.isNumber()) {
      return v.decimalValue();
    }
    return JSON.convertValue(v, Object.class); // objects and arrays: maps and lists
  }

  private static SynclineException invalid(String message) {
    return new SynclineException(ErrorCode.INVALID_REQUEST, "Invalid upload: " + message);
  }

  /**
   * Applies a batch in its own transaction, then creates the client's next write checkpoint when an
   * engine was given.
   *
   * @throws SynclineException with {@code UPLOAD_RETRY} when the upload may succeed later (nothing
   *     was written)
   */
  public UploadResult apply(AuthContext user, UploadBatch batch) {
    if (dataSource == null) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT,
          "this handler was built without a DataSource: use "
              + "apply(Connection, AuthContext, UploadBatch) inside your transaction");
    }
    UploadResult result;
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        try (Statement st = c.createStatement()) {
          // Timestamps without a zone are UTC, as the sync stream sends them (PROTOCOL §8).
          st.execute("SET LOCAL TimeZone = 'UTC'");
        }
        result = apply(c, user, batch);
        if (result instanceof UploadResult.Rejected) {
          c.rollback();
        } else {
          c.commit();
        }
      } catch (RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      } finally {
        try {
          c.setAutoCommit(autoCommit);
        } catch (SQLException e) {
          // The pool will discard it.
        }
      }
    } catch (SQLException e) {
      // Getting, committing or resetting the connection failed: nothing of the client's doing.
      throw retry(user, batch, e, e);
    }
    if (result instanceof UploadResult.Applied a && engine != null) {
      try {
        return new UploadResult.Applied(
            a.applied(), a.skipped(), engine.createWriteCheckpoint(user, batch.clientId()));
      } catch (RuntimeException e) {
        LOG.log(
            System.Logger.Level.DEBUG,
            () ->
                "no write checkpoint after an upload of "
                    + who(user, batch)
                    + " (the client asks for one itself): "
                    + e);
        return a; // the SDK asks for a write checkpoint itself after the upload; nothing is lost
      }
    }
    return result;
  }

  /**
   * Applies a batch inside the caller's transaction on {@code connection} (auto-commit off); the
   * caller commits, or rolls back when the result is {@link UploadResult.Rejected} (nothing of the
   * batch was written then, but the transaction may be aborted). Creates no write checkpoint: the
   * SDK asks for one after the upload, or call {@link SyncEngine#createWriteCheckpoint} after
   * committing.
   *
   * @throws SynclineException with {@code UPLOAD_RETRY} when the upload may succeed later
   */
  public UploadResult apply(Connection connection, AuthContext user, UploadBatch batch) {
    DSLContext dsl = DSL.using(connection, SQLDialect.POSTGRES);
    UploadResult result;
    try {
      result = applyIn(dsl, user, batch);
    } catch (Retry logged) {
      throw logged;
    } catch (SynclineException ex) {
      throw ex.code() == ErrorCode.UPLOAD_RETRY ? retry(user, batch, null, ex) : ex;
    } catch (DataAccessException ex) {
      SQLException sql = ex.getCause() instanceof SQLException x ? x : null;
      UploadResult.Problem data = dataProblem(sql, -1, null);
      if (data == null) {
        throw retry(user, batch, sql, ex);
      }
      // The client's data made a statement outside an entry's own fail (e.g. the authorizer's
      // query).
      result = new UploadResult.Rejected(data.code(), List.of(data));
      logRejected(user, batch, (UploadResult.Rejected) result, sql);
    }
    return result;
  }

  private UploadResult applyIn(DSLContext dsl, AuthContext user, UploadBatch batch) {
    // Validate everything first: every problem is reported, and nothing is written for an invalid
    // batch. Tables and
    // columns outside the allow-list are refused from the list alone: no catalog query for anything
    // a client makes
    // up.
    List<UploadResult.Problem> problems = new ArrayList<>();
    List<TableSpec> specs = new ArrayList<>();
    Set<String> refreshed = new HashSet<>();
    for (int i = 0; i < batch.entries().size(); i++) {
      CrudEntry e = batch.entries().get(i);
      TableSpec spec = tables.get(e.table());
      specs.add(spec);
      if (spec == null) {
        problems.add(
            problem(
                i,
                e,
                ErrorCode.UPLOAD_INVALID,
                "table " + clip(e.table()) + " does not accept uploads"));
        continue;
      }
      int before = problems.size();
      checkEntry(i, e, spec, problems);
      if (problems.size() > before) {
        continue;
      }
      TableInfo info = info(dsl, spec, e.data().keySet(), refreshed);
      for (String column : e.data().keySet()) {
        if (!column.equals(spec.idColumn()) && !info.types().containsKey(column)) {
          if (spec.columns() != null) {
            // Allowed by the host, absent from the table: the host's configuration, not the
            // client's mistake.
            throw new SynclineException(
                ErrorCode.UPLOAD_RETRY,
                "column "
                    + column
                    + " of table "
                    + key(spec)
                    + " is allowed for uploads but does not exist");
          }
          if (!refreshed.contains(key(spec))) {
            // Read a moment ago by another upload: the column may have been added since. Retried,
            // the upload
            // reads the catalog again; a column that stays unknown is refused then.
            throw new SynclineException(
                ErrorCode.UPLOAD_RETRY,
                "table " + key(spec) + " has no column " + clip(column) + " as of a moment ago");
          }
          problems.add(
              problem(
                  i,
                  e,
                  ErrorCode.UPLOAD_INVALID,
                  "table " + e.table() + " has no column " + clip(column)));
        }
      }
    }
    if (!problems.isEmpty()) {
      UploadResult.Rejected rejected = new UploadResult.Rejected(problems.get(0).code(), problems);
      logRejected(user, batch, rejected, null);
      return rejected;
    }
    {
      if (batch.transactionId() != null && alreadyApplied(dsl, user, batch)) {
        return new UploadResult.AlreadyApplied(batch.transactionId());
      }
      int applied = 0;
      int skipped = 0;
      Map<String, Map<String, Map<String, @Nullable Object>>> prefetched =
          prefetch(dsl, batch, specs);
      Set<String> written = new HashSet<>();
      for (int i = 0; i < batch.entries().size(); i++) {
        CrudEntry e = batch.entries().get(i);
        TableSpec spec = specs.get(i);
        TableInfo info =
            Objects.requireNonNull(
                catalog.get(key(spec)), "the catalog holds every table of the batch");
        Table<Record> table = DSL.table(DSL.name(spec.schema(), spec.table()));
        Field<Object> idField = DSL.field(DSL.name(spec.idColumn()));
        String idType = info.types().get(spec.idColumn());
        Field<Object> idValue = cast(e.id(), idType == null ? "text" : idType);
        Map<String, Map<String, @Nullable Object>> rows = prefetched.get(key(spec));
        String rowKey = key(spec) + "/" + e.id();
        Map<String, @Nullable Object> current;
        if (rows != null && !written.contains(rowKey)) {
          current = rows.get(e.id()); // read and locked with the table's other rows
        } else {
          try {
            Record row = dsl.selectFrom(table).where(idField.eq(idValue)).forUpdate().fetchOne();
            current =
                row == null ? null : new LinkedHashMap<String, @Nullable Object>(row.intoMap());
          } catch (DataAccessException ex) {
            return rejectOrRetry(user, batch, ex, i, e);
          }
        }
        written.add(rowKey);
        boolean allowed;
        try {
          allowed = dsl.connectionResult(c -> authorizer.allows(user, e, current, c));
        } catch (DataAccessException ex) {
          return rejectOrRetry(
              user, batch, ex, i, e); // the authorizer's query failed on the client's data?
        }
        if (!allowed) {
          return rejected(
              user,
              batch,
              new UploadResult.Rejected(
                  ErrorCode.UPLOAD_FORBIDDEN,
                  List.of(
                      problem(
                          i,
                          e,
                          ErrorCode.UPLOAD_FORBIDDEN,
                          "not allowed to " + e.op() + " " + e.table() + "/" + clip(e.id())))));
        }
        ConflictResolver.Resolution resolution = conflicts.resolve(e, current);
        Map<String, @Nullable Object> data;
        if (resolution instanceof ConflictResolver.Reject r) {
          return rejected(
              user,
              batch,
              new UploadResult.Rejected(
                  ErrorCode.UPLOAD_CONFLICT,
                  List.of(problem(i, e, ErrorCode.UPLOAD_CONFLICT, r.reason()))));
        } else if (resolution instanceof ConflictResolver.Apply a) {
          data = a.data() != null ? a.data() : e.data();
        } else {
          skipped++;
          continue;
        }
        try {
          write(dsl, spec, info, table, idField, idValue, e, data, current != null);
        } catch (DataAccessException ex) {
          return rejectOrRetry(user, batch, ex, i, e);
        }
        applied++;
      }
      if (batch.transactionId() != null) {
        dsl.update(DSL.table(DSL.name(idempotencyTable.split("\\."))))
            .set(DSL.field(DSL.name("last_transaction_id")), (Object) batch.transactionId())
            .set(DSL.field(DSL.name("updated_at")), DSL.currentOffsetDateTime())
            .where(DSL.field(DSL.name("user_id")).eq(user.userId()))
            .and(DSL.field(DSL.name("client_id")).eq(batch.clientId()))
            .execute();
      }
      return new UploadResult.Applied(applied, skipped, null);
    }
  }

  /**
   * Reads and locks the current rows of every table the batch writes more than one row of, with one
   * query per table (ordered by id, so concurrent uploads lock in the same order): table key to
   * entry id to row, absent ids missing. A table whose read fails (e.g. an id its type refuses) is
   * left out, under a savepoint, so that the row-by-row read names the entry.
   */
  private Map<String, Map<String, Map<String, @Nullable Object>>> prefetch(
      DSLContext dsl, UploadBatch batch, List<TableSpec> specs) {
    Map<TableSpec, LinkedHashSet<String>> ids = new LinkedHashMap<>();
    for (int i = 0; i < batch.entries().size(); i++) {
      ids.computeIfAbsent(specs.get(i), k -> new LinkedHashSet<>())
          .add(batch.entries().get(i).id());
    }
    Map<String, Map<String, Map<String, @Nullable Object>>> out = new HashMap<>();
    ids.forEach(
        (spec, keys) -> {
          String idType =
              Objects.requireNonNull(catalog.get(key(spec))).types().get(spec.idColumn());
          if (keys.size() < 2 || idType == null) {
            return;
          }
          String values = String.join(", ", Collections.nCopies(keys.size(), "(?)"));
          String sql =
              "SELECT v.syncline_key, t.* FROM (VALUES "
                  + values
                  + ") AS v(syncline_key) JOIN "
                  + dsl.render(DSL.table(DSL.name(spec.schema(), spec.table())))
                  + " t ON t."
                  + dsl.render(DSL.name(spec.idColumn()))
                  + " = CAST(v.syncline_key AS "
                  + idType
                  + ") ORDER BY t."
                  + dsl.render(DSL.name(spec.idColumn()))
                  + " FOR UPDATE OF t";
          Map<String, Map<String, @Nullable Object>> rows =
              dsl.connectionResult(
                  c -> {
                    Savepoint savepoint = c.setSavepoint();
                    try {
                      Map<String, Map<String, @Nullable Object>> found = new HashMap<>();
                      for (Record r :
                          DSL.using(c, SQLDialect.POSTGRES)
                              .resultQuery(sql, keys.toArray())
                              .fetch()) {
                        Map<String, @Nullable Object> row = new LinkedHashMap<>(r.intoMap());
                        found.put(String.valueOf(row.remove("syncline_key")), row);
                      }
                      c.releaseSavepoint(savepoint);
                      return found;
                    } catch (DataAccessException e) {
                      SQLException cause = e.getCause() instanceof SQLException x ? x : null;
                      String state =
                          cause == null || cause.getSQLState() == null ? "" : cause.getSQLState();
                      if (!state.startsWith("22")) {
                        throw e; // not about the values: a failure to retry
                      }
                      c.rollback(savepoint);
                      return null;
                    }
                  });
          if (rows != null) {
            out.put(key(spec), rows);
          }
        });
    return out;
  }

  private void write(
      DSLContext dsl,
      TableSpec spec,
      TableInfo info,
      Table<Record> table,
      Field<Object> idField,
      Field<Object> idValue,
      CrudEntry e,
      Map<String, @Nullable Object> data,
      boolean exists) {
    Map<Field<?>, Field<Object>> values = new LinkedHashMap<>();
    for (Map.Entry<String, @Nullable Object> v : data.entrySet()) {
      if (v.getKey().equals(spec.idColumn())) {
        continue;
      }
      String type = info.types().get(v.getKey());
      if (type == null || (spec.columns() != null && !spec.columns().contains(v.getKey()))) {
        // A resolver's merged data may not add columns the upload could not: the host's bug, not
        // the client's.
        throw new SynclineException(
            ErrorCode.UPLOAD_RETRY,
            "the conflict resolver wrote column "
                + clip(v.getKey())
                + ", which table "
                + key(spec)
                + " does not accept uploads to");
      }
      values.put(DSL.field(DSL.name(v.getKey())), cast(v.getValue(), type));
    }
    if (e.op() == CrudEntry.Op.DELETE) {
      dsl.deleteFrom(table).where(idField.eq(idValue)).execute();
    } else if (e.op() == CrudEntry.Op.PATCH || exists) {
      // A PATCH, or a PUT of a row that exists: the uploaded columns are updated, the others stay.
      if (!values.isEmpty()) {
        dsl.update(table).set(values).where(idField.eq(idValue)).execute();
      }
    } else {
      Map<Field<?>, Field<Object>> row = new LinkedHashMap<>();
      row.put(idField, idValue);
      row.putAll(values);
      // Only a row with the same id counts as "created meanwhile"; any other unique violation is
      // the data's.
      int n = dsl.insertInto(table).set(row).onConflict(idField).doNothing().execute();
      if (n == 0) {
        // Inserted by someone else since it was read: decide again with the row in place.
        throw new SynclineException(
            ErrorCode.UPLOAD_RETRY,
            "row " + e.table() + "/" + e.id() + " was created concurrently; retry the upload");
      }
    }
  }

  /**
   * Takes the client's row lock; whether this transaction id (or a later one) was applied before.
   */
  private boolean alreadyApplied(DSLContext dsl, AuthContext user, UploadBatch batch) {
    ensureIdempotencyTable(dsl);
    Table<Record> t = DSL.table(DSL.name(idempotencyTable.split("\\.")));
    Field<Object> userId = DSL.field(DSL.name("user_id"));
    Field<Object> clientId = DSL.field(DSL.name("client_id"));
    Field<Long> last = DSL.field(DSL.name("last_transaction_id"), SQLDataType.BIGINT);
    dsl.insertInto(t)
        .columns(
            userId,
            clientId,
            DSL.field(DSL.name("last_transaction_id")),
            DSL.field(DSL.name("updated_at")))
        .values(user.userId(), batch.clientId(), Long.MIN_VALUE, DSL.currentOffsetDateTime())
        .onConflictDoNothing()
        .execute();
    Long applied =
        dsl.select(last)
            .from(t)
            .where(userId.eq(user.userId()))
            .and(clientId.eq(batch.clientId()))
            .forUpdate()
            .fetchOne(last);
    return applied != null && applied >= Objects.requireNonNull(batch.transactionId());
  }

  private void ensureIdempotencyTable(DSLContext dsl) {
    if (idempotencyTableReady) {
      return;
    }
    String[] parts = idempotencyTable.split("\\.");
    if (dsl.fetchValue("SELECT to_regclass({0}) IS NOT NULL", DSL.val(DSL.name(parts).toString()))
        == Boolean.TRUE) {
      idempotencyTableReady = true;
      return;
    }
    // Created in the caller's transaction (Postgres DDL is transactional), so it is only known to
    // exist once seen
    // again later. The lock keeps concurrent first uploads from racing on the catalog.
    dsl.execute(
        "SELECT pg_advisory_xact_lock(hashtext({0}))", DSL.val("syncline:" + idempotencyTable));
    dsl.execute(
        "CREATE TABLE IF NOT EXISTS "
            + DSL.name(parts)
            + " (user_id text NOT NULL, "
            + "client_id text NOT NULL, last_transaction_id bigint NOT NULL, updated_at timestamptz NOT NULL, "
            + "PRIMARY KEY (user_id, client_id))");
  }

  private static String key(TableSpec spec) {
    return spec.schema() + "." + spec.table();
  }

  /**
   * The table's column types. Read from the catalog at first use, and again when {@code columns}
   * names one not known (added since) if the last read is older than {@link #CATALOG_REFRESH_NANOS}
   * and this upload did not read it yet: however many unknown columns uploads name, a table's
   * catalog is read at most once a minute.
   */
  private TableInfo info(
      DSLContext dsl, TableSpec spec, Set<String> columns, Set<String> refreshed) {
    TableInfo info = catalog.get(key(spec));
    if (info != null
        && (info.types().keySet().containsAll(columns)
            || refreshed.contains(key(spec))
            || System.nanoTime() - info.readAt() < CATALOG_REFRESH_NANOS)) {
      return info;
    }
    Map<String, String> types = new LinkedHashMap<>();
    dsl.resultQuery(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                + "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = {0} AND c.relname = {1} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            DSL.val(spec.schema()), DSL.val(spec.table()))
        .fetch()
        .forEach(r -> types.put(r.get(0, String.class), r.get(1, String.class)));
    if (types.isEmpty()) {
      throw new SynclineException(
          ErrorCode.UPLOAD_RETRY,
          "table " + key(spec) + " configured for uploads does not " + "exist in the database");
    }
    info = new TableInfo(types, System.nanoTime());
    catalog.put(key(spec), info);
    refreshed.add(key(spec));
    return info;
  }

  /**
   * What is wrong with an entry of an allowed table before any database work: its id, its column
   * names (the allow-list, or names no Postgres column can have), and its values (NUL characters,
   * sizes).
   */
  private void checkEntry(int i, CrudEntry e, TableSpec spec, List<UploadResult.Problem> problems) {
    if (e.id().length() > MAX_ID_LENGTH) {
      problems.add(
          problem(
              i,
              e,
              ErrorCode.UPLOAD_INVALID,
              "the row id is longer than " + MAX_ID_LENGTH + " characters"));
      return;
    }
    if (e.id().indexOf('\0') >= 0) {
      problems.add(problem(i, e, ErrorCode.UPLOAD_INVALID, "the row id contains a NUL character"));
      return;
    }
    long rowBytes = 0;
    for (Map.Entry<String, @Nullable Object> v : e.data().entrySet()) {
      String column = v.getKey();
      if (column.equals(spec.idColumn())) {
        if (!String.valueOf(v.getValue()).equals(e.id())) {
          problems.add(
              problem(
                  i,
                  e,
                  ErrorCode.UPLOAD_INVALID,
                  "column " + column + " differs from the entry id"));
        }
        continue;
      }
      if (spec.columns() != null
          ? !spec.columns().contains(column)
          : column.isEmpty() || column.indexOf('\0') >= 0 || utf8Length(column, 64) > 63) {
        problems.add(
            problem(
                i,
                e,
                ErrorCode.UPLOAD_INVALID,
                "column " + clip(column) + " of table " + e.table() + " does not accept uploads"));
        continue;
      }
      Object value = v.getValue();
      if (containsNul(value)) {
        problems.add(
            problem(
                i,
                e,
                ErrorCode.UPLOAD_INVALID,
                "the value of column "
                    + column
                    + " contains a NUL character, which the database cannot store"));
        continue;
      }
      long bytes = size(value, maxValueBytes);
      if (bytes > maxValueBytes) {
        problems.add(
            problem(
                i,
                e,
                ErrorCode.UPLOAD_INVALID,
                "the value of column " + column + " is larger than " + maxValueBytes + " bytes"));
      }
      rowBytes += Math.min(bytes, (long) maxValueBytes + 1);
    }
    if (rowBytes > maxRowBytes) {
      problems.add(
          problem(
              i, e, ErrorCode.UPLOAD_INVALID, "the row is larger than " + maxRowBytes + " bytes"));
    }
  }

  private static boolean containsNul(@Nullable Object value) {
    if (value instanceof String s) {
      return s.indexOf('\0') >= 0;
    } else if (value instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (containsNul(e.getKey()) || containsNul(e.getValue())) {
          return true;
        }
      }
    } else if (value instanceof List<?> l) {
      for (Object o : l) {
        if (containsNul(o)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The size of a value's text form in UTF-8 bytes; counting stops once past {@code limit}. */
  private static long size(@Nullable Object value, int limit) {
    if (value == null) {
      return 0;
    } else if (value instanceof String s) {
      return utf8Length(s, limit);
    } else if (value instanceof BigDecimal d) {
      return numberText(d).length();
    } else if (value instanceof Map<?, ?> || value instanceof List<?>) {
      long total = 2;
      Iterable<?> parts = value instanceof Map<?, ?> m ? m.entrySet() : (List<?>) value;
      for (Object part : parts) {
        if (part instanceof Map.Entry<?, ?> entry) {
          total += size(String.valueOf(entry.getKey()), limit) + size(entry.getValue(), limit) + 4;
        } else {
          total += size(part, limit) + 1;
        }
        if (total > limit) {
          return total;
        }
      }
      return total;
    }
    return value.toString().length();
  }

  /** UTF-8 length of {@code s}; counting stops once past {@code limit}. */
  private static long utf8Length(String s, int limit) {
    long bytes = 0;
    for (int i = 0; i < s.length() && bytes <= limit; i++) {
      char c = s.charAt(i);
      bytes +=
          c < 0x80
              ? 1
              : c < 0x800 ? 2 : Character.isHighSurrogate(c) ? 2 : 3; // a pair counts 2 + 2
    }
    return bytes;
  }

  /** A name a client chose, cut short for a message. */
  private static String clip(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "...";
  }

  /** A value bound as text and cast to the column's type (trusted: it comes from the catalog). */
  private static Field<Object> cast(@Nullable Object value, String type) {
    String text = text(value, type);
    return DSL.field("CAST({0} AS " + type + ")", Object.class, DSL.val(text, SQLDataType.VARCHAR));
  }

  private static @Nullable String text(@Nullable Object value, String type) {
    if (value == null) {
      return null;
    }
    boolean array = type.endsWith("[]");
    if (array && value instanceof String s && s.startsWith("[")) {
      try {
        value = JSON.readValue(s, List.class); // clients keep arrays as JSON text
      } catch (JsonProcessingException e) {
        return s; // let the cast report it
      }
    }
    if (array && value instanceof List<?> list) {
      return arrayLiteral(list);
    }
    if (value instanceof Map<?, ?> || value instanceof List<?>) {
      try {
        return JSON.writeValueAsString(value);
      } catch (JsonProcessingException e) {
        throw new SynclineException(ErrorCode.UPLOAD_INVALID, "value cannot be written as JSON");
      }
    }
    if (value instanceof BigDecimal d) {
      return numberText(d);
    }
    return value.toString();
  }

  /**
   * A number's text for a cast: plain digits ({@code 1000}, which integer columns accept) unless
   * the exponent is huge ({@code 1E+999999999} stays in that form, which numeric and float columns
   * read or refuse as out of range; its plain form would be a billion digits).
   */
  private static String numberText(BigDecimal d) {
    return Math.abs((long) d.scale()) <= 1000 ? d.toPlainString() : d.toString();
  }

  /** A Postgres array literal ({@code {"a","b"}}, nested lists as nested arrays). */
  private static String arrayLiteral(List<?> list) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      Object v = list.get(i);
      if (v == null) {
        sb.append("NULL");
      } else if (v instanceof List<?> inner) {
        sb.append(arrayLiteral(inner));
      } else {
        String s;
        try {
          s = v instanceof Map<?, ?> ? JSON.writeValueAsString(v) : v.toString();
        } catch (JsonProcessingException e) {
          throw new SynclineException(
              ErrorCode.UPLOAD_INVALID, "array element cannot be written as JSON");
        }
        sb.append('"').append(s.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
      }
    }
    return sb.append('}').toString();
  }

  /** A data error in one entry rejects the batch; anything else is for the client to retry. */
  private UploadResult rejectOrRetry(
      AuthContext user, UploadBatch batch, DataAccessException ex, int index, CrudEntry e) {
    SQLException sql = ex.getCause() instanceof SQLException x ? x : null;
    UploadResult.Problem p = dataProblem(sql, index, e);
    if (p == null) {
      throw retry(user, batch, sql, ex);
    }
    UploadResult.Rejected rejected = new UploadResult.Rejected(p.code(), List.of(p));
    logRejected(user, batch, rejected, sql);
    return rejected;
  }

  /**
   * The problem a database error names when the client's data caused it, or null when a retry may
   * succeed. Only the error's class decides; the message is the same for every row, so that no SQL,
   * constraint name or value of the database reaches the client.
   */
  static UploadResult.@Nullable Problem dataProblem(
      @Nullable SQLException sql, int index, @Nullable CrudEntry e) {
    String state = sql == null || sql.getSQLState() == null ? "" : sql.getSQLState();
    ErrorCode code = ErrorCode.UPLOAD_INVALID;
    String message;
    switch (state) {
      case "23505" -> {
        code = ErrorCode.UPLOAD_CONFLICT;
        message = "a unique constraint refuses the row (another row has the same value)";
      }
      case "23503" ->
          message =
              "the row refers to a row that does not exist, or is referred to (a foreign key)";
      case "23502" -> message = "a required column is missing or null";
      case "23514" -> message = "a check constraint refuses the row";
      case "23P01" -> message = "an exclusion constraint refuses the row";
      case "22001" -> message = "a value is too long for its column";
      case "22003" -> message = "a number is out of range for its column";
      case "22021", "22P05" -> message = "a value holds characters the database cannot store";
      case "22007", "22008" -> message = "a date or time value is not valid for its column";
      case "22P02" -> message = "a value is not valid for its column's type";
      case "P0001" -> message = "a rule of the database (a trigger) refuses the row";
      default -> {
        if (state.startsWith("23")) {
          message = "a constraint refuses the row";
        } else if (state.startsWith("22")) {
          message = "a value is not valid for its column";
        } else if (state.startsWith("54")) {
          message = "a value is too large for the database (an index or a limit)";
        } else {
          return null; // connection, concurrency, rights, shutdown...: may pass
        }
      }
    }
    return e == null
        ? new UploadResult.Problem(index, "", "", code, message)
        : new UploadResult.Problem(index, e.table(), e.id(), code, message);
  }

  /**
   * Logs a rejection (the client's mistake: one line, with the database's own words when it had
   * any).
   */
  private static void logRejected(
      AuthContext user, UploadBatch batch, UploadResult.Rejected r, @Nullable SQLException cause) {
    LOG.log(
        System.Logger.Level.INFO,
        () -> {
          UploadResult.Problem first = r.problems().get(0);
          StringBuilder sb =
              new StringBuilder("upload of ")
                  .append(who(user, batch))
                  .append(" rejected: ")
                  .append(r.code().code())
                  .append(" (")
                  .append(r.problems().size())
                  .append(r.problems().size() == 1 ? " problem" : " problems")
                  .append("; ops[")
                  .append(first.index())
                  .append("] ")
                  .append(clip(first.table()))
                  .append('/')
                  .append(clip(first.id()))
                  .append(": ")
                  .append(first.message())
                  .append(')');
          if (cause != null) {
            sb.append("; database: SQLSTATE ")
                .append(cause.getSQLState())
                .append(' ')
                .append(firstLine(cause));
          }
          return sb.toString();
        });
  }

  private static UploadResult.Rejected rejected(
      AuthContext user, UploadBatch batch, UploadResult.Rejected r) {
    logRejected(user, batch, r, null);
    return r;
  }

  private static String who(AuthContext user, UploadBatch batch) {
    return "user "
        + clip(user.userId())
        + " client "
        + clip(batch.clientId())
        + (batch.transactionId() == null ? "" : " transaction " + batch.transactionId());
  }

  private static String firstLine(SQLException e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    int nl = m.indexOf('\n');
    return clip200(nl < 0 ? m : m.substring(0, nl));
  }

  private static String clip200(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  /** A failure to retry, logged with its cause; the client keeps its upload. */
  private static SynclineException retry(
      AuthContext user, UploadBatch batch, @Nullable SQLException sql, @Nullable Exception cause) {
    String state = sql == null || sql.getSQLState() == null ? null : sql.getSQLState();
    SynclineException e =
        new Retry(
            "upload not applied, retry later" + (state == null ? "" : " (SQLSTATE " + state + ")"),
            cause != null ? cause : sql);
    LOG.log(
        System.Logger.Level.WARNING,
        () ->
            "upload of "
                + who(user, batch)
                + " not applied, the client will "
                + "retry: "
                + ErrorCode.UPLOAD_RETRY.code()
                + (state == null ? "" : ", SQLSTATE " + state)
                + ": "
                + (cause instanceof SynclineException s ? s.getMessage() : String.valueOf(cause)),
        cause);
    return e;
  }

  /** An {@code UPLOAD_RETRY} already logged. */
  private static final class Retry extends SynclineException {
    private static final long serialVersionUID = 1L;

    Retry(String message, @Nullable Throwable cause) {
      super(ErrorCode.UPLOAD_RETRY, message, cause);
    }
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      // The connection is broken; the pool discards it and the transaction is gone with it.
    }
  }

  private static UploadResult.Problem problem(
      int index, CrudEntry e, ErrorCode code, String message) {
    return new UploadResult.Problem(index, e.table(), e.id(), code, message);
  }

  /**
   * The JSON body for a result: {@code {"applied": n, "skipped": n, "write_checkpoint": "n"}},
   * {@code {"already_applied": true, "transaction_id": n}}, or the protocol's error envelope with a
   * {@code problems} list ({@code index, table, id, code, message}; the first {@value
   * #MAX_PROBLEMS_SHOWN}, with {@code problem_count} saying how many there are): a few KiB at most,
   * however large the upload.
   */
  public static String toJson(UploadResult result) {
    ObjectNode root = JSON.createObjectNode();
    if (result instanceof UploadResult.Applied a) {
      root.put("applied", a.applied()).put("skipped", a.skipped());
      if (a.writeCheckpoint() != null) {
        root.put("write_checkpoint", String.valueOf(a.writeCheckpoint()));
      }
      return root.toString();
    } else if (result instanceof UploadResult.AlreadyApplied a) {
      return root.put("already_applied", true).put("transaction_id", a.transactionId()).toString();
    }
    UploadResult.Rejected r = (UploadResult.Rejected) result;
    ObjectNode error;
    try {
      error =
          (ObjectNode)
              JSON.readTree(ErrorEnvelope.of(r.code(), clip200(r.problems().get(0).message())));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    ObjectNode body = (ObjectNode) error.get("error");
    body.put("problem_count", r.problems().size());
    ArrayNode problems = body.putArray("problems");
    for (UploadResult.Problem p :
        r.problems().subList(0, Math.min(MAX_PROBLEMS_SHOWN, r.problems().size()))) {
      problems
          .addObject()
          .put("index", p.index())
          .put("table", clip(p.table()))
          .put("id", clip(p.id()))
          .put("code", p.code().code())
          .put("message", clip200(p.message()));
    }
    return error.toString();
  }

  /**
   * The JSON body for a failed upload request (the protocol's error envelope: code, status,
   * description; never a stack trace), for hosts that map {@link #parse} and {@link #apply}
   * exceptions themselves. A failure to retry (5xx) is described in general terms only: its cause
   * is in the log, not for the client.
   */
  public static String toJson(SynclineException error) {
    if (error.code().httpStatus() >= 500) {
      return ErrorEnvelope.of(
          error.code(),
          error.code() == ErrorCode.UPLOAD_RETRY
              ? "upload not applied, retry later"
              : "internal error");
    }
    return ErrorEnvelope.of(error);
  }

  /** A response for an upload request, for HTTP adapters. */
  public record Response(int status, String json) {}

  /** The largest upload body this handler accepts ({@link Builder#maxBodyBytes}). */
  public int maxBodyBytes() {
    return maxBodyBytes;
  }

  /**
   * The whole HTTP exchange after the host verified the token: parses {@code body}, applies it and
   * answers 200, a 4xx the client should discard (bad body: 400; rejected: 403/409/422), or 503 the
   * client should retry. Never throws for bad input and never answers with a stack trace; every 4xx
   * and 5xx is logged with its cause.
   */
  public Response handle(AuthContext user, byte[] body) {
    UploadBatch batch;
    try {
      batch = parse(body, maxBodyBytes);
    } catch (SynclineException e) {
      LOG.log(
          System.Logger.Level.INFO,
          () ->
              "upload of user "
                  + clip(user.userId())
                  + " refused: "
                  + e.code().code()
                  + " "
                  + e.getMessage());
      return new Response(e.code().httpStatus(), toJson(e));
    }
    try {
      UploadResult result = apply(user, batch);
      return new Response(result.httpStatus(), toJson(result));
    } catch (SynclineException e) {
      if (!(e instanceof Retry)) {
        LOG.log(
            e.code().httpStatus() >= 500 ? System.Logger.Level.WARNING : System.Logger.Level.INFO,
            () -> "upload of " + who(user, batch) + " not applied: " + e.getMessage(),
            e);
      }
      return new Response(e.code().httpStatus(), toJson(e));
    } catch (RuntimeException e) {
      // Unknown (a bug in an authorizer or resolver, say): keep the client's data and let it retry.
      LOG.log(
          System.Logger.Level.ERROR,
          () ->
              "upload of " + who(user, batch) + " failed unexpectedly; the " + "client will retry",
          e);
      return new Response(
          503,
          toJson(new SynclineException(ErrorCode.UPLOAD_RETRY, "upload not applied, retry later")));
    }
  }
}
