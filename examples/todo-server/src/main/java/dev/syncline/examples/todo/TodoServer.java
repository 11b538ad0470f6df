package dev.syncline.examples.todo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.core.stream.SyncServlet;
import dev.syncline.core.upload.UploadHandler;
import dev.syncline.core.upload.UploadServlet;
import dev.syncline.postgres.PostgresSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
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
import java.util.Objects;
import java.util.UUID;
import javax.sql.DataSource;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http.HttpFields.Mutable;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jspecify.annotations.Nullable;

/**
 * The todo-list backend of PowerSync's demo apps, embedding Syncline: Postgres (embedded by
 * default), the sync endpoints, an upload endpoint applying clients' offline writes, list sharing,
 * and in development a token endpoint, served by Jetty 12.
 *
 * <p>Routes: {@code POST /sync/stream}, {@code GET /write-checkpoint2.json}, {@code POST
 * /sync/checkpoint-request} (the sync endpoints, for PowerSync SDKs; {@link SyncServlet}); {@code
 * POST /api/upload} (the SDK connector's {@code uploadData}; {@link UploadServlet}); {@code PUT}
 * and {@code DELETE /api/lists/<id>/shares/<user>} (the owner shares a list, or stops); {@code GET
 * /dev/token?user=<id>} (development only); {@code GET /probes/*}; {@code GET /internal/health}
 * (the engine's health and metrics, for operators); {@code GET /} the web page on the official
 * PowerSync web SDK, and {@code GET /api/info}.
 *
 * <p>Facing the internet: every endpoint checks the token before it reads anything of a body, and
 * the only bodies read are read asynchronously with a size limit and a deadline (sync and upload
 * requests), so clients that send slowly, or not at all, hold no thread. Jetty bounds the rest:
 * request headers (8 KiB), idle connections (30 s), open connections ({@value #MAX_CONNECTIONS}).
 */
public final class TodoServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(TodoServer.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The JWT audience of this app's tokens. */
  public static final String AUDIENCE = "todo-server";

  /** Connections the server keeps open at most; more wait in the accept queue. */
  static final int MAX_CONNECTIONS = 10_000;

  /**
   * How long a connection may stay silent (no request, or a request stuck mid-way) before it is
   * closed.
   */
  static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);

  private final @Nullable EmbeddedPostgres embedded;
  private HikariDataSource dataSource;
  private final String jdbcUrl;
  private JdbcBucketStorage storage;
  private Syncline engine;
  private JwtTokenVerifier verifier;
  private UploadHandler uploads;
  private byte[] secret;
  private Server http;
  private ServerConnector connector;
  private final boolean devTokens;

  /**
   * How to run the server.
   *
   * @param port HTTP port ({@code 0}: any free port)
   * @param dataDir where the embedded Postgres keeps its data between runs ({@code null}: a
   *     temporary directory, deleted on close)
   * @param jdbcUrl an existing Postgres to use instead of the embedded one (with {@code
   *     wal_level=logical})
   * @param user the existing Postgres' user
   * @param password its password
   * @param devTokens whether {@code GET /dev/token} hands out tokens (development only)
   * @param slotPrefix prefix of the replication slot and publication names (slots are per server,
   *     so two apps on one server need different prefixes)
   * @param rules the sync rules; null for the bundled {@code todo/sync-rules.yaml}
   */
  public record Config(
      int port,
      @Nullable Path dataDir,
      @Nullable String jdbcUrl,
      @Nullable String user,
      @Nullable String password,
      boolean devTokens,
      String slotPrefix,
      @Nullable SyncRulesSource rules) {
    /** The embedded default on {@code port}. */
    public static Config embedded(int port, @Nullable Path dataDir, boolean devTokens) {
      return new Config(port, dataDir, null, null, null, devTokens, "todo_sync", null);
    }

    /** An existing Postgres (with {@code wal_level=logical}). */
    public static Config external(
        int port,
        String jdbcUrl,
        String user,
        String password,
        boolean devTokens,
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
      EmbeddedPostgres.Builder b =
          EmbeddedPostgres.builder()
              .setServerConfig("wal_level", "logical")
              .setServerConfig("max_replication_slots", "10")
              .setServerConfig("max_wal_senders", "10");
      if (config.dataDir() != null) {
        Files.createDirectories(config.dataDir());
        // Kept data must survive a crash: the embedded server otherwise runs with fsync and
        // synchronous commit off.
        b.setDataDirectory(config.dataDir().resolve("postgres"))
            .setCleanDataDirectory(false)
            .setServerConfig("fsync", "on")
            .setServerConfig("synchronous_commit", "on");
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
      this.verifier =
          JwtTokenVerifier.builder().audience(AUDIENCE).hmacSecret(secret, "dev").build();
      this.engine =
          Syncline.builder()
              .storage(storage)
              .source(
                  () ->
                      PostgresSource.builder()
                          .jdbcUrl(url)
                          .user(user)
                          .password(password)
                          .publication(config.slotPrefix(), true)
                          .slotPrefix(config.slotPrefix())
                          .build())
              .rules(
                  config.rules() != null
                      ? config.rules()
                      : SyncRulesSource.ofYaml(
                          resource("todo/sync-rules.yaml"), "todo/sync-rules.yaml"))
              .tokenVerifier(verifier)
              .name("todo-sync")
              .build();
      this.uploads =
          UploadHandler.builder(dataSource)
              .table("lists", "created_at", "name", "owner_id")
              .table(
                  "todos",
                  "created_at",
                  "completed_at",
                  "description",
                  "completed",
                  "created_by",
                  "completed_by",
                  "list_id")
              .authorizer(TodoAuthorizer::mayWrite)
              .engine(engine)
              .build();
      engine.start();
      startHttp(config.port());
    } catch (Exception e) {
      closeQuietly();
      if (e instanceof IOException io) {
        throw io;
      } else if (e instanceof SQLException sql) {
        throw sql;
      } else if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new IOException("cannot start the HTTP server: " + e.getMessage(), e);
    }
  }

  /**
   * Jetty with what a server facing the internet needs: bounded request headers, an idle timeout
   * for silent connections, a cap on open connections, and no thread per waiting client (the sync
   * and upload servlets read bodies asynchronously, streams write asynchronously).
   */
  private void startHttp(int port) throws Exception {
    QueuedThreadPool threads = new QueuedThreadPool(64, 4);
    threads.setName("todo-http");
    threads.setDaemon(true);
    this.http = new Server(threads);
    HttpConfiguration hc = new HttpConfiguration();
    hc.setRequestHeaderSize(8 * 1024);
    hc.setResponseHeaderSize(8 * 1024);
    hc.setSendServerVersion(false);
    hc.setSendDateHeader(false);
    this.connector =
        new KeepaliveConnector(
            http, new HttpConnectionFactory(hc)); // frees vanished clients' streams
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    connector.setIdleTimeout(IDLE_TIMEOUT.toMillis());
    connector.setAcceptQueueSize(1024); // reconnect bursts
    http.addConnector(connector);
    http.addBean(new NetworkConnectionLimit(MAX_CONNECTIONS, connector));

    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    // The sync endpoints: asynchronous (no thread per stream or per slow client); CORS "*" is for
    // development.
    ServletHolder sync = new ServletHolder("sync", engine.servlet("*"));
    sync.setAsyncSupported(true);
    context.addServlet(sync, "/sync/*");
    context.addServlet(sync, "/write-checkpoint2.json");
    context.addServlet(sync, "/probes/*");
    ServletHolder upload = new ServletHolder("upload", new UploadServlet(uploads, verifier, "*"));
    upload.setAsyncSupported(true);
    context.addServlet(upload, "/api/upload");
    context.addServlet(new ServletHolder("shares", new Shares()), "/api/lists/*");
    // The operators' view (errors, lag, snapshot progress): fine on this loopback-only server;
    // elsewhere put it on
    // an admin port or behind authentication, not beside the public endpoints.
    context.addServlet(new ServletHolder("health", engine.healthServlet()), "/internal/health");
    context.addServlet(new ServletHolder("dev-token", new DevTokens()), "/dev/token");
    context.addServlet(new ServletHolder("info", new Page()), "/api/info");
    context.addServlet(new ServletHolder("api", new NotFound()), "/api/*");
    context.addServlet(new ServletHolder("page", new Page()), "/");
    http.setHandler(context);
    JsonErrors errors = new JsonErrors();
    http.setErrorHandler(errors);
    context.setErrorHandler(errors);
    http.start();
  }

  /**
   * Jetty's own answers (a malformed request line or URI, headers too large, an unsupported method)
   * in the protocol's JSON envelope too, with a fixed description: a client parsing error bodies
   * always finds JSON, and nobody gets Jetty's HTML page or its reason text.
   */
  private static final class JsonErrors extends ErrorHandler {
    @Override
    protected void generateResponse(
        Request request,
        Response response,
        int status,
        String message,
        Throwable cause,
        org.eclipse.jetty.util.Callback callback) {
      LOG.log(
          status >= 500 ? System.Logger.Level.WARNING : System.Logger.Level.INFO,
          () ->
              request.getMethod()
                  + " "
                  + clip(request.getHttpURI().getPath())
                  + " -> "
                  + status
                  + " (HTTP server): "
                  + message);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
      if (status == 400 || status == 408 || status == 413 || status == 414 || status == 431) {
        // A request Jetty could not take (an ambiguous or malformed URI, oversized parts): it does
        // not keep such a connection. Say so, or a client reuses it and finds it closed, an error
        // it retries instead of this answer.
        response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
      }
      response.write(
          true, ByteBuffer.wrap(envelope(status).getBytes(StandardCharsets.UTF_8)), callback);
    }

    @Override
    @SuppressWarnings(
        "removal") // deprecated in Jetty 12.1, yet what its parser calls for the requests it
    // refuses
    public ByteBuffer badMessageError(int status, String reason, Mutable fields) {
      LOG.log(System.Logger.Level.INFO, () -> "malformed request -> " + status + ": " + reason);
      fields.put(HttpHeader.CONTENT_TYPE, "application/json");
      return ByteBuffer.wrap(envelope(status).getBytes(StandardCharsets.UTF_8));
    }

    private static String envelope(int status) {
      ErrorCode code =
          switch (status) {
            case 401 -> ErrorCode.AUTH_REQUIRED;
            case 404, 405 -> ErrorCode.NOT_FOUND;
            case 408 -> ErrorCode.REQUEST_TIMEOUT;
            default -> status >= 500 ? ErrorCode.INTERNAL : ErrorCode.INVALID_REQUEST;
          };
      String description =
          status >= 500 ? "internal error" : "the request was not understood (HTTP " + status + ")";
      return JSON.createObjectNode()
          .set(
              "error",
              JSON.createObjectNode()
                  .put("code", code.code())
                  .put("status", status)
                  .put("description", description))
          .toString();
    }
  }

  /** Starts Postgres (when embedded), the engine and the HTTP server. */
  public static TodoServer start(Config config) throws IOException, SQLException {
    return new TodoServer(config);
  }

  /** The base URL to give a PowerSync SDK ({@code endpoint} of the connector's credentials). */
  public URI baseUri() {
    return URI.create("http://127.0.0.1:" + connector.getLocalPort());
  }

  /** The HTTP connector (tests read its connections' socket options). */
  ServerConnector connector() {
    return connector;
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
  public DataSource dataSource() {
    return dataSource;
  }

  private void createSchema() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(resource("todo/schema.sql"));
    }
  }

  // ---- HTTP

  /**
   * {@code PUT /api/lists/<id>/shares/<user>} shares a list with a user, {@code DELETE} stops
   * sharing it: only its owner may. No body: the token is checked, the path validated, and that is
   * all a client can send.
   */
  private final class Shares extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      cors(response);
      if (request.getMethod().equals("OPTIONS")) {
        response.setStatus(204);
        return;
      }
      AuthContext user;
      try {
        user = verifier.verifyAuthorization(request.getHeader("Authorization"));
      } catch (SynclineException e) {
        fail(request, response, e);
        return;
      }
      String[] parts = (request.getPathInfo() == null ? "" : request.getPathInfo()).split("/", -1);
      // "/<list>/shares/<user>" splits into "", list, "shares", user
      boolean put = request.getMethod().equals("PUT");
      if (parts.length != 4
          || !parts[2].equals("shares")
          || !(put || request.getMethod().equals("DELETE"))) {
        fail(
            request,
            response,
            new SynclineException(
                ErrorCode.NOT_FOUND,
                "no route "
                    + request.getMethod()
                    + " /api/lists"
                    + clip(String.valueOf(request.getPathInfo()))
                    + " (PUT or DELETE /api/lists/<id>/shares/<user>)"));
        return;
      }
      UUID list;
      String other;
      try {
        list = UUID.fromString(parts[1]);
        other = parts[3]; // the container decoded the path
      } catch (IllegalArgumentException e) {
        fail(
            request,
            response,
            new SynclineException(ErrorCode.NOT_FOUND, "no list " + clip(parts[1])));
        return;
      }
      String problem = shareTargetProblem(other);
      if (problem != null) {
        fail(request, response, new SynclineException(ErrorCode.INVALID_REQUEST, problem));
        return;
      }
      ownerWrite(
          request,
          response,
          user,
          list,
          put
              ? "INSERT INTO list_shares (list_id, user_id) SELECT id, ? FROM lists WHERE id = ? ON CONFLICT DO NOTHING"
              : "DELETE FROM list_shares WHERE user_id = ? AND list_id = ?",
          other);
    }
  }

  /**
   * Why a list cannot be shared with {@code other}, or null: a user id is a token's {@code sub}, so
   * one that no token could carry (empty, too long, control characters) is refused.
   */
  static @Nullable String shareTargetProblem(String other) {
    if (other.isBlank() || other.length() > AuthContext.MAX_USER_ID_LENGTH) {
      return "the user id must be 1 to " + AuthContext.MAX_USER_ID_LENGTH + " characters";
    }
    if (other.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      return "the user id must not contain control characters";
    }
    return null;
  }

  private void ownerWrite(
      HttpServletRequest request,
      HttpServletResponse response,
      AuthContext user,
      UUID list,
      String sql,
      String other)
      throws IOException {
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement s = c.prepareStatement("SELECT owner_id FROM lists WHERE id = ?")) {
        s.setObject(1, list);
        try (ResultSet rs = s.executeQuery()) {
          if (!rs.next()) {
            fail(request, response, new SynclineException(ErrorCode.NOT_FOUND, "no list " + list));
            return;
          }
          if (!user.userId().equals(rs.getString(1))) {
            fail(
                request,
                response,
                new SynclineException(
                    ErrorCode.UPLOAD_FORBIDDEN, "only the list's owner shares it"));
            return;
          }
          if (other.equals(user.userId())) {
            fail(
                request,
                response,
                new SynclineException(
                    ErrorCode.INVALID_REQUEST, "a list is always shared with its owner"));
            return;
          }
        }
      }
      try (PreparedStatement s = c.prepareStatement(sql)) {
        s.setString(1, other);
        s.setObject(2, list);
        s.executeUpdate();
      }
      send(response, 200, "{\"ok\":true}");
    } catch (SQLException e) {
      // Validated above: what fails now is the database, for the client to retry.
      fail(
          request,
          response,
          new SynclineException(ErrorCode.UPLOAD_RETRY, "database unavailable, retry later", e));
    }
  }

  /**
   * {@code GET /dev/token?user=<id>[&expires_in=<s>]}: a development token, with {@code --dev}
   * only.
   */
  private final class DevTokens extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      cors(response);
      if (!devTokens) {
        fail(
            request,
            response,
            new SynclineException(
                ErrorCode.NOT_FOUND, "the development token endpoint is off (start with --dev)"));
        return;
      }
      String user = request.getParameter("user");
      if (user == null
          || user.isBlank()
          || user.length() > 200
          || user.chars().anyMatch(c -> c < 0x20)) {
        fail(
            request,
            response,
            new SynclineException(
                ErrorCode.INVALID_REQUEST,
                "query parameter user=<id> is required (at most 200 printable characters)"));
        return;
      }
      long seconds;
      try {
        seconds =
            Long.parseLong(Objects.requireNonNullElse(request.getParameter("expires_in"), "3600"));
      } catch (NumberFormatException e) {
        seconds = -1;
      }
      if (seconds < 1 || seconds > 86_400) {
        fail(
            request,
            response,
            new SynclineException(
                ErrorCode.INVALID_REQUEST, "expires_in must be 1 to 86400 seconds"));
        return;
      }
      send(
          response,
          200,
          JSON.createObjectNode()
              .put("token", token(user, Duration.ofSeconds(seconds)))
              .toString());
    }
  }

  /** A development token for {@code user}, signed with the dev key. */
  String token(String user, Duration lifetime) {
    Instant now = Instant.now();
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .subject(user)
            .audience(AUDIENCE)
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plus(lifetime)))
            .build();
    SignedJWT jwt =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("dev").build(), claims);
    try {
      jwt.sign(new MACSigner(secret));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }

  /**
   * {@code GET /api/info}: what runs here. {@code GET /} and {@code /assets/*}: the web page (built
   * by {@code mvn install} from {@code web/} into the jar's {@code /web/}), or the info when it was
   * not built.
   */
  private final class Page extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      String path = request.getRequestURI();
      if (!request.getMethod().equals("GET") && !request.getMethod().equals("HEAD")) {
        fail(
            request,
            response,
            new SynclineException(
                ErrorCode.NOT_FOUND, "no route " + request.getMethod() + " " + clip(path)));
        return;
      }
      String file =
          path.equals("/") ? "index.html" : path.startsWith("/assets/") ? path.substring(1) : null;
      if (file != null && !file.contains("..") && file.matches("[A-Za-z0-9._/-]+")) {
        try (InputStream in =
            TodoServer.class.getClassLoader().getResourceAsStream("web/" + file)) {
          if (in != null) {
            byte[] bytes = in.readAllBytes();
            response.setContentType(mimeType(file));
            response.setHeader(
                "Cache-Control",
                file.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache");
            response.setContentLength(bytes.length);
            response.getOutputStream().write(bytes);
            return;
          }
        }
      }
      if (!path.equals("/") && !path.equals("/api/info")) {
        fail(
            request,
            response,
            new SynclineException(ErrorCode.NOT_FOUND, "no route " + clip(path)));
        return;
      }
      var h = engine.health();
      send(
          response,
          200,
          JSON.createObjectNode()
              .put("app", "syncline todo-server")
              .put("sync_endpoint", baseUri().toString())
              .put("upload_endpoint", baseUri() + "/api/upload")
              .put("rules_version", h.activeVersion())
              .put("replication", h.replication().name())
              .put("ready", h.ready())
              .put(
                  "web_page",
                  TodoServer.class.getClassLoader().getResource("web/index.html") != null)
              .toString());
    }
  }

  /** Any other {@code /api/} route. */
  private static final class NotFound extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      cors(response);
      fail(
          request,
          response,
          new SynclineException(
              ErrorCode.NOT_FOUND,
              "no route " + request.getMethod() + " " + clip(request.getRequestURI())));
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

  private static void cors(HttpServletResponse response) {
    response.setHeader("Access-Control-Allow-Origin", "*");
    response.setHeader("Access-Control-Allow-Headers", "Content-Type, Authorization");
    response.setHeader("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
  }

  /**
   * Answers an error with the protocol's envelope, and logs it: client mistakes in a line, faults
   * with cause.
   */
  private static void fail(
      HttpServletRequest request, HttpServletResponse response, SynclineException e)
      throws IOException {
    int status = e.code().httpStatus();
    String line =
        request.getMethod()
            + " "
            + clip(request.getRequestURI())
            + " from "
            + request.getRemoteAddr()
            + " -> "
            + status
            + " "
            + e.getMessage();
    if (status >= 500) {
      LOG.log(System.Logger.Level.WARNING, line, e);
    } else {
      LOG.log(System.Logger.Level.INFO, line);
    }
    String description =
        status >= 500
            ? "the server could not do it now, retry later"
            : e.getMessage().substring(e.getMessage().indexOf(']') + 2);
    send(
        response,
        status,
        JSON.createObjectNode()
            .set(
                "error",
                JSON.createObjectNode()
                    .put("code", e.code().code())
                    .put("status", status)
                    .put("description", description))
            .toString());
  }

  private static void send(HttpServletResponse response, int status, String json)
      throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.setContentType("application/json");
    response.setContentLength(bytes.length);
    response.getOutputStream().write(bytes);
  }

  private static String clip(String s) {
    return s.length() <= 100 ? s : s.substring(0, 100) + "...";
  }

  /**
   * The development signing key, kept in the database: it survives restarts with the data, and
   * every instance on one database signs and accepts the same tokens.
   */
  private byte[] devSecret() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS todo_dev_key (id int PRIMARY KEY, secret bytea NOT NULL)");
      try (PreparedStatement insert =
          c.prepareStatement(
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
      try {
        http.stop();
      } catch (Exception e) {
        LOG.log(System.Logger.Level.WARNING, "stopping the HTTP server failed", e);
      }
    }
    if (engine != null) {
      engine.close();
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
