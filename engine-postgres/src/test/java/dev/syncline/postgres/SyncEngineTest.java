package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.engine.EngineEvent;
import dev.syncline.api.engine.EngineHealth;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.api.engine.RulesDeployment;
import dev.syncline.api.rules.SyncRulesException;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.engine.SynclineMeters;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.RulesVersion;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ProtocolClient;
import dev.syncline.testkit.TestTokens;
import dev.syncline.testkit.postgres.TestPostgres;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The embeddable engine on a real Postgres: two instances sharing storage (one replicates, both
 * serve, the other takes over), rules deployed at runtime, life cycle.
 */
class SyncEngineTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final byte[] SECRET =
      "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String LIST = "00000000-0000-0000-0000-00000000000a";
  private static final String RULES =
      """
      bucket_definitions:
        owned:
          parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
          data:
            - SELECT * FROM lists WHERE id = bucket.list_id
            - SELECT * FROM todos WHERE list_id = bucket.list_id
      """;

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final List<EngineEvent> events = new CopyOnWriteArrayList<>();
  private String prefix;

  @BeforeEach
  void schema() {
    prefix = "eng" + Long.toHexString(System.nanoTime() & 0xffffff);
    postgres.execute(
        "DROP TABLE IF EXISTS todos, lists CASCADE",
        "CREATE TABLE lists (id uuid PRIMARY KEY, name text, owner_id text)",
        "CREATE TABLE todos (id uuid PRIMARY KEY, description text, list_id uuid)",
        "INSERT INTO lists VALUES ('" + LIST + "', 'Groceries', 'alice')",
        "INSERT INTO todos VALUES ('00000000-0000-0000-0000-000000000001', 'first', '"
            + LIST
            + "')");
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    // Slots outlive databases: drop what the test left.
    postgres.execute(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '"
            + prefix
            + "%' AND NOT active");
  }

  private JdbcBucketStorage storage() {
    JdbcBucketStorage s =
        JdbcBucketStorage.builder(postgres.dataSource()).tablePrefix(prefix + "_").build();
    closeables.add(s);
    return s;
  }

  private Syncline.Builder engine(JdbcBucketStorage storage, String rules, String identity) {
    return Syncline.builder()
        .storage(storage)
        .identity(identity)
        .name(prefix + "-" + identity)
        .source(
            () ->
                PostgresSource.builder()
                    .jdbcUrl(postgres.jdbcUrl())
                    .user(postgres.user())
                    .password(postgres.password())
                    .publication(prefix + "_pub", true)
                    .slotPrefix(prefix)
                    .statusInterval(Duration.ofMillis(500))
                    .build())
        .rules(SyncRulesSource.ofYaml(rules, "rules.yaml"))
        .tokenVerifier(JwtTokenVerifier.builder().audience("test").hmacSecret(SECRET, null).build())
        .pollInterval(Duration.ofMillis(200))
        .listener(events::add);
  }

  private URI serve(Syncline engine) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext("/", engine.httpHandler("*"));
    server.start();
    closeables.add(() -> server.stop(0));
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** A started engine of identity "a" on {@code storage}, closed after the test. */
  private Syncline started(JdbcBucketStorage storage, String rules) {
    Syncline engine = engine(storage, rules, "a").build();
    closeables.add(engine);
    return engine.start();
  }

  /** A client of alice that completed its first checkpoint, closed after the test. */
  private ProtocolClient synced(URI base) throws Exception {
    ProtocolClient client = ProtocolClient.connect(base, token("alice"));
    closeables.add(client);
    client.awaitCheckpoints(1, WAIT);
    return client;
  }

  private static String token(String user) {
    return TestTokens.hs256(SECRET, "test").forUser(user);
  }

  @Test
  void twoInstancesShareStorageAndTheStandbyTakesOverWithoutLossOrDuplicates() throws Exception {
    Syncline a = engine(storage(), RULES, "a").build();
    closeables.add(a);
    a.start();
    await(() -> a.health().replication() == ReplicationState.STREAMING, "instance a replicates");
    Syncline b = engine(storage(), RULES, "b").build();
    closeables.add(b);
    b.start();
    await(() -> b.health().replication() == ReplicationState.STANDBY, "instance b stands by");
    assertThat(b.health().activeVersion()).isEqualTo(a.health().activeVersion());
    assertThat(b.health().ready()).isTrue();

    URI baseA = serve(a);
    URI baseB = serve(b);
    ProtocolClient onA = ProtocolClient.connect(baseA, token("alice"));
    closeables.add(onA);
    ProtocolClient onB = ProtocolClient.connect(baseB, token("alice"));
    closeables.add(onB);
    onA.awaitCheckpoints(1, WAIT);
    onB.awaitCheckpoints(1, WAIT);
    assertThat(onA.table("todos")).hasSize(1);
    assertThat(onB.table("todos")).hasSize(1);

    // Rows keep arriving while the replicating instance goes away.
    AtomicInteger written = new AtomicInteger();
    Thread writer =
        new Thread(
            () -> {
              try (Connection c = postgres.dataSource().getConnection();
                  Statement s = c.createStatement()) {
                for (int i = 2; i <= 300; i++) {
                  s.execute(
                      String.format(
                          "INSERT INTO todos VALUES ('00000000-0000-0000-0000-%012d', 'todo %d', '%s')",
                          i, i, LIST));
                  written.incrementAndGet();
                }
              } catch (SQLException e) {
                throw new IllegalStateException(e);
              }
            });
    writer.start();
    // Close while the writer is mid-way: some rows before, the rest during and after the takeover.
    await(() -> written.get() >= 30, "the first rows to be written");
    a.close();
    assertThat(a.health().state()).isEqualTo(EngineHealth.State.CLOSED);
    onA.awaitEnd(WAIT);
    ProtocolClient moved = ProtocolClient.reconnect(baseB, token("alice"), onA);
    closeables.add(moved);
    await(() -> b.health().replication() == ReplicationState.STREAMING, "instance b took over");
    writer.join();

    Set<String> expected = todoIds();
    assertThat(expected).hasSize(300);
    await(() -> onB.table("todos").keySet().equals(expected), "the client on b has every row");
    await(() -> moved.table("todos").keySet().equals(expected), "the moved client has every row");
    // Nothing was applied twice: one PUT per inserted todo in the bucket's history (checksums were
    // verified by the
    // clients at every checkpoint).
    long version = b.health().activeVersion();
    JdbcBucketStorage check = storage();
    Checkpoint cp = check.latestCheckpoint(version).orElseThrow();
    List<OpRecord> ops =
        check.ops(version, version + "#owned[\"" + LIST + "\"]", OpId.ZERO, cp.opId(), 100_000);
    assertThat(
            ops.stream()
                .filter(o -> o.op() == OpType.PUT && "todos".equals(o.objectType()))
                .count())
        .isEqualTo(300);
    assertThat(events)
        .anySatisfy(e -> assertThat(e).isInstanceOf(EngineEvent.ReplicationChanged.class));
  }

  /**
   * Takeover after takeover while rows keep arriving: each round the replicating instance closes,
   * the standby takes over, and a new standby starts, with clients on every instance that stay
   * connected through the takeovers (clients of a closed instance reconnect to another, keeping
   * their state). Every checkpoint any client receives must verify against its ops (the protocol
   * client fails on a mismatch), every row must arrive, and no row may be stored twice. (A commit
   * landing after its writer let go of the lock once made a standby serve a checksum that did not
   * match its ops.)
   */
  @Test
  void repeatedTakeoversUnderWritesLoseNothingAndEveryCheckpointVerifies() throws Exception {
    JdbcBucketStorage storage = storage();
    List<Syncline> instances = new ArrayList<>();
    List<URI> bases = new ArrayList<>();
    IntFunction<Syncline> launch =
        n -> {
          Syncline e = engine(storage(), RULES, "i" + n).build();
          closeables.add(e);
          e.start();
          return e;
        };
    instances.add(launch.apply(0));
    await(
        () -> instances.get(0).health().replication() == ReplicationState.STREAMING,
        "i0 replicates");
    instances.add(launch.apply(1));
    await(
        () -> instances.get(1).health().replication() == ReplicationState.STANDBY, "i1 stands by");
    bases.add(serve(instances.get(0)));
    bases.add(serve(instances.get(1)));
    List<ProtocolClient> clients = new CopyOnWriteArrayList<>();
    List<Integer> clientInstance = new CopyOnWriteArrayList<>();
    for (int i = 0; i < 2; i++) {
      ProtocolClient c = ProtocolClient.connect(bases.get(i), token("alice"));
      closeables.add(c);
      clients.add(c);
      clientInstance.add(i);
    }
    // The writer inserts a row per permit: each round hands it 200, so rows are being written while
    // the
    // replicating instance closes and the standby takes over, whatever the machine's speed.
    Semaphore permits = new Semaphore(0);
    AtomicInteger written = new AtomicInteger(1);
    Thread writer =
        new Thread(
            () -> {
              try (Connection c = postgres.dataSource().getConnection();
                  Statement st = c.createStatement()) {
                while (true) {
                  permits.acquire();
                  int i = written.incrementAndGet();
                  st.execute(
                      String.format(
                          "INSERT INTO todos VALUES ('00000000-0000-0000-0000-%012d', 'todo %d', '%s')",
                          i, i, LIST));
                }
              } catch (InterruptedException e) {
                // done
              } catch (SQLException e) {
                throw new IllegalStateException(e);
              }
            },
            "takeover-writer");
    writer.start();
    try {
      int rounds = 6;
      for (int round = 0; round < rounds; round++) {
        Syncline replicating = instances.get(round);
        Syncline standby = instances.get(round + 1);
        int target = written.get() + 50;
        permits.release(200);
        await(() -> written.get() >= target, "rows are being written");
        replicating.close();
        await(
            () -> standby.health().replication() == ReplicationState.STREAMING,
            "instance " + (round + 1) + " took over");
        Syncline next = launch.apply(round + 2);
        instances.add(next);
        bases.add(serve(next));
        await(
            () -> next.health().replication() == ReplicationState.STANDBY,
            "instance " + (round + 2) + " stands by");
        // Clients of the closed instance move to the new replicating one, keeping what they have; a
        // new client
        // joins the new standby.
        for (int i = 0; i < clients.size(); i++) {
          if (clientInstance.get(i) == round) {
            ProtocolClient old = clients.get(i);
            old.awaitEnd(WAIT);
            ProtocolClient moved =
                ProtocolClient.reconnect(bases.get(round + 1), token("alice"), old);
            closeables.add(moved);
            clients.set(i, moved);
            clientInstance.set(i, round + 1);
          }
        }
        ProtocolClient joined = ProtocolClient.connect(bases.get(round + 2), token("alice"));
        closeables.add(joined);
        clients.add(joined);
        clientInstance.add(round + 2);
      }
      await(() -> permits.availablePermits() == 0, "the writer used its permits");
    } finally {
      writer.interrupt();
      writer.join();
    }
    Set<String> expected = todoIds();
    assertThat(expected).hasSizeGreaterThan(1_000);
    for (ProtocolClient c : clients) {
      await(() -> c.table("todos").keySet().equals(expected), "every client has every row");
    }
    Syncline last = instances.get(instances.size() - 2);
    long version = last.health().activeVersion();
    Checkpoint cp = storage.latestCheckpoint(version).orElseThrow();
    List<OpRecord> ops =
        storage.ops(version, version + "#owned[\"" + LIST + "\"]", OpId.ZERO, cp.opId(), 1_000_000);
    assertThat(
            ops.stream()
                .filter(o -> o.op() == OpType.PUT && "todos".equals(o.objectType()))
                .count())
        .as("each row stored once")
        .isEqualTo(expected.size());
  }

  /**
   * Readiness means "can serve current data": while the initial snapshot is copied, every instance
   * (the copying one and a standby) answers 503 with the reason, and 200 once the first checkpoint
   * exists. Liveness and startup do not wait. The health JSON shows the same, with the copy's
   * progress.
   */
  @Test
  void readinessWaitsForTheInitialSnapshotOnEveryInstance() throws Exception {
    Syncline a;
    Syncline b;
    URI baseA;
    URI baseB;
    HttpClient http = HttpClient.newHttpClient();
    Function<String, HttpResponse<String>> get =
        uri -> {
          try {
            return http.send(
                HttpRequest.newBuilder(URI.create(uri)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        };
    try (Connection lock = postgres.dataSource().getConnection();
        Statement st = lock.createStatement()) {
      // The copy of todos waits for this lock: the snapshot is running for as long as the test
      // holds it.
      lock.setAutoCommit(false);
      st.execute("LOCK TABLE todos IN ACCESS EXCLUSIVE MODE");
      a = engine(storage(), RULES, "a").build();
      closeables.add(a);
      a.start();
      baseA = serve(a);
      await(() -> a.health().replication() == ReplicationState.SNAPSHOT, "a copies");
      b = engine(storage(), RULES, "b").build();
      closeables.add(b);
      b.start();
      baseB = serve(b);
      await(() -> b.health().replication() == ReplicationState.STANDBY, "b stands by");
      for (URI base : List.of(baseA, baseB)) {
        HttpResponse<String> ready = get.apply(base + "/probes/readiness");
        assertThat(ready.statusCode()).as(base.toString()).isEqualTo(503);
        assertThat(ready.body()).isEqualTo("{\"ready\":false,\"reason\":\"SNAPSHOT\"}");
        assertThat(get.apply(base + "/probes/liveness").statusCode()).isEqualTo(200);
        assertThat(get.apply(base + "/probes/startup").statusCode()).isEqualTo(200);
      }
      assertThat(a.health().ready()).isFalse();
      assertThat(b.health().notReadyReason()).isEqualTo("SNAPSHOT");
      assertThat(a.healthJson())
          .startsWith("{\"ready\":false,\"reason\":\"SNAPSHOT\",\"state\":\"RUNNING\"")
          .contains("\"replication\":\"SNAPSHOT\"")
          .contains("\"active_checkpoint\":false");
      lock.rollback();
    }
    await(() -> a.health().ready() && b.health().ready(), "both are ready once the snapshot is in");
    for (URI base : List.of(baseA, baseB)) {
      HttpResponse<String> ready = get.apply(base + "/probes/readiness");
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(ready.body()).isEqualTo("{\"ready\":true}");
    }
    assertThat(b.healthJson())
        .startsWith("{\"ready\":true,\"reason\":null")
        .contains("\"active_checkpoint\":true")
        .contains("\"replication\":\"STANDBY\"")
        .contains("\"snapshot\":[]")
        .contains("\"metrics\":{");
    assertThat(a.healthJson())
        .contains("{\"table\":\"public.todos\",\"rows_copied\":1,")
        .contains("\"done\":true}");
  }

  @Test
  void rulesDeployedAtRuntimeAreFilledWhileTheOldOnesServeThenReplaceThem() throws Exception {
    String listsOnly =
        """
        bucket_definitions:
          owned:
            parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
            data:
              - SELECT * FROM lists WHERE id = bucket.list_id
        """;
    JdbcBucketStorage storage = storage();
    Syncline engine = started(storage, listsOnly);
    URI base = serve(engine);
    ProtocolClient client = synced(base);
    assertThat(client.table("lists")).containsOnlyKeys(LIST);
    assertThat(client.table("todos")).isEmpty();
    long v1 = engine.health().activeVersion();

    assertThatThrownBy(
            () ->
                engine.deployRules(
                    SyncRulesSource.ofYaml(
                        """
                                                                       bucket_definitions:
                                                                         b:
                                                                           data:
                                                                             - SELECT * FROM nowhere WHERE
                                                                       """,
                        "bad.yaml")))
        .isInstanceOf(SyncRulesException.class);
    assertThat(storage.rulesVersions()).extracting(RulesVersion::id).containsExactly(v1);

    RulesDeployment d = engine.deployRules(SyncRulesSource.ofYaml(RULES, "rules.yaml"));
    assertThat(d.unchanged()).isFalse();
    assertThat(d.version()).isGreaterThan(v1);
    assertThat(engine.deployRules(SyncRulesSource.ofYaml(RULES, "rules.yaml")))
        .isEqualTo(new RulesDeployment(d.version(), true));
    await(() -> engine.health().activeVersion() == d.version(), "the new version is active");
    assertThat(engine.health().pendingVersion()).isNull();
    // The client's stream moved: it reconnects and gets the new version's buckets.
    client.awaitEnd(WAIT);
    ProtocolClient again = ProtocolClient.reconnect(base, token("alice"), client);
    closeables.add(again);
    await(() -> again.table("todos").size() == 1, "todos arrive with the new rules");
    assertThat(again.table("lists")).containsOnlyKeys(LIST);
    // The old version is gone with its slot.
    await(() -> storage.rulesVersions().stream().noneMatch(v -> v.id() == v1), "version 1 dropped");
    await(() -> !slots().contains(prefix + "_" + v1), "its slot dropped");
    assertThat(events)
        .anySatisfy(e -> assertThat(e).isEqualTo(new EngineEvent.RulesActivated(d.version(), v1)));
    assertThat(events).anySatisfy(e -> assertThat(e).isEqualTo(new EngineEvent.RulesDropped(v1)));
    // Another instance deploying the same rules at the same moment adds a duplicate version: it
    // converges on the
    // newest one, and the superseded one is dropped with its slot.
    String moreRules = RULES.replace("owned:", "mine:");
    RulesDeployment mine = engine.deployRules(SyncRulesSource.ofYaml(moreRules, "rules.yaml"));
    long duplicate = storage.addRulesVersion(moreRules).id();
    await(() -> engine.health().activeVersion() == duplicate, "the newest deployment is active");
    await(
        () -> storage.rulesVersions().stream().noneMatch(v -> v.id() == mine.version()),
        "the duplicate dropped");
    await(() -> !slots().contains(prefix + "_" + mine.version()), "and its slot");
    // Restarting with the deployed rules keeps the version.
    engine.close();
    Syncline restarted = engine(storage, moreRules, "a").build();
    closeables.add(restarted);
    restarted.start();
    assertThat(restarted.health().activeVersion()).isEqualTo(duplicate);
  }

  @Test
  void bucketsOfDefinitionsADeploymentLeavesUnchangedStayWithTheirClients() throws Exception {
    JdbcBucketStorage storage = storage();
    Syncline engine = started(storage, RULES);
    URI base = serve(engine);
    ProtocolClient client = synced(base);
    long v1 = engine.health().activeVersion();
    String owned = v1 + "#owned[\"" + LIST + "\"]";
    postgres.execute("UPDATE todos SET description = 'changed before the deployment'");
    await(
        () -> client.table("todos").values().iterator().next().contains("changed before"),
        "the update arrives");

    // New rules: the same `owned` definition, and a new one.
    String more =
        RULES
            + """
          everyone:
            data:
              - SELECT id, name FROM lists
        """;
    RulesDeployment d = engine.deployRules(SyncRulesSource.ofYaml(more, "rules.yaml"));
    postgres.execute(
        "INSERT INTO todos VALUES ('00000000-0000-0000-0000-000000000002', 'while filling', '"
            + LIST
            + "')");
    await(() -> engine.health().activeVersion() == d.version(), "the new rules are active");
    client.awaitEnd(WAIT);
    ProtocolClient again = ProtocolClient.reconnect(base, token("alice"), client);
    closeables.add(again);
    String everyone = d.version() + "#everyone[]";
    await(
        () ->
            again.table("todos").size() == 2
                && again.lines().stream().anyMatch(l -> l.contains(everyone)),
        "the new definition's bucket and the new row arrive");
    await(
        () -> again.lines().stream().anyMatch(l -> l.startsWith("{\"checkpoint_complete\"")),
        "a checkpoint of the new version completes (the client verified every checksum)");
    // The kept bucket goes on with the new version's changes.
    postgres.execute(
        "INSERT INTO todos VALUES ('00000000-0000-0000-0000-000000000003', 'after the switch', '"
            + LIST
            + "')");
    await(
        () -> again.table("todos").size() == 3,
        "a change after the switch arrives in the kept bucket");
    // The unchanged definition kept its bucket id; only what changed was sent for it, not the whole
    // bucket again.
    String ownedInJson = owned.replace("\"", "\\\"");
    assertThat(again.lines())
        .anySatisfy(l -> assertThat(l).startsWith("{\"checkpoint\"").contains(ownedInJson));
    long resent =
        again.lines().stream()
            .filter(l -> l.startsWith("{\"data\":{\"bucket\":\"" + ownedInJson + "\""))
            .flatMap(l -> Arrays.stream(l.split("\"op\":\"PUT\"")).skip(1))
            .filter(op -> op.contains("\"object_type\":\"lists\"") || op.contains("changed before"))
            .count();
    assertThat(resent).as("rows of the kept bucket sent again: %s", again.lines()).isZero();
    assertThat(again.table("todos").values())
        .anySatisfy(t -> assertThat(t).contains("while filling"))
        .anySatisfy(t -> assertThat(t).contains("after the switch"));
    // A client that never had the bucket gets it whole.
    ProtocolClient fresh = synced(base);
    assertThat(fresh.table("todos")).isEqualTo(again.table("todos"));
    assertThat(fresh.table("lists")).isEqualTo(again.table("lists"));
  }

  @Test
  void lifeCycleAndErrorsBeforeStartAndAfterClose() throws Exception {
    Syncline engine = engine(storage(), RULES, "a").build();
    closeables.add(engine);
    AuthContext alice = new AuthContext(Map.of("sub", "alice"), Instant.now().plusSeconds(60));
    assertThatThrownBy(() -> engine.createWriteCheckpoint(alice, "c1"))
        .isInstanceOfSatisfying(
            SynclineException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.ENGINE_NOT_RUNNING));
    URI base = serve(engine);
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(base.resolve("/sync/stream"))
                    .POST(HttpRequest.BodyPublishers.ofString("{}"))
                    .header("Authorization", "Token " + token("alice"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("\"code\":\"SYNCLINE_E0001\"");
    assertThat(engine.health().state()).isEqualTo(EngineHealth.State.NEW);

    assertThat(engine.start()).isSameAs(engine.start());
    await(() -> engine.health().ready(), "ready");
    assertThat(engine.createWriteCheckpoint(alice, "c1")).isEqualTo(1);
    assertThat(engine.createWriteCheckpoint(alice, "c1")).isEqualTo(2);
    assertThat(threads()).anyMatch(n -> n.startsWith(prefix + "-a-"));
    engine.close();
    engine.close();
    assertThatThrownBy(engine::start)
        .isInstanceOfSatisfying(
            SynclineException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.ENGINE_NOT_RUNNING));
    await(
        () -> threads().noneMatch(n -> n.startsWith(prefix + "-a-")), "the engine's threads ended");
    // Invalid configured rules fail start, listing the problems, and leave nothing running.
    Syncline invalid =
        engine(storage(), "bucket_definitions:\n  b:\n    data: [42]\n", "x").build();
    assertThatThrownBy(invalid::start).isInstanceOf(SyncRulesException.class);
    assertThat(threads()).noneMatch(n -> n.startsWith(prefix + "-x-"));
  }

  @Test
  void theReplicatingInstanceCompactsTheActiveVersionAndClientsStillVerify() throws Exception {
    JdbcBucketStorage storage = storage();
    Syncline engine = engine(storage, RULES, "a").compactInterval(Duration.ofMillis(300)).build();
    closeables.add(engine);
    engine.start();
    URI base = serve(engine);
    ProtocolClient early =
        synced(base); // the snapshot is in: the updates below are ops of their own
    for (int i = 0; i < 5; i++) {
      postgres.execute("UPDATE todos SET description = 'edit " + i + "'");
    }
    long version = engine.health().activeVersion();
    String bucket = version + "#owned[\"" + LIST + "\"]";
    await(
        () ->
            storage
                .latestCheckpoint(version)
                .map(
                    cp ->
                        storage.ops(version, bucket, OpId.ZERO, cp.opId(), 1000).stream()
                                .filter(o -> o.op() == OpType.MOVE || o.op() == OpType.CLEAR)
                                .count()
                            >= 4)
                .orElse(false),
        "superseded updates were compacted");
    ProtocolClient late = synced(base); // checksums over the compacted log verify
    await(
        () ->
            late.table("todos").size() == 1
                && late.table("todos").values().iterator().next().contains("edit 4"),
        "the late client has the last edit");
    await(
        () -> early.table("todos").values().iterator().next().contains("edit 4"),
        "the early client caught up");
  }

  @Test
  void metricsArePublishedUnderThePowerSyncServicesNames() throws Exception {
    Syncline engine = engine(storage(), RULES, "a").build();
    closeables.add(engine);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    SynclineMeters.bind(engine, registry, Tag.of("app", "t"));
    engine.start();
    URI base = serve(engine);
    ProtocolClient client = synced(base);
    postgres.execute(
        "INSERT INTO todos VALUES ('00000000-0000-0000-0000-000000000002', 'second', '"
            + LIST
            + "')");
    await(() -> client.table("todos").size() == 2, "the insert arrives");
    await(
        () -> registry.get("powersync.rows.replicated").functionCounter().count() >= 1,
        "rows are counted");
    assertThat(
            registry
                .get("powersync.transactions.replicated")
                .tag("app", "t")
                .functionCounter()
                .count())
        .isGreaterThanOrEqualTo(1);
    // The first sync sent two ops (the list and a todo), the insert one more.
    assertThat(registry.get("powersync.operations.synced").functionCounter().count())
        .isGreaterThanOrEqualTo(3);
    assertThat(registry.get("powersync.data.synced.bytes").functionCounter().count())
        .isGreaterThan(200);
    assertThat(registry.get("powersync.concurrent.connections").gauge().value()).isEqualTo(1);
    assertThat(registry.get("powersync.replication.lag.seconds").gauge().value())
        .isBetween(0.0, 60.0);
    assertThat(engine.metrics().concurrentConnections()).isEqualTo(1);
    assertThat(registry.get("syncline.stalled.streams.closed").functionCounter().count()).isZero();
  }

  @Test
  void aWriteCheckpointWakesReplicationWaitingBetweenLooksAtAnIdleSource() throws Exception {
    List<PostgresSource> sources = new CopyOnWriteArrayList<>();
    Syncline engine =
        engine(storage(), RULES, "a")
            .source(
                () -> {
                  // Idle at once, and then looking only every 10 minutes: only the write checkpoint
                  // can make it look sooner.
                  PostgresSource s =
                      PostgresSource.builder()
                          .jdbcUrl(postgres.jdbcUrl())
                          .user(postgres.user())
                          .password(postgres.password())
                          .publication(prefix + "_pub", true)
                          .slotPrefix(prefix)
                          .idlePollInterval(Duration.ofMinutes(10))
                          .quietAfter(Duration.ZERO)
                          .build();
                  sources.add(s);
                  return s;
                })
            .build();
    closeables.add(engine);
    engine.start();
    await(() -> engine.health().ready(), "ready");
    await(
        () -> sources.stream().anyMatch(PostgresSource::idleWaiting),
        "replication waits between looks");
    var before = engine.service().latestCheckpoint().orElseThrow();
    postgres.execute(
        "INSERT INTO todos VALUES ('00000000-0000-0000-0000-000000000002', 'second', '"
            + LIST
            + "')");
    AuthContext alice = new AuthContext(Map.of("sub", "alice"), Instant.now().plusSeconds(60));
    engine.createWriteCheckpoint(
        alice, "c1"); // on another source instance than the replicating one

    await(
        () -> !engine.service().latestCheckpoint().orElseThrow().equals(before),
        "the insert replicated");
  }

  @Test
  void anIdleEngineReadsTheVersionsInStorageOnlyEveryFifthTick() throws Exception {
    JdbcBucketStorage real = storage();
    List<Long> reads =
        new CopyOnWriteArrayList<>(); // when the maintenance thread read the versions
    BucketStorage counting =
        (BucketStorage)
            Proxy.newProxyInstance(
                BucketStorage.class.getClassLoader(),
                new Class<?>[] {BucketStorage.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("rulesVersions")
                      && Thread.currentThread().getName().endsWith("-maintenance")) {
                    reads.add(System.nanoTime());
                  }
                  try {
                    return method.invoke(real, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    Syncline engine = engine(real, RULES, "a").storage(counting).build(); // ticks every 200 ms
    closeables.add(engine);
    engine.start();
    await(
        () ->
            engine.health().ready() && engine.health().replication() == ReplicationState.STREAMING,
        "streaming");
    int steady = reads.size() + 1;
    await(() -> reads.size() >= steady + 3, "four more reads");

    // Ticks run at least 200 ms apart; reading at every tick would take 600 ms for three gaps, not
    // 3 s.
    long gaps = reads.get(steady + 2) - reads.get(steady - 1);
    assertThat(Duration.ofNanos(gaps))
        .isGreaterThanOrEqualTo(Duration.ofMillis(200).multipliedBy(3L * 5).minusMillis(50));
  }

  private static Stream<String> threads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName);
  }

  private static void await(BooleanSupplier condition, String what) {
    Await.until(WAIT, condition, what);
  }

  private static Set<String> todoIds() {
    return strings("SELECT id FROM todos");
  }

  private static Set<String> slots() {
    return strings("SELECT slot_name FROM pg_replication_slots");
  }

  /** The first column of a query's rows. */
  private static Set<String> strings(String query) {
    Set<String> values = new HashSet<>();
    try (Connection c = postgres.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      while (rs.next()) {
        values.add(rs.getString(1));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return values;
  }
}
