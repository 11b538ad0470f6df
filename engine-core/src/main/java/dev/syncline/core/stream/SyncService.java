package dev.syncline.core.stream;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.auth.TokenVerifier;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.stream.SyncLine;
import dev.syncline.api.stream.SyncRequest;
import dev.syncline.core.internal.storage.ChecksumCache;
import dev.syncline.core.internal.stream.BsonEncoder;
import dev.syncline.core.internal.stream.NdjsonEncoder;
import dev.syncline.core.internal.stream.SyncRequestParser;
import dev.syncline.core.internal.stream.SyncSession;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Serves sync streams, independent of the transport: authenticates and parses a request, then
 * pushes the lines of PowerSync protocol §2.3 into the transport's {@link LineSink} as checkpoints
 * arrive, with {@code token_expires_in} keepalives about every 20 seconds and the end of the stream
 * at token expiry.
 *
 * <p>Threads: no thread per connection. Work runs on the given scheduler: each connection is
 * advanced there when a new checkpoint arrives (one run at a time per connection), and its
 * keepalives are scheduled there. A client that reads slowly holds a scheduler thread while its
 * lines are written. <em>Incubating</em>.
 */
public final class SyncService implements AutoCloseable {
  private final SyncRules rules;
  private final BucketStorage storage;
  private final long versionId;
  private final TokenVerifier tokenVerifier;
  private final ScheduledExecutorService scheduler;
  private final InstantSource clock;
  private final Supplier<String> sourceHead;
  private final ChecksumCache checksums;
  private final int maxBuckets;
  private final int maxParameterResults;
  private final int maxStreams;
  private final Counters counters;

  /**
   * Streams open or being opened; reserved before a stream starts so the limit holds under
   * concurrency.
   */
  private final AtomicInteger streamSlots = new AtomicInteger();

  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();

  /**
   * The newest checkpoint seen: read once at start, then kept by the watcher (no storage query per
   * stream).
   */
  private final AtomicReference<@Nullable Checkpoint> latest = new AtomicReference<>();

  private final AutoCloseable watch;

  /**
   * Lines are buffered until this many bytes are pending, then sent; the rest goes out with the
   * run's flush.
   */
  private static final int SEND_AT_BYTES = 16 * 1024;

  /** Default of {@link Builder#stalledStreamTimeout}. */
  public static final Duration DEFAULT_STALLED_STREAM_TIMEOUT = Duration.ofSeconds(60);

  private static final System.Logger LOG = System.getLogger(SyncService.class.getName());
  private final Duration stalledStreamTimeout;

  private SyncService(Builder b) {
    this.rules = Objects.requireNonNull(b.rules); // build() checked
    this.storage = Objects.requireNonNull(b.storage); // build() checked
    this.versionId = b.versionId;
    this.tokenVerifier = Objects.requireNonNull(b.tokenVerifier); // build() checked
    this.scheduler = Objects.requireNonNull(b.scheduler); // build() checked
    this.clock = b.clock;
    this.sourceHead =
        b.sourceHead != null
            ? b.sourceHead
            : () -> storage.latestCheckpoint(versionId).map(Checkpoint::position).orElse("");
    this.checksums = new ChecksumCache(storage, versionId, 100_000, 8);
    this.maxBuckets = b.maxBuckets;
    this.maxParameterResults = b.maxParameterResults;
    this.maxStreams = b.maxStreams;
    this.stalledStreamTimeout = b.stalledStreamTimeout;
    this.counters = b.counters;
    this.pages =
        Caffeine.newBuilder()
            .executor(
                Runnable
                    ::run) // cache upkeep on the calling thread: no work on threads the engine does
            // not own
            .maximumWeight(50_000)
            .<PageKey, List<OpRecord>>weigher((k, v) -> 1 + v.size())
            .expireAfterWrite(Duration.ofSeconds(30))
            .build();
    this.watch =
        storage.watchCheckpoints(
            versionId,
            c -> {
              latest.accumulateAndGet(c, SyncService::newer);
              try {
                // Queued first: while one scheduler thread reads for all streams in bulk, the
                // others already advance
                // streams (reading for themselves until the bulk read lands).
                scheduler.execute(() -> prefetchChecksums(c));
              } catch (RejectedExecutionException e) {
                return; // shutting down
              }
              connections.forEach(Connection::schedule);
            });
    storage
        .latestCheckpoint(versionId)
        .ifPresent(c -> latest.accumulateAndGet(c, SyncService::newer));
  }

  /** A page of one bucket's ops at one checkpoint: the same for every stream that reads it. */
  private record PageKey(String bucket, OpId after, OpId upTo, int limit) {}

  /**
   * Pages read recently, shared between the streams that send the same new ops after a checkpoint.
   */
  private final Cache<PageKey, List<OpRecord>> pages;

  /** The write checkpoints of every open stream at one checkpoint, read in bulk. */
  private record WriteCheckpoints(
      Checkpoint checkpoint, Set<WriteCheckpointKey> keys, Map<WriteCheckpointKey, Long> ids) {}

  private volatile @Nullable WriteCheckpoints prefetchedWriteCheckpoints;

  /** The reads of every session: shared pages, prefetched write checkpoints, else storage. */
  private final SyncSession.Reads reads =
      new SyncSession.Reads() {
        @Override
        public List<OpRecord> ops(String bucket, OpId after, OpId upTo, int limit) {
          return pages.get(
              new PageKey(bucket, after, upTo, limit),
              k -> storage.ops(versionId, bucket, after, upTo, limit));
        }

        @Override
        public Optional<Long> writeCheckpoint(WriteCheckpointKey key, Checkpoint checkpoint) {
          WriteCheckpoints w = prefetchedWriteCheckpoints;
          if (w != null && w.checkpoint().equals(checkpoint) && w.keys().contains(key)) {
            // Read just before this checkpoint was handed to the streams; one created since
            // resolves at the next.
            return Optional.ofNullable(w.ids().get(key));
          }
          return storage.writeCheckpoint(key, checkpoint);
        }
      };

  /**
   * Computes the checksums every open stream will need at a new checkpoint with one batched storage
   * read, so that streams find them cached instead of each asking storage for its own buckets.
   */
  private void prefetchChecksums(Checkpoint checkpoint) {
    Set<String> buckets = new HashSet<>();
    Set<WriteCheckpointKey> userKeys = new HashSet<>();
    for (Connection c : connections) {
      buckets.addAll(c.buckets);
      WriteCheckpointKey key = c.session.writeCheckpointKey();
      if (key != null) {
        userKeys.add(key);
      }
    }
    if (userKeys.size() < 2) {
      return;
    }
    try {
      checksums.checksums(checkpoint.opId(), buckets);
      prefetchedWriteCheckpoints =
          new WriteCheckpoints(
              checkpoint, userKeys, storage.writeCheckpoints(userKeys, checkpoint));
    } catch (RuntimeException e) {
      // Each stream asks for itself then; the error (e.g. storage unavailable) surfaces there.
    }
  }

  /**
   * What services have sent, for metrics: uncompressed bytes of sync lines and operations in data
   * lines. One instance may be shared by several services (an engine shares one across its rules
   * versions). Thread-safe.
   */
  public static final class Counters {
    private final LongAdder bytes = new LongAdder();
    private final LongAdder operations = new LongAdder();
    private final LongAdder stalled = new LongAdder();

    /** New counters at zero. */
    public Counters() {}

    /** Uncompressed bytes of sync lines sent ({@code powersync_data_synced_bytes_total}). */
    public long bytes() {
      return bytes.sum();
    }

    /** Operations sent in data lines ({@code powersync_operations_synced_total}). */
    public long operations() {
      return operations.sum();
    }

    /** Streams closed because their client took nothing for the stalled-stream timeout. */
    public long stalledStreamsClosed() {
      return stalled.sum();
    }
  }

  /** Starts configuring a service. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Configures a {@link SyncService}; every setting except {@code sourceHead} and {@code clock} is
   * required.
   */
  public static final class Builder {
    private @Nullable SyncRules rules;
    private @Nullable BucketStorage storage;
    private long versionId = -1;
    private @Nullable TokenVerifier tokenVerifier;
    private @Nullable ScheduledExecutorService scheduler;
    private InstantSource clock = InstantSource.system();
    private @Nullable Supplier<String> sourceHead;
    private int maxBuckets = SyncSession.DEFAULT_MAX_BUCKETS;
    private int maxParameterResults = SyncSession.DEFAULT_MAX_PARAMETER_RESULTS;
    private int maxStreams = 10_000;
    private Duration stalledStreamTimeout = DEFAULT_STALLED_STREAM_TIMEOUT;
    private Counters counters = new Counters();

    private Builder() {}

    /** Where to count what is sent; default counters of this service's own. */
    public Builder counters(Counters counters) {
      this.counters = Objects.requireNonNull(counters);
      return this;
    }

    /**
     * Most buckets one connection may receive; more ends its stream ({@code PSYNC_S2305}). Default
     * 1,000.
     */
    public Builder maxBucketsPerConnection(int maxBuckets) {
      if (maxBuckets < 1) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "max buckets must be positive, got " + maxBuckets);
      }
      this.maxBuckets = maxBuckets;
      return this;
    }

    /**
     * Most rows the parameter queries of one connection may return per evaluation; more ends its
     * stream ({@code PSYNC_S2305}). Default 1,000, as the reference.
     */
    public Builder maxParameterResultsPerConnection(int maxRows) {
      this.maxParameterResults = positive(maxRows, "max parameter results");
      return this;
    }

    /**
     * Most concurrent streams; one more is refused with HTTP 429 ({@code PSYNC_S2304}) and the
     * client retries later. Default 10,000 (the reference allows 200 per process; here an idle
     * stream holds no thread and about 11 KiB of heap on the servlet adapter, see
     * docs/benchmarks.md).
     */
    public Builder maxConcurrentStreams(int maxStreams) {
      this.maxStreams = positive(maxStreams, "max concurrent streams");
      return this;
    }

    /**
     * How long a stream's network may stay unable to take more (a client that stopped reading, or
     * vanished while data was on its way) before the stream is closed and its slot freed. Only
     * non-blocking transports report this ({@link LineSink#saturated()}: {@code SyncServlet}).
     * Default 60 s.
     */
    public Builder stalledStreamTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "stalled stream timeout must be positive");
      }
      this.stalledStreamTimeout = timeout;
      return this;
    }

    private static int positive(int value, String what) {
      if (value < 1) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, what + " must be positive, got " + value);
      }
      return value;
    }

    /** The compiled rules of the served version. */
    public Builder rules(SyncRules rules) {
      this.rules = Objects.requireNonNull(rules);
      return this;
    }

    /** The storage and the rules version served from it. */
    public Builder storage(BucketStorage storage, long versionId) {
      this.storage = Objects.requireNonNull(storage);
      this.versionId = versionId;
      return this;
    }

    /** Verifies clients' tokens. */
    public Builder tokenVerifier(TokenVerifier tokenVerifier) {
      this.tokenVerifier = Objects.requireNonNull(tokenVerifier);
      return this;
    }

    /**
     * Runs stream work and keepalives; owned by the caller, who shuts it down after closing the
     * service.
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler);
      return this;
    }

    /** The clock for token expiry; default the system clock. */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock);
      return this;
    }

    /**
     * The source's current head position, recorded with write checkpoints (Postgres: the WAL insert
     * LSN). Default: the latest checkpoint's position, right when the source is the storage's only
     * writer.
     */
    public Builder sourceHead(Supplier<String> sourceHead) {
      this.sourceHead = Objects.requireNonNull(sourceHead);
      return this;
    }

    /** The service. */
    public SyncService build() {
      if (rules == null || storage == null || tokenVerifier == null || scheduler == null) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT,
            "SyncService needs rules, storage, tokenVerifier " + "and scheduler");
      }
      return new SyncService(this);
    }
  }

  /**
   * Verifies the token of an {@code Authorization} header ({@code Bearer <jwt>} or {@code Token
   * <jwt>}, scheme in any case): the first step of every endpoint, taken before the request body is
   * read, so that a client without a valid token cannot make the server read or hold anything of
   * its body.
   *
   * @throws SynclineException with an {@code AUTH_*} code (HTTP 401)
   */
  public AuthContext authenticate(@Nullable String authorization) {
    return tokenVerifier.verifyAuthorization(authorization);
  }

  /**
   * Authenticates and parses a stream request, then starts streaming into {@code sink}.
   *
   * @throws SynclineException with a 4xx code before anything is streamed; the transport answers
   *     with the envelope
   */
  public AutoCloseable openStream(@Nullable String authorization, byte[] body, LineSink sink) {
    return openStream(authenticate(authorization), body, sink, false);
  }

  /**
   * Like {@link #openStream(String, byte[], LineSink)}, encoding lines as BSON documents when
   * {@code bson} (the client preferred {@code application/vnd.powersync.bson-stream}).
   */
  public AutoCloseable openStream(
      @Nullable String authorization, byte[] body, LineSink sink, boolean bson) {
    return openStream(authenticate(authorization), body, sink, bson);
  }

  /**
   * Parses a stream request of an {@linkplain #authenticate authenticated} user and starts
   * streaming.
   */
  public AutoCloseable openStream(AuthContext auth, byte[] body, LineSink sink, boolean bson) {
    try {
      return openStream(auth, body, () -> sink, bson);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // unreachable: this factory does not throw
    }
  }

  /**
   * Validates the request, and only then asks the transport for its sink (which commits it to
   * streaming).
   */
  AutoCloseable openStream(AuthContext auth, byte[] body, SinkFactory sinks, boolean bson)
      throws IOException {
    SyncRequest request = SyncRequestParser.parse(body, auth);
    if (streamSlots.incrementAndGet() > maxStreams) {
      streamSlots.decrementAndGet();
      throw new SynclineException(
          ErrorCode.TOO_MANY_CONNECTIONS,
          "Too many concurrent sync streams (at most " + maxStreams + "); retry later");
    }
    LineSink sink;
    try {
      sink = sinks.open();
    } catch (IOException | RuntimeException e) {
      streamSlots.decrementAndGet();
      throw e;
    }
    Function<SyncLine, byte[]> encode =
        bson ? BsonEncoder::encode : l -> NdjsonEncoder.encode(l).getBytes(StandardCharsets.UTF_8);
    Connection c =
        new Connection(
            auth,
            new SyncSession(
                rules,
                storage,
                versionId,
                checksums,
                request,
                maxBuckets,
                maxParameterResults,
                reads),
            sink,
            l -> {
              byte[] bytes = encode.apply(l);
              counters.bytes.add(bytes.length);
              if (l instanceof SyncLine.Data d) {
                counters.operations.add(d.ops().size());
              }
              return bytes;
            });
    connections.add(c);
    sink.onDrained(c::drained);
    c.scheduleKeepalive();
    c.schedule();
    return c::close;
  }

  /**
   * {@code GET /write-checkpoint2.json}: creates the next write checkpoint of the user and client.
   */
  public long writeCheckpoint(@Nullable String authorization, @Nullable String clientId) {
    return writeCheckpoint(authenticate(authorization), clientId);
  }

  /**
   * Creates the next write checkpoint of an authenticated user's client.
   *
   * @throws SynclineException {@code INVALID_REQUEST} for a client id longer than {@link
   *     WriteCheckpointKey#MAX_CLIENT_ID_LENGTH} or with control characters
   */
  public long writeCheckpoint(AuthContext auth, @Nullable String clientId) {
    return storage.createWriteCheckpoint(WriteCheckpointKey.of(auth, clientId), sourceHead.get());
  }

  /** {@code POST /sync/checkpoint-request}: records a client-chosen write checkpoint id. */
  public long checkpointRequest(
      @Nullable String authorization, @Nullable String clientId, long requestedId) {
    return checkpointRequest(authenticate(authorization), clientId, requestedId);
  }

  /**
   * Records a client-chosen write checkpoint id of an authenticated user's client.
   *
   * @throws SynclineException {@code INVALID_REQUEST} unless {@code 1 <= requestedId <= } {@link
   *     WriteCheckpointKey#MAX_ID}, or for an invalid client id
   */
  public long checkpointRequest(AuthContext auth, @Nullable String clientId, long requestedId) {
    WriteCheckpointKey.checkRequestedId(requestedId);
    return storage.requestWriteCheckpoint(
        WriteCheckpointKey.of(auth, clientId), requestedId, sourceHead.get());
  }

  private static @Nullable Checkpoint newer(@Nullable Checkpoint a, Checkpoint b) {
    return a == null || b.opId().compareTo(a.opId()) >= 0
        ? b
        : a; // same op id: a newer source position
  }

  /** Creates a transport's sink once a stream request was accepted. */
  interface SinkFactory {
    LineSink open() throws IOException;
  }

  /** What this service has sent (shared with other services when given to their builders). */
  public Counters counters() {
    return counters;
  }

  /**
   * The newest checkpoint this service knows of (none before the version's initial snapshot
   * completed).
   */
  public Optional<Checkpoint> latestCheckpoint() {
    return Optional.ofNullable(latest.get());
  }

  /** Number of open streams. */
  public int openStreams() {
    return connections.size();
  }

  /**
   * Open streams whose client has been behind the latest checkpoint for longer than {@code after}:
   * it completed no checkpoint since, though newer data was there to send (a client that stopped
   * reading, or cannot keep up). Any thread; never blocks.
   */
  public int stuckStreams(Duration after) {
    long now = System.nanoTime();
    int stuck = 0;
    for (Connection c : connections) {
      long since = c.behindSince;
      if (since != 0 && !c.closed.get() && now - since > after.toNanos()) {
        stuck++;
      }
    }
    return stuck;
  }

  /**
   * Streams closed so far because their client took nothing for the stalled-stream timeout (per
   * {@link Counters}).
   */
  public long stalledStreamsClosed() {
    return counters.stalledStreamsClosed();
  }

  /** Ends every stream and stops watching checkpoints; idempotent. */
  @Override
  public void close() {
    try {
      watch.close();
    } catch (Exception e) {
      // Nothing else to release.
    }
    connections.forEach(Connection::close);
  }

  /** One open stream. */
  private final class Connection {
    private final AuthContext auth;
    private final SyncSession session;
    private final LineSink sink;
    private final Function<SyncLine, byte[]> encoder;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean dirty = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile @Nullable ScheduledFuture<?> keepalive;

    /** The newest checkpoint this stream evaluated. */
    private @Nullable Checkpoint last;

    /**
     * When this client was last seen behind the latest checkpoint after being caught up ({@link
     * System#nanoTime()}, odd), or 0 while it has everything. Written at the end of each run.
     */
    private volatile long behindSince = System.nanoTime() | 1;

    /** The buckets of the last checkpoint sent; read by the checksum prefetch on another thread. */
    private volatile List<String> buckets = List.of();

    /** The checkpoint of the last checkpoint line sent: pending data is sent up to it. */
    private @Nullable Checkpoint announced;

    /**
     * Times the sink drained since the stream opened; a stall check compares it with what it saw.
     */
    private final AtomicLong drains = new AtomicLong();

    /** The pending stall check, if the sink was seen saturated and has not drained since. */
    private final AtomicReference<@Nullable ScheduledFuture<?>> stallCheck =
        new AtomicReference<>();

    Connection(
        AuthContext auth, SyncSession session, LineSink sink, Function<SyncLine, byte[]> encoder) {
      this.auth = auth;
      this.session = session;
      this.sink = sink;
      this.encoder = encoder;
    }

    void schedule() {
      if (!closed.get()) {
        scheduler.execute(this::advance);
      }
    }

    /** The sink took everything queued (any thread): not stalled; continue. */
    void drained() {
      drains.incrementAndGet();
      ScheduledFuture<?> check = stallCheck.getAndSet(null);
      if (check != null) {
        check.cancel(false);
      }
      schedule();
    }

    /**
     * If the sink cannot take more now, closes the stream unless it drains within the
     * stalled-stream timeout. Called after writing; at most one check is pending.
     */
    private void watchForStall() {
      if (closed.get() || !sink.saturated() || stallCheck.get() != null) {
        return;
      }
      long seen = drains.get();
      ScheduledFuture<?> check;
      try {
        check =
            scheduler.schedule(
                () -> {
                  stallCheck.set(null);
                  if (!closed.get() && drains.get() == seen && sink.saturated()) {
                    LOG.log(
                        System.Logger.Level.INFO,
                        () ->
                            "closing the sync stream of user "
                                + auth.userId()
                                + ": its client took nothing for "
                                + stalledStreamTimeout.toMillis()
                                + " ms (stopped reading, or "
                                + "vanished)");
                    close();
                    counters.stalled.increment();
                  }
                },
                stalledStreamTimeout.toMillis(),
                TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        return; // shutting down
      }
      if (!stallCheck.compareAndSet(null, check)) {
        check.cancel(false);
      }
    }

    /**
     * Sends what the latest checkpoint means for this client; one run at a time, reruns if asked
     * meanwhile.
     */
    private void advance() {
      if (!running.compareAndSet(false, true)) {
        dirty.set(true);
        return;
      }
      try {
        do {
          dirty.set(false);
          if (last == null) {
            // A new stream starts from the storage's latest checkpoint, read now: the watcher's may
            // lag behind a
            // checkpoint another instance committed and served a moment ago, and this client may
            // hold that one's
            // data (it reconnected here from there). An older checkpoint would not match what it
            // holds.
            storage
                .latestCheckpoint(versionId)
                .ifPresent(c -> latest.accumulateAndGet(c, SyncService::newer));
          }
          Checkpoint newest = latest.get();
          if (newest == null || closed.get() || sink.saturated()) {
            continue;
          }
          boolean announcedNow = false;
          if (!newest.equals(last)) {
            last = newest;
            var lines = session.checkpoint(newest);
            for (SyncLine l : lines) {
              sink.write(encoder.apply(l));
            }
            if (!lines.isEmpty()) {
              announced = newest;
              announcedNow = true;
              buckets = session.bucketNames();
            }
          } else if (!session.hasPendingData()) {
            continue;
          }
          Checkpoint current = announced;
          if (current != null && (announcedNow || session.hasPendingData())) {
            IOException[] failure = new IOException[1];
            long[] unflushed = {0};
            session.data(
                current,
                l -> {
                  if (failure[0] == null) {
                    try {
                      byte[] encoded = encoder.apply(l);
                      unflushed[0] += encoded.length;
                      if (unflushed[0] >= SEND_AT_BYTES) {
                        sink.send(
                            encoded); // hand what is buffered to the network: memory per stream
                        // stays bounded
                        unflushed[0] = 0;
                      } else {
                        sink.write(
                            encoded); // small pages go out together at the flush below: one write
                        // per stream
                      }
                    } catch (IOException e) {
                      failure[0] = e;
                    }
                  }
                },
                () -> {
                  Checkpoint n = latest.get();
                  return n != null && n.opId().compareTo(current.opId()) > 0;
                },
                sink::saturated);
            if (failure[0] != null) {
              throw failure[0];
            }
          }
          sink.flush();
        } while (dirty.get() && !closed.get());
        Checkpoint newest = latest.get();
        if (newest != null && newest.equals(last) && !session.hasPendingData()) {
          behindSince = 0;
        } else if (behindSince == 0) {
          behindSince = System.nanoTime() | 1;
        }
        watchForStall();
      } catch (IOException | RuntimeException e) {
        // The client went away, or the stream cannot continue (e.g. too many buckets, storage
        // failing): end it;
        // the client reconnects and gets a fresh start.
        if (e instanceof RuntimeException && !closed.get()) {
          LOG.log(
              System.Logger.Level.WARNING,
              () -> "ending the sync stream of user " + auth.userId() + ": " + e);
        }
        close();
      } finally {
        running.set(false);
      }
      if (dirty.get() && !closed.get()) {
        schedule();
      }
    }

    void scheduleKeepalive() {
      // Milliseconds, not whole seconds: a token with 0.9 s left still gets its stream until it
      // expires.
      long millis = Duration.between(clock.instant(), auth.expiresAt()).toMillis();
      if (millis <= 0) {
        scheduler.execute(this::expire);
        return;
      }
      long delay = Math.min(millis, 18_000 + ThreadLocalRandom.current().nextLong(5_000));
      keepalive =
          scheduler.schedule(
              () -> {
                long left =
                    Math.max(
                        0,
                        (long)
                            Math.ceil(
                                Duration.between(clock.instant(), auth.expiresAt()).toMillis()
                                    / 1000.0));
                if (left <= 0) {
                  expire();
                  return;
                }
                try {
                  sink.send(encoder.apply(new SyncLine.TokenExpiresIn(left)));
                  watchForStall();
                  scheduleKeepalive();
                } catch (IOException e) {
                  close();
                }
              },
              delay,
              TimeUnit.MILLISECONDS);
    }

    private void expire() {
      try {
        sink.send(encoder.apply(new SyncLine.TokenExpiresIn(0)));
      } catch (IOException e) {
        // Closing anyway.
      }
      close();
    }

    void close() {
      if (closed.compareAndSet(false, true)) {
        connections.remove(this);
        streamSlots.decrementAndGet();
        ScheduledFuture<?> k = keepalive;
        if (k != null) {
          k.cancel(false);
        }
        ScheduledFuture<?> check = stallCheck.getAndSet(null);
        if (check != null) {
          check.cancel(false);
        }
        sink.close();
      }
    }
  }
}
