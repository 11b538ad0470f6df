package dev.syncline.testkit;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.WireFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.jspecify.annotations.Nullable;

/**
 * Speaks the PowerSync sync protocol over HTTP as the official clients do: posts {@code
 * /sync/stream}, applies every line to a replica, checks each bucket's checksum at every checkpoint
 * completion (failing loudly on a mismatch), and reconnects with {@code buckets[].after}. For
 * tests; thread-safe for the test thread and its own reader thread.
 *
 * <pre>{@code
 * try (ProtocolClient client = ProtocolClient.connect(server, token)) {
 *   client.awaitCheckpoints(1, Duration.ofSeconds(10));
 *   assertThat(client.table("todos")).containsKey("t1");
 * }
 * }</pre>
 */
public final class ProtocolClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ClientReplica replica;
  private final List<String> lines = new ArrayList<>();
  private final Thread reader;
  private final HttpResponse<InputStream> response;
  private volatile @Nullable Throwable failure;
  private volatile boolean ended;
  private volatile String contentType = "";

  private ProtocolClient(ClientReplica replica, HttpResponse<InputStream> response) {
    this.replica = replica;
    this.response = response;
    this.reader = new Thread(this::read, "protocol-client-reader");
    this.reader.setDaemon(true);
    this.reader.start();
  }

  /**
   * A stream subscription sent in the request's {@code streams.subscriptions}.
   *
   * @param stream the stream name
   * @param parameters its subscription parameters (JSON values)
   * @param overridePriority a priority replacing the stream's, or null
   */
  public record Subscription(
      String stream, Map<String, @Nullable Object> parameters, @Nullable Integer overridePriority) {
    /** Copies the parameters. */
    public Subscription {
      parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    /** A subscription with parameters and the stream's own priority. */
    public static Subscription of(String stream, Map<String, @Nullable Object> parameters) {
      return new Subscription(stream, parameters, null);
    }
  }

  /** Connects as a new client (no buckets held), reading NDJSON. */
  public static ProtocolClient connect(URI baseUri, String token)
      throws IOException, InterruptedException {
    return connect(baseUri, token, new ClientReplica(), false, false, true, List.of());
  }

  /**
   * Connects as a new client with stream subscriptions; {@code includeDefaults} as in the request.
   */
  public static ProtocolClient connect(
      URI baseUri, String token, boolean includeDefaults, List<Subscription> subscriptions)
      throws IOException, InterruptedException {
    return connect(
        baseUri, token, new ClientReplica(), false, false, includeDefaults, subscriptions);
  }

  /**
   * Reconnects with the buckets and positions {@code previous} holds and new subscriptions, as a
   * client does after its app changed what it subscribes to.
   */
  public static ProtocolClient reconnect(
      URI baseUri,
      String token,
      ProtocolClient previous,
      boolean includeDefaults,
      List<Subscription> subscriptions)
      throws IOException, InterruptedException {
    previous.close();
    return connect(baseUri, token, previous.replica, false, false, includeDefaults, subscriptions);
  }

  /**
   * Connects as a new client asking for the encodings the Rust-core SDKs use: BSON lines ({@code
   * Accept: application/vnd.powersync.bson-stream}) and gzip; reads whatever the server chose.
   */
  public static ProtocolClient connectPreferringBsonAndGzip(URI baseUri, String token)
      throws IOException, InterruptedException {
    return connect(baseUri, token, new ClientReplica(), true, true, true, List.of());
  }

  /**
   * Reconnects with the buckets and positions {@code previous} holds, as a client does after a
   * disconnect.
   */
  public static ProtocolClient reconnect(URI baseUri, String token, ProtocolClient previous)
      throws IOException, InterruptedException {
    previous.close();
    return connect(baseUri, token, previous.replica, false, false, true, List.of());
  }

  static ProtocolClient connect(
      URI baseUri,
      String token,
      ClientReplica replica,
      boolean gzip,
      boolean bson,
      boolean includeDefaults,
      List<Subscription> subscriptions)
      throws IOException, InterruptedException {
    StringBuilder subs = new StringBuilder("[");
    for (Subscription s : subscriptions) {
      if (subs.length() > 1) {
        subs.append(',');
      }
      subs.append("{\"stream\":")
          .append(WireFormat.quote(s.stream()))
          .append(",\"parameters\":")
          .append(JSON.writeValueAsString(s.parameters()))
          .append(",\"override_priority\":")
          .append(s.overridePriority())
          .append('}');
    }
    subs.append(']');
    StringBuilder buckets = new StringBuilder("[");
    synchronized (replica) {
      for (Map.Entry<String, String> e : replica.positions().entrySet()) {
        if (buckets.length() > 1) {
          buckets.append(',');
        }
        buckets
            .append("{\"name\":")
            .append(WireFormat.quote(e.getKey()))
            .append(",\"after\":\"")
            .append(e.getValue())
            .append("\"}");
      }
    }
    buckets.append(']');
    String body =
        "{\"buckets\":"
            + buckets
            + ",\"include_checksum\":true,\"raw_data\":true,\"binary_data\":true,"
            + "\"client_id\":\"protocol-client\",\"parameters\":null,"
            + "\"streams\":{\"include_defaults\":"
            + includeDefaults
            + ",\"subscriptions\":"
            + subs
            + "}}";
    HttpRequest.Builder request =
        HttpRequest.newBuilder(baseUri.resolve("/sync/stream"))
            .header("Authorization", "Token " + token)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (gzip) {
      request.header("Accept-Encoding", "gzip");
    }
    if (bson) {
      request.header(
          "Accept", "application/vnd.powersync.bson-stream;q=0.9, application/x-ndjson;q=0.8");
    }
    HttpResponse<InputStream> response =
        HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    if (response.statusCode() != 200) {
      String error;
      try (InputStream in = response.body()) {
        error = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      throw new IOException("sync stream refused with " + response.statusCode() + ": " + error);
    }
    return new ProtocolClient(replica, response);
  }

  private void read() {
    try {
      InputStream in = response.body();
      if (response.headers().firstValue("Content-Encoding").orElse("").equals("gzip")) {
        in = new GZIPInputStream(in);
      }
      contentType = response.headers().firstValue("Content-Type").orElse("");
      if (contentType.startsWith("application/vnd.powersync.bson-stream")) {
        String line;
        while ((line = BsonDecoder.next(in)) != null) {
          apply(line);
        }
      } else {
        try (BufferedReader r =
            new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            apply(line);
          }
        }
      }
    } catch (IOException e) {
      // Closed by us, or the server ended the stream.
    } catch (Throwable t) {
      failure = t;
    } finally {
      ended = true;
      synchronized (replica) {
        replica.notifyAll();
      }
    }
  }

  private void apply(String line) {
    synchronized (replica) {
      lines.add(line);
      replica.accept(line);
      replica.notifyAll();
    }
  }

  /**
   * The response's content type ({@code application/x-ndjson} or {@code
   * application/vnd.powersync.bson-stream}).
   */
  public String contentType() {
    return contentType;
  }

  /** The response's content encoding, or an empty string. */
  public String contentEncoding() {
    return response.headers().firstValue("Content-Encoding").orElse("");
  }

  /**
   * Waits until at least {@code count} checkpoints completed on this replica (they are verified as
   * they complete).
   *
   * @throws AssertionError on a checksum mismatch, a protocol error, or when the wait times out
   */
  public void awaitCheckpoints(int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (replica) {
      while (replica.completed() < count) {
        checkFailure();
        long left = deadline - System.nanoTime();
        if (left <= 0 || ended) {
          throw new AssertionError(
              "expected "
                  + count
                  + " completed checkpoints, got "
                  + replica.completed()
                  + (ended ? " before the stream ended" : " in " + timeout)
                  + "; lines: "
                  + lines);
        }
        TimeUnit.NANOSECONDS.timedWait(replica, left);
      }
    }
    checkFailure();
  }

  /**
   * Waits up to {@code timeout} until more than {@code seen} checkpoints completed or the stream
   * ended, and returns how many completed by then: for watching a client as it syncs, checking what
   * it holds after each checkpoint ({@code seen = client.awaitCheckpointAfter(seen, timeout)} in a
   * loop). Unlike {@link #awaitCheckpoints}, a timeout is not a failure.
   *
   * @throws AssertionError on a checksum mismatch or a protocol error
   */
  public int awaitCheckpointAfter(int seen, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (replica) {
      long left;
      while (replica.completed() <= seen && !ended && (left = deadline - System.nanoTime()) > 0) {
        checkFailure();
        TimeUnit.NANOSECONDS.timedWait(replica, left);
      }
      checkFailure();
      return replica.completed();
    }
  }

  /** Waits until the server ends the stream. */
  public void awaitEnd(Duration timeout) throws InterruptedException {
    reader.join(timeout.toMillis());
    if (!ended) {
      throw new AssertionError("the stream did not end in " + timeout);
    }
    checkFailure();
  }

  private void checkFailure() {
    Throwable f = failure;
    if (f != null) {
      throw new AssertionError("sync stream failed: " + f.getMessage(), f);
    }
  }

  /**
   * What made this client fail (a checksum that did not verify, a line it could not parse), or
   * {@code null}.
   */
  public @Nullable Throwable failure() {
    return failure;
  }

  /** Whether the stream has ended (the server closed it, or {@link #close()} was called). */
  public boolean ended() {
    return ended;
  }

  /** Checkpoints completed on this replica so far. */
  public int completedCheckpoints() {
    synchronized (replica) {
      return replica.completed();
    }
  }

  /**
   * Rows of a client-side table: row id to data JSON.
   *
   * @throws AssertionError when the stream failed (a checksum mismatch, a protocol error)
   */
  public Map<String, String> table(String table) {
    checkFailure(); // a checksum mismatch or protocol error fails the test here, not as a later
    // timeout
    synchronized (replica) {
      return replica.table(table);
    }
  }

  /** The write checkpoint of the latest checkpoint line. */
  public @Nullable String writeCheckpoint() {
    checkFailure();
    synchronized (replica) {
      return replica.writeCheckpoint();
    }
  }

  /** The priority of each bucket the client holds, from the latest checkpoint lines. */
  public Map<String, Integer> bucketPriorities() {
    checkFailure();
    synchronized (replica) {
      return replica.priorities();
    }
  }

  /** Every line received on this connection. */
  public List<String> lines() {
    synchronized (replica) {
      return List.copyOf(lines);
    }
  }

  /** Closes the connection. */
  @Override
  public void close() {
    try {
      response.body().close();
    } catch (IOException e) {
      // Already closed.
    }
    // Once close returns, this client applies nothing more to its replica (a reconnect hands the
    // replica to the next connection, whose count of checkpoints must not move under it).
    if (Thread.currentThread() != reader) {
      try {
        reader.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
