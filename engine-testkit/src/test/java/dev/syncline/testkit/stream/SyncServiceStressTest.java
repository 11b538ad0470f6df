package dev.syncline.testkit.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.internal.replicate.BatchBuilder;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.core.stream.SyncService;
import dev.syncline.core.stream.SyncServlet;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ProtocolClient;
import dev.syncline.testkit.TestTokens;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link SyncService} under concurrency, over real HTTP: many clients connect at once and reconnect
 * while checkpoints keep arriving from a writer. The stream limit holds exactly (never more open
 * streams than allowed, every refusal a 429-class answer with its code), and every client that was
 * let in ends with exactly the rows the writer left, every checksum verified on the way (the {@link
 * ProtocolClient} checks each bucket at every checkpoint, as the SDKs do).
 */
@Timeout(300)
class SyncServiceStressTest {
  static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
  static final SyncRules RULES =
      SyncRulesCompiler.compile(
          SyncRulesSource.ofYaml(
              """
              bucket_definitions:
                global:
                  data:
                    - SELECT * FROM todos
              """,
              "rules.yaml"));
  static final TableRef TODOS = TableRef.of("public", "todos");
  static final int LIMIT = 24;
  static final int CLIENTS = 40;
  static final int TRANSACTIONS = 400;
  static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void the_stream_limit_holds_and_every_admitted_client_converges_with_verified_checksums()
      throws Exception {
    InMemoryBucketStorage storage = new InMemoryBucketStorage();
    long version = storage.addRulesVersion("rules").id();
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(4);
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    Server jetty = new Server(new InetSocketAddress("127.0.0.1", 0));
    try (BucketStorageWriter writer = storage.openWriter(version);
        SyncService service =
            SyncService.builder()
                .rules(RULES)
                .storage(storage, version)
                .scheduler(scheduler)
                .maxConcurrentStreams(LIMIT)
                .tokenVerifier(
                    JwtTokenVerifier.builder().audience("test").hmacSecret(SECRET, null).build())
                .build()) {
      ServletContextHandler context = new ServletContextHandler();
      ServletHolder holder = new ServletHolder(new SyncServlet(service, "*"));
      holder.setAsyncSupported(true);
      context.addServlet(holder, "/*");
      jetty.setHandler(context);
      jetty.start();
      URI base =
          URI.create(
              "http://127.0.0.1:" + ((ServerConnector) jetty.getConnectors()[0]).getLocalPort());

      // The most streams ever open, sampled on every checkpoint a stream is advanced for.
      AtomicInteger mostOpen = new AtomicInteger();
      AtomicBoolean sampling = new AtomicBoolean(true);
      Thread sampler =
          new Thread(
              () -> {
                while (sampling.get()) {
                  mostOpen.accumulateAndGet(service.openStreams(), Math::max);
                  Thread.onSpinWait();
                }
              });
      sampler.start();

      // The writer: seeded random inserts, updates and deletes over 100 rows, each
      // transaction its own checkpoint; `expected` is the table as the writer leaves it.
      Map<String, Long> expected = new TreeMap<>();
      BatchBuilder batch =
          new BatchBuilder(
              RULES,
              writer,
              e -> {
                throw new AssertionError(e.toString());
              });
      CountDownLatch go = new CountDownLatch(1);
      AtomicBoolean reconnected = new AtomicBoolean();
      Future<?> writing =
          clients.submit(
              () -> {
                go.await();
                Random random = new Random(42);
                // At least TRANSACTIONS, and on until the reconnects are done: a dropped stream is
                // noticed when the server next writes to it.
                for (int t = 1; t <= TRANSACTIONS || !reconnected.get(); t++) {
                  for (int k = 0; k < 1 + random.nextInt(5); k++) {
                    String id = "t" + random.nextInt(100);
                    SourceRow key = SourceRow.builder().put("id", id).build();
                    if (random.nextInt(4) == 0 && expected.containsKey(id)) {
                      batch.apply(SourceChange.delete(TODOS, List.of("id"), key));
                      expected.remove(id);
                    } else {
                      SourceRow row =
                          SourceRow.builder()
                              .put("id", id)
                              .put("n", (long) t)
                              .put("list", "l" + random.nextInt(4))
                              .build();
                      batch.apply(SourceChange.insert(TODOS, List.of("id"), row));
                      expected.put(id, (long) t);
                    }
                  }
                  batch.commit(String.format("%016x", t));
                }
                return null;
              });

      // Every client at once: some are let in, the rest refused.
      List<Future<ProtocolClient>> attempts = new ArrayList<>();
      Map<String, Integer> refusals = new ConcurrentHashMap<>();
      for (int i = 0; i < CLIENTS; i++) {
        String token = TestTokens.hs256(SECRET, "test").forUser("u" + i, Duration.ofHours(1));
        attempts.add(
            clients.submit(
                () -> {
                  go.await();
                  try {
                    return ProtocolClient.connect(base, token);
                  } catch (IOException refused) {
                    refusals.merge(refusal(refused), 1, Integer::sum);
                    return null;
                  }
                }));
      }
      go.countDown();
      List<ProtocolClient> admitted = Collections.synchronizedList(new ArrayList<>());
      for (Future<ProtocolClient> a : attempts) {
        ProtocolClient c = a.get();
        if (c != null) {
          admitted.add(c);
        }
      }
      assertThat(admitted).as("clients let in").hasSize(LIMIT);
      assertThat(refusals)
          .as("refusals by answer")
          .containsOnly(Map.entry("429 PSYNC_S2304", CLIENTS - LIMIT));

      // Half the admitted clients drop their stream and reconnect from what they hold, while the
      // writer goes on: the dropped stream's slot is given back, or the limit would refuse them.
      List<ProtocolClient> current = new ArrayList<>();
      for (int i = 0; i < admitted.size(); i++) {
        ProtocolClient c = admitted.get(i);
        if (i % 2 == 0) {
          c.awaitCheckpoints(1, WAIT);
          c.close();
          // The server learns of the drop when it next writes to the stream (checkpoints keep
          // coming); then the slot is free again.
          Await.until(() -> service.openStreams() < LIMIT, "the dropped stream's slot to be freed");
          String token = TestTokens.hs256(SECRET, "test").forUser("again" + i, Duration.ofHours(1));
          c = ProtocolClient.reconnect(base, token, c);
        }
        current.add(c);
      }
      reconnected.set(true);
      writing.get();
      try {
        for (ProtocolClient c : current) {
          Await.untilAsserted(
              WAIT,
              () -> {
                Map<String, String> rows = c.table("todos");
                assertThat(rows).hasSize(expected.size());
                expected.forEach(
                    (id, n) -> assertThat(rows.get(id)).as(id).contains("\"n\":" + n + ","));
              },
              "a client to hold every row as the writer left it");
          assertThat(c.failure()).as("checksums verified at every checkpoint").isNull();
          assertThat(c.completedCheckpoints()).isPositive();
        }
      } finally {
        current.forEach(ProtocolClient::close);
        sampling.set(false);
        sampler.join();
      }
      assertThat(mostOpen.get()).as("streams open at once").isLessThanOrEqualTo(LIMIT);
    } finally {
      jetty.stop();
      clients.shutdownNow();
      scheduler.shutdownNow();
    }
  }

  /** "status code" of a refusal, from the message ProtocolClient gives it. */
  private static String refusal(IOException e) {
    String m = String.valueOf(e.getMessage());
    int status = m.indexOf("refused with ");
    String code = m.replaceAll("(?s).*\"code\":\"([A-Z0-9_]+)\".*", "$1");
    return m.substring(status + "refused with ".length(), status + "refused with ".length() + 3)
        + " "
        + code;
  }
}
