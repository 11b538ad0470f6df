package dev.syncline.core.engine;

import com.sun.net.httpserver.HttpHandler;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.auth.TokenVerifier;
import dev.syncline.api.engine.DetectorThresholds;
import dev.syncline.api.engine.EngineEvent;
import dev.syncline.api.engine.EngineHealth;
import dev.syncline.api.engine.EngineMetrics;
import dev.syncline.api.engine.Finding;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.api.engine.RulesDeployment;
import dev.syncline.api.engine.SyncEngine;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.engine.VersionLifecycle.Served;
import dev.syncline.core.internal.engine.Findings;
import dev.syncline.core.internal.engine.HealthJson;
import dev.syncline.core.replicate.Replicator;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.stream.JdkHttpSyncServer;
import dev.syncline.core.stream.SyncService;
import dev.syncline.core.stream.SyncServlet;
import dev.syncline.spi.source.SourceAdapter;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The embeddable engine: replicates a source into bucket storage through the sync rules and serves
 * PowerSync clients' sync streams, inside the host application.
 *
 * <pre>{@code
 * SyncEngine engine = Syncline.builder()
 *     .storage(JdbcBucketStorage.builder(dataSource).build())
 *     .source(() -> PostgresSource.builder().jdbcUrl(url).user(user).password(password).build())
 *     .rules(SyncRulesSource.ofFile(Path.of("sync-rules.yaml")))
 *     .tokenVerifier(JwtTokenVerifier.builder().jwksUri(jwks).audience("my-app").build())
 *     .build()
 *     .start();
 * // serve engine.servlet("*") at /, or engine.httpHandler("*") on a JDK HttpServer
 * }</pre>
 *
 * <h2>Rules versions</h2>
 *
 * Storage keeps the deployed rules as versions. On {@link #start()} the configured rules are
 * compared with the active version: equal, it keeps serving; different, they become a new version
 * that is replicated from a fresh snapshot while the active one serves, and replace it once they
 * caught up (the first checkpoint of the new version exists: its snapshot is complete and its
 * stream passed the snapshot's position). {@link #deployRules} does the same at runtime. Bucket ids
 * carry the version ({@code <version>#name[...]}, PowerSync protocol §5.1). A bucket definition the
 * deployment left unchanged (and with it everything else that affects evaluation) keeps its ids:
 * when the new version becomes active, its buckets adopt the old version's logs plus the ops that
 * bring them to the new version's contents ({@code BucketStorageWriter.adoptBuckets}), so clients
 * keep those buckets and receive only what changed; the buckets of changed or new definitions are
 * downloaded afresh. (A client that received changes of the old version after the adoption fails
 * the checksum of that bucket once and downloads it again.) Retired versions are dropped with their
 * data and replication slot.
 *
 * <h2>Several instances</h2>
 *
 * Instances sharing one storage each run a replicator per live version; the storage's replication
 * lock lets one replicate, the others stand by and take over within about a second when it stops.
 * Every instance serves streams and follows version changes made by the others (polled every {@link
 * Builder#pollInterval}).
 *
 * <h2>Threads</h2>
 *
 * The engine owns and names its threads: a maintenance thread ({@code <name>-maintenance}: version
 * changes, health, compaction), the stream scheduler ({@code <name>-stream-<n>}, unless the host
 * supplied one), and per replicated version the replicator's threads ({@code
 * syncline-replication-<v>}, {@code syncline-storage-commit-<v>}). Idle streams hold no thread.
 * Listeners run on the maintenance and replication threads and must not block.
 */
public final class Syncline implements SyncEngine {
  private static final System.Logger LOG = System.getLogger(Syncline.class.getName());

  private final BucketStorage storage;
  private final Supplier<? extends SourceAdapter> sources;
  private final String configuredRules;
  private final String rulesName;
  private final TokenVerifier tokenVerifier;
  private final InstantSource clock;
  private final String identity;
  private final String name;
  private final List<Consumer<EngineEvent>> listeners;
  private final int maxConcurrentStreams;
  private final Duration stalledStreamTimeout;
  private final Duration storageTimeout;
  private final DetectorThresholds detectors;

  /** The findings the last maintenance tick announced; written by the tick only. */
  private Map<Finding.Detector, Finding> announcedFindings = Map.of();

  private final int maxBucketsPerConnection;
  private final long maxValueBytes;
  private final long maxRowBytes;
  private final Duration pollInterval;
  private final Duration compactInterval;
  private final String defaultSchema;
  private final @Nullable ScheduledExecutorService givenScheduler;
  private final int streamThreads;
  private final boolean keepUnchangedBuckets;

  private final Object lock = new Object();
  private volatile EngineHealth.State state = EngineHealth.State.NEW;

  /** The rules versions of this instance; set by {@link #start()}. */
  private volatile @Nullable VersionLifecycle versions;

  private @Nullable ScheduledExecutorService maintenance;
  private @Nullable ScheduledExecutorService scheduler;

  /** Used for write-checkpoint heads and to drop retired versions' slots; never run. */
  private @Nullable SourceAdapter headSource;

  private final SyncService.Counters sent = new SyncService.Counters();
  private final LongAdder rowsReplicated = new LongAdder();
  private final LongAdder transactionsReplicated = new LongAdder();

  private Syncline(Builder b) {
    this.storage = Objects.requireNonNull(b.storage, "storage is required");
    this.sources = Objects.requireNonNull(b.sources, "source is required");
    SyncRulesSource rules = Objects.requireNonNull(b.rules, "rules are required");
    this.configuredRules = rules.yaml();
    this.rulesName = rules.origin();
    this.tokenVerifier = Objects.requireNonNull(b.tokenVerifier, "tokenVerifier is required");
    this.clock = b.clock;
    this.identity = b.identity != null ? b.identity : defaultIdentity();
    this.name = b.name;
    this.listeners = List.copyOf(b.listeners);
    this.maxConcurrentStreams = b.maxConcurrentStreams;
    this.stalledStreamTimeout = b.stalledStreamTimeout;
    this.storageTimeout = b.storageTimeout;
    this.detectors = b.detectors;
    this.maxBucketsPerConnection = b.maxBucketsPerConnection;
    this.maxValueBytes = b.maxValueBytes;
    this.maxRowBytes = b.maxRowBytes;
    this.pollInterval = b.pollInterval;
    this.compactInterval = b.compactInterval;
    this.defaultSchema = b.defaultSchema;
    this.givenScheduler = b.scheduler;
    this.streamThreads = b.streamThreads;
    this.keepUnchangedBuckets = b.keepUnchangedBuckets;
  }

  /** Starts configuring an engine. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Configures a {@link Syncline} engine; storage, source, rules and token verifier are required.
   */
  public static final class Builder {
    private @Nullable BucketStorage storage;
    private @Nullable Supplier<? extends SourceAdapter> sources;
    private @Nullable SyncRulesSource rules;
    private @Nullable TokenVerifier tokenVerifier;
    private InstantSource clock = InstantSource.system();
    private @Nullable String identity;
    private String name = "syncline";
    private final List<Consumer<EngineEvent>> listeners = new ArrayList<>();
    private int maxConcurrentStreams = 10_000;
    private Duration stalledStreamTimeout = SyncService.DEFAULT_STALLED_STREAM_TIMEOUT;
    private Duration storageTimeout = Replicator.DEFAULT_STORAGE_TIMEOUT;
    private DetectorThresholds detectors = DetectorThresholds.defaults();
    private int maxBucketsPerConnection = 1_000;
    private long maxValueBytes = 1 << 20;
    private long maxRowBytes = 4 << 20;
    private Duration pollInterval = Duration.ofSeconds(1);
    private Duration compactInterval = Duration.ofHours(1);
    private String defaultSchema = "public";
    private @Nullable ScheduledExecutorService scheduler;
    private int streamThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
    private boolean keepUnchangedBuckets = true;

    private Builder() {}

    /** Where op logs, checkpoints and rules versions are kept; the engine does not close it. */
    public Builder storage(BucketStorage storage) {
      this.storage = Objects.requireNonNull(storage);
      return this;
    }

    /**
     * Creates source adapters: one per replicated rules version (a source replicates one version
     * and is closed with it), and one for write-checkpoint heads.
     */
    public Builder source(Supplier<? extends SourceAdapter> sources) {
      this.sources = Objects.requireNonNull(sources);
      return this;
    }

    /**
     * The sync rules to serve; deployed on {@link #start()} when they differ from the active
     * version.
     */
    public Builder rules(SyncRulesSource rules) {
      this.rules = Objects.requireNonNull(rules);
      return this;
    }

    /** Verifies clients' tokens. */
    public Builder tokenVerifier(TokenVerifier tokenVerifier) {
      this.tokenVerifier = Objects.requireNonNull(tokenVerifier);
      return this;
    }

    /** The clock for token expiry; default the system clock. */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock);
      return this;
    }

    /** How this instance names itself in the replication lock; default {@code <host>/<pid>}. */
    public Builder identity(String identity) {
      this.identity = Objects.requireNonNull(identity);
      return this;
    }

    /** Prefix of the engine's thread names; default {@code syncline}. */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name);
      return this;
    }

    /**
     * Adds a listener for metrics and life-cycle events; it runs on engine threads and must not
     * block.
     */
    public Builder listener(Consumer<EngineEvent> listener) {
      listeners.add(Objects.requireNonNull(listener));
      return this;
    }

    /** Most streams this instance serves at once; more are refused with 429. Default 10,000. */
    public Builder maxConcurrentStreams(int streams) {
      this.maxConcurrentStreams = streams;
      return this;
    }

    /**
     * How long a stream's client may take nothing (stopped reading, or vanished while data was on
     * its way) before the stream is closed and counts no more against {@link
     * #maxConcurrentStreams}. Default 60 s. See the README's "Dead clients" for what the transport
     * should do as well.
     */
    public Builder stalledStreamTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "stalledStreamTimeout must be positive");
      }
      this.stalledStreamTimeout = timeout;
      return this;
    }

    /**
     * The longest replication waits for one storage call (including the wait for a pooled
     * connection) while it holds the source's replication stream; past it, or at once on a storage
     * connection failure, replication lets go of the stream, reports storage unreachable in {@link
     * #health()}, and retries. So a restart of the database (source and storage on one cluster) is
     * not held up by the host pool's connection timeout. Default 5 s; set it above the longest
     * storage write you expect while storage is slow but well.
     */
    public Builder storageTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "storageTimeout must be positive");
      }
      this.storageTimeout = timeout;
      return this;
    }

    /**
     * When the detectors report stuck clients, stalled replication or slot, retained WAL and slow
     * storage ({@link EngineHealth#findings()}); {@link DetectorThresholds#defaults()} by default.
     */
    public Builder detectors(DetectorThresholds thresholds) {
      this.detectors = Objects.requireNonNull(thresholds);
      return this;
    }

    /** Most buckets one connection may receive. Default 1,000. */
    public Builder maxBucketsPerConnection(int buckets) {
      this.maxBucketsPerConnection = buckets;
      return this;
    }

    /**
     * The largest value of one column, and the largest row, that replication syncs: a row with a
     * larger value, or larger in all (UTF-8 bytes of text, a blob's bytes), is not sent to clients;
     * it is taken out of the buckets it was in until a change brings it within the limits, and
     * reported ({@link EngineEvent.RowTooLarge}, and a warning in the log). Defaults 1 MiB and 4
     * MiB, as the upload handler's; PowerSync allows up to 15 MB a row.
     */
    public Builder rowLimits(long maxValueBytes, long maxRowBytes) {
      if (maxValueBytes < 1 || maxRowBytes < 1) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT,
            "row limits must be positive, got " + maxValueBytes + " and " + maxRowBytes);
      }
      this.maxValueBytes = maxValueBytes;
      this.maxRowBytes = maxRowBytes;
      return this;
    }

    /**
     * How often the engine updates health and replication states, and looks for version changes
     * made by other instances. While nothing changes on this instance (its replication streams or
     * stands by, no version is being filled), the versions in storage are read only every 5th
     * interval; a deployment by another instance is then seen within 5 intervals. Default 1 s.
     */
    public Builder pollInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero()) {
        throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "pollInterval must be positive");
      }
      this.pollInterval = interval;
      return this;
    }

    /**
     * How often the replicating instance compacts the active version's op logs (PowerSync protocol
     * §4.1); {@link Duration#ZERO} turns it off. Default 1 hour.
     */
    public Builder compactInterval(Duration interval) {
      if (interval.isNegative()) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "compactInterval must not be negative");
      }
      this.compactInterval = interval;
      return this;
    }

    /** The schema of unqualified table names in the rules; default {@code public}. */
    public Builder defaultSchema(String schema) {
      this.defaultSchema = Objects.requireNonNull(schema);
      return this;
    }

    /**
     * Runs stream work on the host's scheduler instead of the engine's own ({@code streamThreads}
     * threads); the host shuts it down after closing the engine.
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler);
      return this;
    }

    /**
     * Threads of the engine's own stream scheduler; default the number of processors (at least 2).
     */
    public Builder streamThreads(int threads) {
      if (threads < 1) {
        throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "streamThreads must be at least 1");
      }
      this.streamThreads = threads;
      return this;
    }

    /**
     * Whether bucket definitions a rules deployment leaves unchanged keep their bucket ids and
     * logs, so that clients keep those buckets instead of downloading them again (needs {@link
     * BucketStorage#supportsBucketAdoption()}). Default {@code true}; {@code false} gives every
     * deployment new buckets.
     */
    public Builder keepUnchangedBuckets(boolean keep) {
      this.keepUnchangedBuckets = keep;
      return this;
    }

    /** The engine, not yet started. */
    public Syncline build() {
      return new Syncline(this);
    }
  }

  @Override
  public Syncline start() {
    synchronized (lock) {
      if (state == EngineHealth.State.CLOSED) {
        throw new SynclineException(
            ErrorCode.ENGINE_NOT_RUNNING, "the engine was closed; build a new one");
      }
      if (state == EngineHealth.State.RUNNING) {
        return this;
      }
      SyncRulesCompiler.builder()
          .defaultSchema(defaultSchema)
          .build()
          .compileRules(
              SyncRulesSource.ofYaml(
                  configuredRules, rulesName)); // invalid rules fail here, listed
      maintenance = Executors.newSingleThreadScheduledExecutor(named(name + "-maintenance"));
      scheduler =
          givenScheduler != null
              ? givenScheduler
              : Executors.newScheduledThreadPool(streamThreads, named(name + "-stream-"));
      SourceAdapter head = sources.get();
      headSource = head;
      VersionLifecycle lifecycle =
          new VersionLifecycle(
              storage,
              head,
              keepUnchangedBuckets,
              storageTimeout,
              compactInterval,
              version -> VersionRun.start(version, runSettings()),
              this::serve,
              this::emit);
      versions = lifecycle;
      try {
        lifecycle.deploy(configuredRules);
        lifecycle.refresh();
      } catch (RuntimeException e) {
        shutDownLocked();
        throw e;
      }
      state = EngineHealth.State.RUNNING;
      ScheduledFuture<?> unused =
          maintenance.scheduleWithFixedDelay(
              this::tick, pollInterval.toMillis(), pollInterval.toMillis(), TimeUnit.MILLISECONDS);
    }
    return this;
  }

  @Override
  public RulesDeployment deployRules(SyncRulesSource rules) {
    SyncRulesCompiler.builder()
        .defaultSchema(defaultSchema)
        .build()
        .compileRules(rules); // validate first
    synchronized (lock) {
      requireRunning();
      VersionLifecycle lifecycle = Objects.requireNonNull(versions, "running");
      RulesDeployment d = lifecycle.deploy(rules.yaml());
      lifecycle.refresh();
      return d;
    }
  }

  /** What every version's replication is given. */
  private VersionRun.Settings runSettings() {
    return new VersionRun.Settings(
        storage,
        sources,
        rulesName,
        defaultSchema,
        identity,
        storageTimeout,
        detectors.slotLagBytes(),
        maxValueBytes,
        maxRowBytes,
        this::emit,
        rowsReplicated,
        transactionsReplicated);
  }

  /** The sync service of a version about to be served. Under {@link #lock}. */
  private SyncService serve(VersionRun run) {
    return SyncService.builder()
        .rules(run.rules)
        .storage(storage, run.version)
        .scheduler(Objects.requireNonNull(scheduler))
        .clock(clock)
        .tokenVerifier(tokenVerifier)
        .maxConcurrentStreams(maxConcurrentStreams)
        .maxBucketsPerConnection(maxBucketsPerConnection)
        .stalledStreamTimeout(stalledStreamTimeout)
        .sourceHead(this::sourceHead)
        .counters(sent)
        .build();
  }

  private void tick() {
    try {
      Runnable compaction;
      synchronized (lock) {
        if (state != EngineHealth.State.RUNNING) {
          return;
        }
        compaction = Objects.requireNonNull(versions, "running").maintain();
        announceFindings();
      }
      if (compaction != null) {
        compaction
            .run(); // outside the lock: deployments and close() need not wait for a long compaction
      }
    } catch (RuntimeException e) {
      // Storage unreachable or similar: health says so, the next tick tries again.
      LOG.log(System.Logger.Level.WARNING, "engine maintenance failed: " + e);
    }
  }

  /**
   * What the detectors find now, at most one finding per detector (the first version's). Cheap:
   * reads volatile state only; any thread.
   */
  private List<Finding> findings() {
    Served s = served();
    int stuck = s == null ? 0 : s.service().stuckStreams(detectors.stuckClientAfter());
    List<Findings.Replication> replications = new ArrayList<>();
    for (VersionRun r : runs()) {
      replications.add(
          new Findings.Replication(
              r.version,
              r.replicator.status().state(),
              r.replicator.quietNanos(),
              r.replicator.slowestRecentWriteNanos(),
              r.lagHighSince,
              r.lagBytes,
              r.retainedBytes));
    }
    return Findings.of(detectors, stuck, replications, System.nanoTime());
  }

  /**
   * Announces findings that appeared or cleared since the last tick (events and a log line).
   * Maintenance thread.
   */
  private void announceFindings() {
    Map<Finding.Detector, Finding> now = new EnumMap<>(Finding.Detector.class);
    findings().forEach(f -> now.put(f.detector(), f));
    Served s = served();
    long version = s == null ? 0 : s.version();
    for (Finding f : now.values()) {
      if (!announcedFindings.containsKey(f.detector())) {
        LOG.log(
            System.Logger.Level.WARNING,
            "[" + f.detector().code() + " " + f.detector() + "] " + f.message());
        emit(new EngineEvent.DetectorChanged(version, f, true));
      }
    }
    for (Finding f : announcedFindings.values()) {
      if (!now.containsKey(f.detector())) {
        LOG.log(
            System.Logger.Level.INFO, "[" + f.detector().code() + " " + f.detector() + "] cleared");
        emit(new EngineEvent.DetectorChanged(version, f, false));
      }
    }
    announcedFindings = now;
  }

  private String sourceHead() {
    SourceAdapter h = headSource;
    if (h == null) {
      throw new SynclineException(ErrorCode.ENGINE_NOT_RUNNING, "the sync engine is not running");
    }
    String head = h.writeCheckpointHead().serialize();
    // A client asks after its writes are committed: replication of an idle source should look now,
    // not later.
    VersionLifecycle lifecycle = versions;
    if (lifecycle != null) {
      lifecycle.changesExpected();
    }
    return head;
  }

  /** The served version, or null. Any thread. */
  private @Nullable Served served() {
    VersionLifecycle lifecycle = versions;
    return lifecycle == null ? null : lifecycle.served();
  }

  /** This instance's run of {@code version}, or null. Any thread. */
  private @Nullable VersionRun run(long version) {
    VersionLifecycle lifecycle = versions;
    return lifecycle == null ? null : lifecycle.run(version);
  }

  /** Every run of this instance. Any thread. */
  private Collection<VersionRun> runs() {
    VersionLifecycle lifecycle = versions;
    return lifecycle == null ? List.of() : lifecycle.runs();
  }

  @Override
  public long createWriteCheckpoint(AuthContext user, String clientId) {
    requireRunning();
    return storage.createWriteCheckpoint(
        WriteCheckpointKey.of(user, Objects.requireNonNull(clientId, "clientId")), sourceHead());
  }

  /**
   * The sync service of the active version, for transports: the one to hand the next request to.
   * Changes when another version becomes active. {@code null} while the engine is not running.
   */
  public @Nullable SyncService service() {
    Served s = served();
    return state == EngineHealth.State.RUNNING && s != null ? s.service() : null;
  }

  /**
   * The sync endpoints as a servlet (Jakarta Servlet 6, asynchronous): mount it at {@code /*} or at
   * {@code /sync/*}, {@code /write-checkpoint2.json} and {@code /probes/*}.
   *
   * @param allowedOrigin value of {@code Access-Control-Allow-Origin} ({@code *} lets any page
   *     connect)
   */
  public SyncServlet servlet(String allowedOrigin) {
    return new SyncServlet(
        this::service, allowedOrigin, SyncServlet.DEFAULT_BODY_TIMEOUT, this::health);
  }

  /**
   * The sync endpoints as a handler for the JDK's {@code HttpServer}; see {@link
   * JdkHttpSyncServer#handler(Supplier, String)}.
   */
  public HttpHandler httpHandler(String allowedOrigin) {
    return JdkHttpSyncServer.handler(this::service, allowedOrigin, this::health);
  }

  /**
   * Verifies the token of an {@code Authorization} header with the engine's token verifier, parsed
   * exactly as the sync endpoints parse it ({@code Bearer}/{@code Token}, any case): for the app's
   * own endpoints, so that one token means the same user everywhere.
   *
   * @throws SynclineException with an {@code AUTH_*} code (HTTP 401)
   */
  public AuthContext authenticate(@Nullable String authorizationHeader) {
    return tokenVerifier.verifyAuthorization(authorizationHeader);
  }

  @Override
  public EngineHealth health() {
    VersionLifecycle lifecycle = versions;
    Served s = served();
    VersionRun active = s == null ? null : run(s.version());
    Long pending = lifecycle == null ? null : lifecycle.pendingVersion();
    VersionRun pendingRun = pending == null ? null : run(pending);
    SynclineException error = null;
    for (VersionRun r : new VersionRun[] {active, pendingRun}) {
      if (r != null && error == null) {
        error = r.replicator.status().lastError();
      }
    }
    return new EngineHealth(
        state,
        s == null ? 0 : s.version(),
        pending,
        active == null ? ReplicationState.STOPPED : active.state(),
        pendingRun == null ? ReplicationState.STOPPED : pendingRun.state(),
        error == null ? null : error.code().code(),
        error == null ? null : error.getMessage(),
        active == null ? -1 : active.lagBytes,
        active == null ? -1 : active.lagMillis,
        lifecycle == null || lifecycle.storageReachable(),
        s == null ? 0 : s.service().openStreams(),
        s != null && s.service().latestCheckpoint().isPresent(),
        state == EngineHealth.State.RUNNING ? findings() : List.of());
  }

  @Override
  public EngineMetrics metrics() {
    Served s = served();
    VersionRun active = s == null ? null : run(s.version());
    long lag = active == null ? -1 : active.lagMillis;
    return new EngineMetrics(
        sent.bytes(),
        sent.operations(),
        s == null ? 0 : s.service().openStreams(),
        rowsReplicated.sum(),
        transactionsReplicated.sum(),
        lag < 0 ? 0 : lag / 1000.0,
        sent.stalledStreamsClosed());
  }

  /**
   * The engine's health and key metrics as one JSON object, for operators and monitoring: readiness
   * and its reason, life-cycle and replication states, the last replication error, lag, the initial
   * snapshot's progress per table (while this instance copies it), storage reachability, open
   * streams, and the counters of {@link #metrics()}. It holds error messages and versions: serve it
   * where only operators reach it ({@link #healthServlet()}, {@link #healthHandler()}), not next to
   * the public sync endpoints. Cheap; never blocks on the network.
   */
  public String healthJson() {
    Served s = served();
    VersionRun active = s == null ? null : run(s.version());
    return HealthJson.render(
        health(), metrics(), active == null ? List.of() : active.snapshot.values());
  }

  /**
   * {@link #healthJson()} as a servlet: {@code GET} answers it with 200 when ready, 503 when not.
   * For an operators' path or port (it is not part of the sync endpoints; see {@link
   * #healthJson()}).
   */
  public HealthServlet healthServlet() {
    return new HealthServlet(this);
  }

  /**
   * {@link #healthJson()} as a handler for the JDK's {@code HttpServer}: 200 when ready, 503 when
   * not.
   */
  public HttpHandler healthHandler() {
    return exchange -> {
      try (exchange) {
        byte[] body = healthJson().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(health().ready() ? 200 : 503, body.length);
        exchange.getResponseBody().write(body);
      }
    };
  }

  /**
   * What this instance does for a version's replication ({@code STOPPED} when it runs no replicator
   * for it).
   */
  public ReplicationState replication(long version) {
    VersionRun r = run(version);
    return r == null ? ReplicationState.STOPPED : r.state();
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (state == EngineHealth.State.CLOSED) {
        return;
      }
      state = EngineHealth.State.CLOSED;
      shutDownLocked();
    }
  }

  private void shutDownLocked() {
    if (maintenance != null) {
      maintenance.shutdownNow();
    }
    VersionLifecycle lifecycle = versions;
    if (lifecycle != null) {
      lifecycle.close();
    }
    if (headSource != null) {
      headSource.close();
    }
    if (scheduler != null && givenScheduler == null) {
      scheduler.shutdownNow();
      try {
        scheduler.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (maintenance != null) {
      try {
        maintenance.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void requireRunning() {
    if (state != EngineHealth.State.RUNNING) {
      throw new SynclineException(
          ErrorCode.ENGINE_NOT_RUNNING,
          "the sync engine is " + (state == EngineHealth.State.NEW ? "not started" : "closed"));
    }
  }

  private void emit(EngineEvent event) {
    for (Consumer<EngineEvent> l : listeners) {
      try {
        l.accept(event);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "engine listener failed on " + event + ": " + e);
      }
    }
  }

  private static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    boolean numbered = prefix.endsWith("-");
    return r -> {
      Thread t = new Thread(r, numbered ? prefix + n.incrementAndGet() : prefix);
      t.setDaemon(true);
      return t;
    };
  }

  private static String defaultIdentity() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "unknown-host";
    }
    return host + "/" + ManagementFactory.getRuntimeMXBean().getPid();
  }

  @Override
  public String toString() {
    Served s = served();
    return "Syncline["
        + name
        + ", "
        + state
        + ", active version "
        + (s == null ? 0 : s.version())
        + "]";
  }
}
