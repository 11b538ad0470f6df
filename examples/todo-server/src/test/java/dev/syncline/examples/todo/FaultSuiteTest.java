package dev.syncline.examples.todo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ProtocolClient;
import dev.syncline.testkit.postgres.RestartablePostgres;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fault suite: two todo servers (child JVMs, so they can be killed with SIGKILL and paused with
 * SIGSTOP) on one Postgres that holds the app's tables and Syncline's storage; writers upload todos
 * through the servers' upload endpoint (retrying each transaction, on either server, until it is
 * acknowledged), protocol clients on each server verify every checksum and reconnect as SDKs do. A
 * nemesis cycles through faults with a few healthy seconds between them: the replicating server
 * killed (the other must take over; timed), a server paused, Postgres restarted, every client
 * disconnected, the standby killed and restarted. After healing: no acknowledged write lost,
 * nothing invented, every row holding its last acknowledged write (no transaction applied again
 * after a later one), no row replicated twice, every client converged to Postgres with verified
 * checksums, and no client ever saw a row disappear.
 *
 * <p>{@code mvn verify} runs it for 60 s at 10 transactions/s; the soak profile ({@code
 * -Pfault-soak}) runs 10 minutes at 50/s (docs/benchmarks.md, "Fault suite").
 */
class FaultSuiteTest {
  private static final Duration RUN =
      Duration.ofSeconds(Long.getLong("syncline.faults.seconds", 60));
  private static final int RATE = Integer.getInteger("syncline.faults.rate", 10);
  private static final Duration HEAL = Duration.ofSeconds(90);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final String USER = "alice";

  @Test
  @Timeout(value = 30, unit = TimeUnit.MINUTES) // the soak runs 10 of them; never hang a build
  void twoServersLiveThroughTheNemesisWithoutLosingInventingOrDuplicatingWrites() throws Exception {
    try (RestartablePostgres pg = RestartablePostgres.start()) {
      try (Connection c = pg.dataSource().getConnection();
          Statement st = c.createStatement()) {
        st.execute("CREATE DATABASE observer");
      }
      run(pg);
    }
  }

  private static void run(RestartablePostgres pg) throws Exception {
    // The observer: a third app on its own database of the same Postgres, never killed nor paused:
    // it lives
    // through every Postgres restart of the run, under its own writes, and its memory is sampled
    // all along.
    try (Server a = new Server("a", pg);
        Server b = new Server("b", pg);
        Server observer = new Server("observer", pg, "observer", "todo_observer")) {
      a.start();
      b.start();
      observer.start();
      Await.until(
          Duration.ofSeconds(60),
          () -> a.replication().equals("STREAMING") || b.replication().equals("STREAMING"),
          "one replicates");
      String token = devToken(a);
      String list = UUID.randomUUID().toString();
      Writes writes = new Writes(token, List.of(a, b));
      writes.commit(
          "setup",
          1,
          "{\"op\":\"PUT\",\"table\":\"lists\",\"id\":\""
              + list
              + "\",\"data\":{\"name\":\"faults\",\"owner_id\":\""
              + USER
              + "\"}}",
          System.nanoTime() + Duration.ofMinutes(2).toNanos());
      List<Reader> readers = List.of(new Reader(a, token), new Reader(b, token));
      readers.forEach(Reader::start);
      writes.start(list);
      String observerToken = devToken(observer);
      String observerList = UUID.randomUUID().toString();
      Writes observerWrites = new Writes(observerToken, List.of(observer));
      observerWrites.commit(
          "setup",
          1,
          "{\"op\":\"PUT\",\"table\":\"lists\",\"id\":\""
              + observerList
              + "\",\"data\":{\"name\":\"observed\",\"owner_id\":\""
              + USER
              + "\"}}",
          System.nanoTime() + Duration.ofMinutes(2).toNanos());
      Reader observerReader = new Reader(observer, observerToken);
      observerReader.start();
      observerWrites.start(observerList);

      Map<String, Integer> faults = new LinkedHashMap<>();
      List<Long> takeovers = new ArrayList<>();
      long end = System.nanoTime() + RUN.toNanos();
      for (int round = 0; System.nanoTime() < end; round++) {
        // Healthy for a while: the writers get about two seconds' worth of transactions through
        // (after a fault, proof that writing recovered) before the next fault.
        long ackedBefore = writes.ackedTotal.get();
        Await.until(
            HEAL,
            () -> writes.ackedTotal.get() >= ackedBefore + 2L * RATE,
            "the writers make progress before the next fault");
        String fault =
            switch (round % 5) {
              case 0 -> {
                Server replicating = a.replication().equals("STREAMING") ? a : b;
                Server other = replicating == a ? b : a;
                replicating.kill();
                long t0 = System.nanoTime();
                Await.until(
                    Duration.ofSeconds(60),
                    () -> other.replication().equals("STREAMING"),
                    "the standby takes over");
                takeovers.add((System.nanoTime() - t0) / 1_000_000);
                replicating.start();
                yield "replicating server killed, other took over";
              }
              case 1 -> {
                Server paused = writes.mostPreferred(); // the one the writers are talking to
                // Longer than a writer waits for an answer: it retries on the other server and goes
                // on, and the paused
                // one then finds the stale request waiting and must not apply it again.
                paused.signal("STOP");
                long stopped = System.nanoTime();
                Await.until(
                    HEAL,
                    () -> writes.allAcknowledgedSince(stopped),
                    "every writer has gone on (on the other server) while "
                        + paused.name
                        + " is paused");
                paused.signal("CONT");
                yield "server paused until every writer went on without it";
              }
              case 2 -> {
                pg.restart();
                yield "Postgres restarted";
              }
              case 3 -> {
                readers.forEach(Reader::disconnect);
                yield "every client disconnected";
              }
              default -> {
                Server standby = a.replication().equals("STREAMING") ? b : a;
                standby.kill();
                standby.start();
                yield "standby killed and restarted";
              }
            };
        faults.merge(fault, 1, Integer::sum);
        a.sampleMemory();
        b.sampleMemory();
        observer.sampleMemory();
      }

      // Heal: both servers up, writers stopped; then everything must agree.
      writes.stop();
      observerWrites.stop();
      assertThat(writes.refused).as("no write refused").isEmpty();
      assertThat(observerWrites.refused).as("no write refused by the observer").isEmpty();
      Await.until(
          HEAL,
          () ->
              (a.replication().equals("STREAMING") || b.replication().equals("STREAMING"))
                  && a.ready()
                  && b.ready(),
          "both servers ready, one replicating");
      Set<String> inPostgres = todos(pg.dataSource(), list);
      assertThat(inPostgres).as("no acknowledged write lost").containsAll(writes.acknowledged);
      assertThat(writes.attempted).as("nothing invented").containsAll(inPostgres);
      Map<String, String> descriptions = descriptions(pg.dataSource(), list);
      writes.lastWritten.forEach(
          (id, description) -> {
            if (!writes.uncertain.contains(id)) {
              assertThat(descriptions.get(id))
                  .as(
                      "todo %s holds its last acknowledged write: each transaction applied once,"
                          + " none again after a later one",
                      id)
                  .isEqualTo(description);
            }
          });
      long healed = System.nanoTime();
      for (Reader r : readers) {
        Await.untilAsserted(
            HEAL,
            () ->
                assertThat(r.holds())
                    .as("client on %s holds what Postgres holds", r.server.name)
                    .isEqualTo(inPostgres),
            "the client on " + r.server.name + " to converge");
      }
      long converged = (System.nanoTime() - healed) / 1_000_000;
      Set<String> observed = todos(pg.dataSource("observer"), observerList);
      assertThat(observed)
          .as("observer: no acknowledged write lost")
          .containsAll(observerWrites.acknowledged);
      assertThat(observerWrites.attempted).as("observer: nothing invented").containsAll(observed);
      Map<String, String> observedDescriptions =
          descriptions(pg.dataSource("observer"), observerList);
      observerWrites.lastWritten.forEach(
          (id, description) -> {
            if (!observerWrites.uncertain.contains(id)) {
              assertThat(observedDescriptions.get(id))
                  .as("observer: todo %s holds its last acknowledged write", id)
                  .isEqualTo(description);
            }
          });
      Await.until(
          HEAL, () -> observerReader.holds().equals(observed), "the observer's client converges");
      observerReader.stop();
      assertThat(observerReader.failures).as("checksums verified on the observer").isEmpty();
      assertThat(observerReader.vanished).as("rows never disappeared on the observer").isEmpty();
      readers.forEach(Reader::stop);
      for (Reader r : readers) {
        assertThat(r.failures).as("checksums verified on " + r.server.name).isEmpty();
        assertThat(r.vanished).as("rows never disappeared on " + r.server.name).isEmpty();
      }
      // Each applied write of a row is one change in the WAL and must be one PUT in its bucket, no
      // more.
      assertThat(putsPerTodo(pg, list))
          .as("every change replicated exactly once")
          .containsOnlyKeys(inPostgres)
          .allSatisfy(
              (id, puts) -> {
                long acked = writes.ackedWrites.getOrDefault(id, 0);
                assertThat(puts)
                    .as(id)
                    .isBetween(acked, writes.uncertain.contains(id) ? acked + 1 : acked);
              });
      System.out.printf(
          "fault suite: %d s, %d transactions acknowledged on %d todos (%d attempts), faults %s, "
              + "takeovers %s ms, "
              + "clients converged %d ms after healing, largest RSS of a server process %d MiB (a) / %d MiB (b); "
              + "the observer (never killed, %d transactions) RSS by minute %s MiB%n",
          RUN.toSeconds(),
          writes.ackedWrites.values().stream().mapToInt(Integer::intValue).sum(),
          writes.acknowledged.size(),
          writes.attempts.get(),
          faults,
          takeovers,
          converged,
          a.maxRssKib / 1024,
          b.maxRssKib / 1024,
          observerWrites.ackedWrites.values().stream().mapToInt(Integer::intValue).sum(),
          byMinute(observer.rss));
    }
  }

  /** A todo server in its own JVM, restartable; its port changes with each start. */
  private static final class Server implements AutoCloseable {
    final String name;
    private final RestartablePostgres pg;
    private @Nullable Process process;
    volatile URI base = URI.create("http://127.0.0.1:1");

    private final String database;
    private final String slotPrefix;

    /** Resident memory samples (KiB) with the process's age (ms), in order. */
    final List<long[]> rss = new CopyOnWriteArrayList<>();

    private long startedAt;

    Server(String name, RestartablePostgres pg) {
      this(name, pg, "postgres", "todo_sync");
    }

    Server(String name, RestartablePostgres pg, String database, String slotPrefix) {
      this.name = name;
      this.pg = pg;
      this.database = database;
      this.slotPrefix = slotPrefix;
    }

    void start() throws IOException {
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  Main.class.getName(),
                  "--port",
                  "0",
                  "--dev",
                  "--jdbc-url",
                  pg.jdbcUrl(database),
                  "--db-user",
                  pg.user(),
                  "--slot-prefix",
                  slotPrefix)
              .redirectErrorStream(true)
              .start();
      process = p;
      startedAt = System.nanoTime();
      rss.clear();
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      List<String> lines = new ArrayList<>();
      String line;
      while ((line = out.readLine()) != null && !line.startsWith("press Ctrl-C")) {
        lines.add(line);
        if (line.startsWith("sync endpoint: ")) {
          base = URI.create(line.substring("sync endpoint: ".length()));
        }
      }
      if (line == null) {
        throw new IOException("server " + name + " did not start: " + lines);
      }
      Thread drain = new Thread(() -> out.lines().forEach(l -> {}), "drain-" + name);
      drain.setDaemon(true);
      drain.start();
    }

    void kill() throws InterruptedException {
      Process p = process;
      if (p != null) {
        p.destroyForcibly(); // SIGKILL: no shutdown hook; its connections just drop
        p.waitFor(30, TimeUnit.SECONDS);
      }
    }

    void signal(String signal) throws Exception {
      Process p = process;
      if (p != null) {
        new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
      }
    }

    volatile long maxRssKib;

    /** Notes the process's resident memory (Linux), for the soak's report. */
    void sampleMemory() {
      Process p = process;
      if (p == null || !p.isAlive()) {
        return;
      }
      try {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
          if (line.startsWith("VmRSS:")) {
            long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
            maxRssKib = Math.max(maxRssKib, kib);
            rss.add(new long[] {(System.nanoTime() - startedAt) / 1_000_000, kib});
          }
        }
      } catch (IOException | RuntimeException e) {
        // Not Linux, or the process just ended: no sample.
      }
    }

    String replication() {
      JsonNode info = info();
      return info == null ? "" : info.path("replication").asText();
    }

    boolean ready() {
      JsonNode info = info();
      return info != null && info.path("ready").asBoolean();
    }

    private @Nullable JsonNode info() {
      try {
        return JSON.readTree(get(base.resolve("/api/info")));
      } catch (IOException e) {
        return null;
      }
    }

    @Override
    public void close() throws IOException {
      Process p = process;
      if (p != null) {
        p.destroyForcibly(); // also ends a paused one
      }
    }
  }

  /**
   * Writers: each its own client id; transactions alternately create a todo and edit the one just
   * created; each transaction retried (same id, on the next server) until a server acknowledges it,
   * as an SDK's upload queue does.
   */
  private static final class Writes {
    final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    final Set<String> attempted = ConcurrentHashMap.newKeySet();
    final AtomicLong attempts = new AtomicLong();

    /** The server each writer sends to first. */
    private final Map<String, Integer> preferred = new ConcurrentHashMap<>();

    /** Of each todo, how many of its transactions were acknowledged. */
    final Map<String, Integer> ackedWrites = new ConcurrentHashMap<>();

    /** How many transactions were acknowledged in all. */
    final AtomicLong ackedTotal = new AtomicLong();

    /** Of each writer, when (System.nanoTime) its last transaction was acknowledged. */
    final Map<String, Long> lastAcked = new ConcurrentHashMap<>();

    /** Of each todo, the description its last acknowledged transaction wrote. */
    final Map<String, String> lastWritten = new ConcurrentHashMap<>();

    /** Todos whose last transaction was never acknowledged (the writers stopped first). */
    final Set<String> uncertain = ConcurrentHashMap.newKeySet();

    /** Answers other than 200 or a retryable 5xx: none may come. */
    final List<String> refused = new CopyOnWriteArrayList<>();

    private final String token;
    private final List<Server> servers;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    Writes(String token, List<Server> servers) {
      this.token = token;
      this.servers = servers;
    }

    void start(String list) {
      int writers = Math.max(2, RATE / 10); // each paced at up to 10 transactions/s
      for (int w = 0; w < writers; w++) {
        String client = "writer-" + w;
        Thread t =
            new Thread(
                () -> {
                  long interval = TimeUnit.SECONDS.toNanos(writers) / RATE;
                  long next = System.nanoTime();
                  String created =
                      null; // the todo this writer created last, acknowledged; its next transaction
                  // edits it
                  for (long tx = 1; running.get(); tx++) {
                    String id;
                    String op;
                    String description = client + " " + tx;
                    if (created == null) {
                      id = UUID.randomUUID().toString();
                      attempted.add(id);
                      op =
                          "{\"op\":\"PUT\",\"table\":\"todos\",\"id\":\""
                              + id
                              + "\",\"data\":{\"description\":\""
                              + description
                              + "\",\"list_id\":\""
                              + list
                              + "\"}}";
                    } else {
                      // An edit after the create: were the create applied again later (a retry of
                      // it arriving late at a
                      // server that was paused), the edit would be undone.
                      id = created;
                      op =
                          "{\"op\":\"PATCH\",\"table\":\"todos\",\"id\":\""
                              + id
                              + "\",\"data\":{\"description\":\""
                              + description
                              + "\"}}";
                    }
                    try {
                      boolean acked =
                          commit(
                              client, tx, op, System.nanoTime() + Duration.ofMinutes(5).toNanos());
                      if (acked) {
                        acknowledged.add(id);
                        lastWritten.put(id, description);
                        ackedWrites.merge(id, 1, Integer::sum);
                        ackedTotal.incrementAndGet();
                        lastAcked.put(client, System.nanoTime());
                      } else {
                        lastWritten.remove(id); // not known whether it was applied
                        uncertain.add(id);
                      }
                      created = acked && created == null ? id : null;
                      next =
                          Math.max(
                              next + interval,
                              System.nanoTime() - interval); // catch up a little after a fault
                      long wait = next - System.nanoTime();
                      if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                      }
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                },
                client);
        threads.add(t);
        t.start();
      }
    }

    /**
     * Whether every writer has had a transaction acknowledged after {@code nanos}: one that was
     * waiting for a paused server then gave up on it and went on elsewhere.
     */
    boolean allAcknowledgedSince(long nanos) {
      return threads.stream()
          .map(Thread::getName)
          .allMatch(
              w -> {
                Long acked = lastAcked.get(w);
                return acked != null && acked - nanos > 0;
              });
    }

    /** The server most writers send to first now. */
    Server mostPreferred() {
      int[] votes = new int[servers.size()];
      preferred.values().forEach(i -> votes[i]++);
      int best = 0;
      for (int i = 1; i < votes.length; i++) {
        best = votes[i] > votes[best] ? i : best;
      }
      return servers.get(best);
    }

    /**
     * Sends one transaction until a server acknowledges it; false if the writers were stopped
     * first.
     */
    boolean commit(String client, long tx, String op, long deadline) throws InterruptedException {
      String body =
          "{\"client_id\":\"" + client + "\",\"transaction_id\":" + tx + ",\"ops\":[" + op + "]}";
      // A writer stays with the server that answered it last and moves on only when it fails, as a
      // client behind a
      // load balancer does: so after a pause it has written on elsewhere while its stale request
      // still waits there.
      int first = preferred.getOrDefault(client, 0);
      for (int i = first; System.nanoTime() < deadline; i++) {
        Server s = servers.get(i % servers.size());
        attempts.incrementAndGet();
        try {
          HttpResponse<String> r =
              HTTP.send(
                  HttpRequest.newBuilder(s.base.resolve("/api/upload"))
                      .timeout(Duration.ofSeconds(5))
                      .POST(HttpRequest.BodyPublishers.ofString(body))
                      .header("Authorization", "Bearer " + token)
                      .header("Content-Type", "application/json")
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) {
            preferred.put(client, i % servers.size());
            return true;
          }
          if (r.statusCode() < 500) {
            refused.add(
                r.statusCode() + " " + r.body()); // a 4xx would drop the write from an SDK's queue
            return false;
          }
        } catch (IOException e) {
          // The server is down, paused or restarting: the next one.
        }
        if (!running.get() && client.startsWith("writer")) {
          return false; // stopped: this transaction may or may not have been applied
        }
        Thread.sleep(100); // back off before the retry, as an SDK's upload queue does
      }
      throw new AssertionError("transaction " + client + "/" + tx + " was never acknowledged");
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join();
      }
    }
  }

  /**
   * A protocol client following one server (across its restarts), reconnecting with what it holds
   * when its stream ends, as SDKs do; it records checksum failures and any row that disappears from
   * what it holds.
   */
  private static final class Reader {
    final Server server;
    final List<String> failures = new CopyOnWriteArrayList<>();
    final List<String> vanished = new CopyOnWriteArrayList<>();
    private final String token;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private volatile @Nullable ProtocolClient client;
    private volatile Set<String> seen = Set.of();
    private final Thread thread;

    Reader(Server server, String token) {
      this.server = server;
      this.token = token;
      this.thread = new Thread(this::run, "reader-" + server.name);
    }

    void start() {
      thread.start();
    }

    private void run() {
      ProtocolClient previous = null;
      while (running.get()) {
        try {
          ProtocolClient c =
              previous == null
                  ? ProtocolClient.connect(server.base, token)
                  : ProtocolClient.reconnect(server.base, token, previous);
          client = c;
          previous = c;
          int completed = 0;
          while (running.get() && !c.ended()) {
            completed = c.awaitCheckpointAfter(completed, Duration.ofMillis(500));
            check(c); // after each checkpoint: nothing it held before may be gone
          }
          check(c);
          Throwable f = c.failure();
          if (f != null) {
            failures.add(f.toString());
          }
        } catch (IOException e) {
          // Refused or not listening (killed, paused, restarting): try again.
        } catch (AssertionError e) {
          failures.add(
              String.valueOf(e.getMessage())); // the client found a checksum or protocol error
        } catch (InterruptedException e) {
          return;
        }
        try {
          Thread.sleep(100); // back off before reconnecting, as SDKs do
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    private void check(ProtocolClient c) {
      Set<String> now = Set.copyOf(c.table("todos").keySet());
      for (String id : seen) {
        if (!now.contains(id)) {
          vanished.add(id);
        }
      }
      seen = now;
    }

    Set<String> holds() {
      return seen;
    }

    void disconnect() {
      ProtocolClient c = client;
      if (c != null) {
        c.close();
      }
    }

    void stop() {
      running.set(false);
      disconnect();
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The last resident-memory sample of each minute of the process's life, in MiB. */
  private static List<Long> byMinute(List<long[]> samples) {
    Map<Long, Long> last = new TreeMap<>();
    for (long[] s : samples) {
      last.put(s[0] / 60_000, s[1] / 1024);
    }
    return List.copyOf(last.values());
  }

  private static Map<String, String> descriptions(DataSource db, String list) throws SQLException {
    Map<String, String> out = new HashMap<>();
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery("SELECT id, description FROM todos WHERE list_id = '" + list + "'")) {
      while (r.next()) {
        out.put(r.getString(1), r.getString(2));
      }
    }
    return out;
  }

  private static Set<String> todos(DataSource db, String list) throws SQLException {
    Set<String> ids = new HashSet<>();
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT id FROM todos WHERE list_id = '" + list + "'")) {
      while (r.next()) {
        ids.add(r.getString(1));
      }
    }
    return ids;
  }

  /** PUT ops per todo in the list's bucket, up to the latest checkpoint. */
  private static Map<String, Long> putsPerTodo(RestartablePostgres pg, String list) {
    try (JdbcBucketStorage storage =
        JdbcBucketStorage.builder(pg.dataSource()).tablePrefix("syncline_").build()) {
      long version =
          storage.rulesVersions().stream()
              .filter(v -> v.state().name().equals("ACTIVE"))
              .findFirst()
              .orElseThrow()
              .id();
      Checkpoint cp = storage.latestCheckpoint(version).orElseThrow();
      Map<String, Long> puts = new TreeMap<>();
      storage
          .ops(version, version + "#owned_lists[\"" + list + "\"]", OpId.ZERO, cp.opId(), 1_000_000)
          .stream()
          .filter(o -> o.op() == OpType.PUT && "todos".equals(o.objectType()))
          .forEach(o -> puts.merge(o.objectId(), 1L, Long::sum));
      return puts;
    }
  }

  /**
   * A development token from {@code server}, waiting (up to a minute) for an answer: {@link #get}
   * gives up after 2 s, which a server just started on a loaded machine can take. (Before: one try,
   * and a slow first answer failed the suite with a NullPointerException beside a second build.)
   */
  private static String devToken(Server server) throws InterruptedException {
    String[] token = {null};
    Await.until(
        Duration.ofSeconds(60),
        () -> {
          try {
            JsonNode t =
                JSON.readTree(get(URI.create(server.base + "/dev/token?user=" + USER)))
                    .get("token");
            token[0] = t == null ? null : t.asText();
          } catch (IOException e) {
            token[0] = null; // not JSON (yet): ask again
          }
          return token[0] != null;
        },
        server.name + " hands out a development token");
    return token[0];
  }

  private static String get(URI uri) {
    try {
      return HTTP.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }
}
