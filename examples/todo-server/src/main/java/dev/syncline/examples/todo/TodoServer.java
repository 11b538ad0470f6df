package dev.syncline.examples.todo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.api.upload.CrudEntry;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.core.upload.UploadHandler;
import dev.syncline.postgres.PostgresSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The todo-list backend of PowerSync's demo apps, embedding Syncline: Postgres (embedded by default), the sync
 * endpoints, an upload endpoint applying clients' offline writes, list sharing, and in development a token endpoint.
 *
 * <p>Routes: {@code POST /sync/stream}, {@code GET /write-checkpoint2.json} (the sync endpoints, for PowerSync
 * SDKs); {@code POST /api/upload} (the SDK connector's {@code uploadData}); {@code POST /api/lists/<id>/shares}
 * and {@code DELETE /api/lists/<id>/shares/<user>} (the owner shares a list); {@code GET /dev/token?user=<id>}
 * (development only); {@code GET /probes/*}; {@code GET /} the web page on the official PowerSync web SDK, and
 * {@code GET /api/info}.
 */
public final class TodoServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The JWT audience of this app's tokens. */
  public static final String AUDIENCE = "todo-server";

  private final @Nullable EmbeddedPostgres embedded;
  private HikariDataSource dataSource;
  private final String jdbcUrl;
  private JdbcBucketStorage storage;
  private Syncline engine;
  private JwtTokenVerifier verifier;
  private UploadHandler uploads;
  private byte[] secret;
  private HttpServer http;
  private ExecutorService httpThreads;
  private final boolean devTokens;

  /**
   * How to run the server.
   *
   * @param port HTTP port ({@code 0}: any free port)
   * @param dataDir where the embedded Postgres keeps its data between runs ({@code null}: a temporary directory,
   *     deleted on close)
   * @param jdbcUrl an existing Postgres to use instead of the embedded one (with {@code wal_level=logical})
   * @param user the existing Postgres' user
   * @param password its password
   * @param devTokens whether {@code GET /dev/token} hands out tokens (development only)
   * @param slotPrefix prefix of the replication slot and publication names (slots are per server, so two apps on
   *     one server need different prefixes)
   * @param rules the sync rules; null for the bundled {@code todo/sync-rules.yaml}
   */
  public record Config(int port, @Nullable Path dataDir, @Nullable String jdbcUrl, @Nullable String user,
      @Nullable String password, boolean devTokens, String slotPrefix, @Nullable SyncRulesSource rules) {
    /** The embedded default on {@code port}. */
    public static Config embedded(int port, @Nullable Path dataDir, boolean devTokens) {
      return new Config(port, dataDir, null, null, null, devTokens, "todo_sync", null);
    }

    /** An existing Postgres (with {@code wal_level=logical}). */
    public static Config external(int port, String jdbcUrl, String user, String password, boolean devTokens,
        String slotPrefix) {
      return new Config(port, null, jdbcUrl, user, password, devTokens, slotPrefix, null);
    }

    /** This configuration with other sync rules. */
    public Config withRules(SyncRulesSource rules) {
      return new Config(port, dataDir, jdbcUrl, user, password, devTokens, slotPrefix, rules);
    }
  }

  /** The bundled Sync Streams version of the rules ({@code todo/sync-streams.yaml}). */
  public static SyncRulesSource streamsRules() {
    return SyncRulesSource.ofYaml(resource("todo/sync-streams.yaml"), "todo/sync-streams.yaml");
  }

  private TodoServer(Config config) throws IOException, SQLException {
    this.devTokens = config.devTokens();
    EmbeddedPostgres pg = null;
    String url;
    String user;
    String password;
    if (config.jdbcUrl() == null) {
      EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
          .setServerConfig("wal_level", "logical")
          .setServerConfig("max_replication_slots", "10")
          .setServerConfig("max_wal_senders", "10");
      if (config.dataDir() != null) {
        Files.createDirectories(config.dataDir());
        // Kept data must survive a crash: the embedded server otherwise runs with fsync and synchronous commit off.
        b.setDataDirectory(config.dataDir().resolve("postgres")).setCleanDataDirectory(false)
            .setServerConfig("fsync", "on").setServerConfig("synchronous_commit", "on");
      }
      pg = b.start();
      url = "jdbc:postgresql://localhost:" + pg.getPort() + "/postgres";
      user = "postgres";
      password = "";
    } else {
      url = config.jdbcUrl();
      user = Objects.requireNonNullElse(config.user(), "postgres");
      password = Objects.requireNonNullElse(config.password(), "");
    }
    this.embedded = pg;
    this.jdbcUrl = url;
    try {
      HikariConfig hc = new HikariConfig();
      hc.setJdbcUrl(url);
      hc.setUsername(user);
      hc.setPassword(password);
      hc.setMaximumPoolSize(10);
      hc.setPoolName("todo-server");
      this.dataSource = new HikariDataSource(hc);
      createSchema();
      this.secret = devSecret();
      this.storage = JdbcBucketStorage.builder(dataSource).tablePrefix("syncline_").build();
      this.verifier = JwtTokenVerifier.builder().audience(AUDIENCE).hmacSecret(secret, "dev").build();
      this.engine = Syncline.builder()
          .storage(storage)
          .source(() -> PostgresSource.builder().jdbcUrl(url).user(user).password(password)
              .publication(config.slotPrefix(), true).slotPrefix(config.slotPrefix()).build())
          .rules(config.rules() != null ? config.rules()
              : SyncRulesSource.ofYaml(resource("todo/sync-rules.yaml"), "todo/sync-rules.yaml"))
          .tokenVerifier(verifier)
          .name("todo-sync")
          .build();
      this.uploads = UploadHandler.builder(dataSource)
          .table("lists", "created_at", "name", "owner_id")
          .table("todos", "created_at", "completed_at", "description", "completed", "created_by", "completed_by",
              "list_id")
          .authorizer(TodoServer::mayWrite)
          .engine(engine)
          .build();
      engine.start();
      AtomicInteger n = new AtomicInteger();
      this.httpThreads = Executors.newFixedThreadPool(8, r -> {
        Thread t = new Thread(r, "todo-http-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
      this.http = HttpServer.create(new InetSocketAddress("127.0.0.1", config.port()), 1024);
      var sync = engine.httpHandler("*");
      http.createContext("/sync/", sync);
      http.createContext("/write-checkpoint2.json", sync);
      http.createContext("/probes/", sync);
      http.createContext("/api/", this::api);
      http.createContext("/api/info", this::index);
      http.createContext("/dev/token", this::devToken);
      http.createContext("/", this::index);
      http.setExecutor(httpThreads);
      http.start();
    } catch (RuntimeException | SQLException | IOException e) {
      closeQuietly();
      throw e;
    }
  }

  /** Starts Postgres (when embedded), the engine and the HTTP server. */
  public static TodoServer start(Config config) throws IOException, SQLException {
    return new TodoServer(config);
  }

  /** The base URL to give a PowerSync SDK ({@code endpoint} of the connector's credentials). */
  public URI baseUri() {
    return URI.create("http://127.0.0.1:" + http.getAddress().getPort());
  }

  /** The JDBC URL of the database. */
  public String jdbcUrl() {
    return jdbcUrl;
  }

  /** The development token endpoint ({@code ?user=<id>}). */
  public URI devTokenUri() {
    return baseUri().resolve("/dev/token");
  }

  /** The engine, for health and tests. */
  public Syncline engine() {
    return engine;
  }

  /** The app's database. */
  public javax.sql.DataSource dataSource() {
    return dataSource;
  }

  private void createSchema() throws SQLException {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      s.execute(resource("todo/schema.sql"));
    }
  }

  /**
   * Who may write what: a user creates lists they own, changes and deletes only their own lists, and writes todos
   * of lists they own or that are shared with them (moving a todo needs access to both lists). A
   * {@link dev.syncline.api.upload.WriteAuthorizer}; the Spring Boot example uses it too.
   */
  public static boolean mayWrite(AuthContext user, CrudEntry entry, @Nullable Map<String, @Nullable Object> current,
      Connection tx) throws SQLException {
    String me = user.userKey();
    switch (entry.table()) {
      case "lists" -> {
        if (current == null) {
          // Creating: only in one's own name. Changing or deleting a list that is gone: nothing to protect (the
          // conflict policy skips it), and denying would make the client discard the rest of its transaction.
          return entry.op() != CrudEntry.Op.PUT || me.equals(entry.data().get("owner_id"));
        }
        return me.equals(current.get("owner_id"))
            && (!entry.data().containsKey("owner_id") || entry.data().get("owner_id") != null);
      }
      case "todos" -> {
        Object before = current == null ? null : current.get("list_id");
        Object after = entry.data().get("list_id");
        if (before == null && after == null) {
          return entry.op() != CrudEntry.Op.PUT; // a todo that is gone: nothing to protect, the policy skips it
        }
        return (before == null || canAccess(tx, before.toString(), me))
            && (after == null || canAccess(tx, after.toString(), me));
      }
      default -> {
        return false;
      }
    }
  }

  private static boolean canAccess(Connection tx, String listId, String user) throws SQLException {
    try (PreparedStatement s = tx.prepareStatement("SELECT 1 FROM lists l WHERE l.id::text = ? AND (l.owner_id = ? "
        + "OR EXISTS (SELECT 1 FROM list_shares s WHERE s.list_id = l.id AND s.user_id = ?))")) {
      s.setString(1, listId);
      s.setString(2, user);
      s.setString(3, user);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next();
      }
    }
  }

  // ---- HTTP

  private void api(HttpExchange ex) throws IOException {
    try (ex) {
      cors(ex);
      if (ex.getRequestMethod().equals("OPTIONS")) {
        ex.sendResponseHeaders(204, -1);
        return;
      }
      String path = ex.getRequestURI().getPath();
      AuthContext user;
      try {
        user = verifier.verify(bearer(ex.getRequestHeaders().getFirst("Authorization")));
      } catch (SynclineException e) {
        send(ex, e.code().httpStatus(), error(e.code(), e.getMessage()));
        return;
      }
      byte[] body = readBody(ex);
      if (path.equals("/api/upload") && ex.getRequestMethod().equals("POST")) {
        UploadHandler.Response r = uploads.handle(user, body);
        send(ex, r.status(), r.json());
      } else if (path.matches("/api/lists/[^/]+/shares") && ex.getRequestMethod().equals("POST")) {
        share(ex, user, path.split("/")[3], body);
      } else if (path.matches("/api/lists/[^/]+/shares/[^/]+") && ex.getRequestMethod().equals("DELETE")) {
        String[] p = path.split("/");
        unshare(ex, user, p[3], URLDecoder.decode(p[5], StandardCharsets.UTF_8));
      } else {
        send(ex, 404, error(ErrorCode.NOT_FOUND, "no route " + ex.getRequestMethod() + " " + path));
      }
    } catch (RuntimeException e) {
      // Never a stack trace to the client; the log has it.
      System.getLogger(TodoServer.class.getName()).log(System.Logger.Level.ERROR, "request failed", e);
      send(ex, 500, error(ErrorCode.INTERNAL, "internal error"));
    }
  }

  private void share(HttpExchange ex, AuthContext user, String listId, byte[] body) throws IOException {
    JsonNode node;
    try {
      node = JSON.readTree(body);
    } catch (IOException e) {
      node = null;
    }
    JsonNode other = node == null ? null : node.get("user_id");
    if (other == null || !other.isTextual() || other.asText().isBlank()) {
      send(ex, 400, error(ErrorCode.INVALID_REQUEST, "body must be {\"user_id\": \"<user to share with>\"}"));
      return;
    }
    ownerWrite(ex, user, listId, "INSERT INTO list_shares (list_id, user_id) SELECT id, ? FROM lists WHERE id::text = ? "
        + "ON CONFLICT DO NOTHING", other.asText());
  }

  private void unshare(HttpExchange ex, AuthContext user, String listId, String other) throws IOException {
    ownerWrite(ex, user, listId, "DELETE FROM list_shares WHERE user_id = ? AND list_id::text = ?", other);
  }

  private void ownerWrite(HttpExchange ex, AuthContext user, String listId, String sql, String other)
      throws IOException {
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement s = c.prepareStatement("SELECT owner_id FROM lists WHERE id::text = ?")) {
        s.setString(1, listId);
        try (ResultSet rs = s.executeQuery()) {
          if (!rs.next()) {
            send(ex, 404, error(ErrorCode.NOT_FOUND, "no list " + listId));
            return;
          }
          if (!user.userKey().equals(rs.getString(1))) {
            send(ex, 403, error(ErrorCode.UPLOAD_FORBIDDEN, "only the list's owner shares it"));
            return;
          }
        }
      }
      try (PreparedStatement s = c.prepareStatement(sql)) {
        s.setString(1, other);
        s.setString(2, listId);
        s.executeUpdate();
      }
      send(ex, 200, "{\"ok\":true}");
    } catch (SQLException e) {
      send(ex, 503, error(ErrorCode.UPLOAD_RETRY, "database unavailable, retry later"));
    }
  }

  private void devToken(HttpExchange ex) throws IOException {
    try (ex) {
      cors(ex);
      if (!devTokens) {
        send(ex, 404, error(ErrorCode.NOT_FOUND, "the development token endpoint is off (start with --dev)"));
        return;
      }
      Map<String, String> query = query(ex.getRequestURI().getRawQuery());
      String user = query.get("user");
      if (user == null || user.isBlank() || user.length() > 200) {
        send(ex, 400, error(ErrorCode.INVALID_REQUEST, "query parameter user=<id> is required (at most 200 chars)"));
        return;
      }
      long seconds;
      try {
        seconds = Long.parseLong(query.getOrDefault("expires_in", "3600"));
      } catch (NumberFormatException e) {
        seconds = -1;
      }
      if (seconds < 1 || seconds > 86_400) {
        send(ex, 400, error(ErrorCode.INVALID_REQUEST, "expires_in must be 1 to 86400 seconds"));
        return;
      }
      send(ex, 200, JSON.createObjectNode().put("token", token(user, Duration.ofSeconds(seconds))).toString());
    }
  }

  /** A development token for {@code user}, signed with the dev key. */
  String token(String user, Duration lifetime) {
    Instant now = Instant.now();
    JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(user).audience(AUDIENCE).issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(lifetime))).build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("dev").build(), claims);
    try {
      jwt.sign(new MACSigner(secret));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }

  /**
   * {@code GET /api/info}: what runs here. {@code GET /} and {@code /assets/*}: the web page (built by
   * {@code mvn install} from {@code web/} into the jar's {@code /web/}), or the info when it was not built.
   */
  private void index(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
        send(ex, 404, error(ErrorCode.NOT_FOUND, "no route " + ex.getRequestMethod() + " " + path));
        return;
      }
      String file = path.equals("/") ? "index.html" : path.startsWith("/assets/") ? path.substring(1) : null;
      if (file != null && !file.contains("..") && file.matches("[A-Za-z0-9._/-]+")) {
        try (InputStream in = TodoServer.class.getClassLoader().getResourceAsStream("web/" + file)) {
          if (in != null) {
            byte[] bytes = in.readAllBytes();
            ex.getResponseHeaders().set("Content-Type", mimeType(file));
            ex.getResponseHeaders().set("Cache-Control", file.startsWith("assets/")
                ? "public, max-age=31536000, immutable" : "no-cache");
            ex.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
              out.write(bytes);
            }
            return;
          }
        }
      }
      if (!path.equals("/") && !path.equals("/api/info")) {
        send(ex, 404, error(ErrorCode.NOT_FOUND, "no route " + path));
        return;
      }
      var h = engine.health();
      String body = JSON.createObjectNode().put("app", "syncline todo-server")
          .put("sync_endpoint", baseUri().toString()).put("upload_endpoint", baseUri() + "/api/upload")
          .put("rules_version", h.activeVersion()).put("replication", h.replication().name())
          .put("ready", h.ready()).put("web_page", TodoServer.class.getClassLoader()
              .getResource("web/index.html") != null).toString();
      send(ex, 200, body);
    }
  }

  private static String mimeType(String file) {
    String ext = file.substring(file.lastIndexOf('.') + 1);
    return switch (ext) {
      case "html" -> "text/html; charset=utf-8";
      case "js", "mjs" -> "text/javascript; charset=utf-8"; // module workers insist
      case "wasm" -> "application/wasm"; // streaming compilation
      case "css" -> "text/css; charset=utf-8";
      case "json", "map" -> "application/json";
      case "svg" -> "image/svg+xml";
      case "png" -> "image/png";
      default -> "application/octet-stream";
    };
  }

  private static void cors(HttpExchange ex) {
    ex.getResponseHeaders().set("Access-Control-Allow-Origin", "*");
    ex.getResponseHeaders().set("Access-Control-Allow-Headers", "Content-Type, Authorization");
    ex.getResponseHeaders().set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
  }

  private static String bearer(@Nullable String header) {
    if (header == null) {
      throw new SynclineException(ErrorCode.AUTH_REQUIRED, "Authorization: Bearer <token> is required");
    }
    String h = header.trim();
    for (String scheme : new String[] {"Bearer ", "Token "}) {
      if (h.regionMatches(true, 0, scheme, 0, scheme.length())) {
        return h.substring(scheme.length()).trim();
      }
    }
    throw new SynclineException(ErrorCode.AUTH_REQUIRED, "Authorization: Bearer <token> is required");
  }

  private static byte[] readBody(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      return in.readNBytes(UploadHandler.MAX_BODY_BYTES + 1);
    }
  }

  private static void send(HttpExchange ex, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static String error(ErrorCode code, @Nullable String message) {
    return JSON.createObjectNode().set("error", JSON.createObjectNode().put("code", code.code())
        .put("status", code.httpStatus()).put("description", String.valueOf(message))).toString();
  }

  private static Map<String, String> query(@Nullable String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw != null) {
      for (String pair : raw.split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
              URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
      }
    }
    return out;
  }

  /**
   * The development signing key, kept in the database: it survives restarts with the data, and every instance on
   * one database signs and accepts the same tokens.
   */
  private byte[] devSecret() throws SQLException {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS todo_dev_key (id int PRIMARY KEY, secret bytea NOT NULL)");
      try (PreparedStatement insert = c.prepareStatement(
          "INSERT INTO todo_dev_key VALUES (1, ?) ON CONFLICT (id) DO NOTHING")) {
        byte[] fresh = new byte[32];
        new SecureRandom().nextBytes(fresh);
        insert.setBytes(1, fresh);
        insert.executeUpdate();
      }
      try (ResultSet rs = s.executeQuery("SELECT secret FROM todo_dev_key WHERE id = 1")) {
        rs.next();
        return rs.getBytes(1);
      }
    }
  }

  private static String resource(String name) {
    try (InputStream in = TodoServer.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Stops HTTP, the engine, the pool and the embedded Postgres, in that order. */
  @Override
  public void close() {
    closeQuietly();
  }

  private void closeQuietly() {
    if (http != null) {
      http.stop(0);
    }
    if (engine != null) {
      engine.close();
    }
    if (httpThreads != null) {
      httpThreads.shutdownNow();
    }
    if (storage != null) {
      storage.close();
    }
    if (dataSource != null) {
      dataSource.close();
    }
    if (embedded != null) {
      try {
        embedded.close();
      } catch (IOException e) {
        // Nothing more to do.
      }
    }
  }
}
