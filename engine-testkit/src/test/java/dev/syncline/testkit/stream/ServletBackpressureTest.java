package dev.syncline.testkit.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpType;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.core.stream.SyncService;
import dev.syncline.core.stream.SyncServlet;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ProtocolClient;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

/**
 * A client that stops reading must not hold the server's stream thread: with a single scheduler
 * thread, a second client still syncs a large bucket completely while the first client's download
 * is stalled.
 */
class ServletBackpressureTest {
  static final int OPS = 150_000;

  @Test
  void a_stalled_client_does_not_block_other_streams() throws Exception {
    withAStalledClient(
        OPS,
        SyncService.DEFAULT_STALLED_STREAM_TIMEOUT,
        (service, base) -> {
          // Never read: the server's writes to this socket fill its buffers and stay pending.
          await(() -> service.stuckStreams(Duration.ZERO) == 1, "the stream to stall");
          assertThat(service.openStreams()).as("the stalled stream is open").isEqualTo(1);
          try (ProtocolClient reader = ProtocolClient.connect(base, token("reader"))) {
            reader.awaitCheckpoints(1, Duration.ofSeconds(60));
            assertThat(reader.table("todos")).hasSize(OPS);
          }
        });
  }

  @Test
  void a_client_that_takes_nothing_is_closed_after_the_stalled_stream_timeout() throws Exception {
    withAStalledClient(
        20_000,
        Duration.ofSeconds(1),
        (service, base) -> {
          // The stream is counted while open, then freed: the slot does not wait for the container.
          await(() -> service.stalledStreamsClosed() > 0, "the stalled stream is closed");
          assertThat(service.openStreams()).isZero();
        });
  }

  @Test
  void a_client_that_takes_nothing_is_reported_stuck_and_one_that_keeps_up_is_not()
      throws Exception {
    withAStalledClient(
        20_000,
        Duration.ofMinutes(10),
        (service, base) -> {
          try (ProtocolClient reading = ProtocolClient.connect(base, token("reader"))) {
            reading.awaitCheckpoints(1, Duration.ofSeconds(60));
            await(
                () -> service.stuckStreams(Duration.ofMillis(300)) == 1,
                "the stalled client is reported stuck");
            assertThat(service.openStreams()).isEqualTo(2);
            assertThat(service.stuckStreams(Duration.ofMinutes(10)))
                .as("not before the threshold")
                .isZero();
          }
        });
  }

  private interface StalledCheck {
    void run(SyncService service, URI base) throws Exception;
  }

  /**
   * Serves {@code opCount} ops through the asynchronous servlet on Jetty (whose own idle timeout
   * would not end a stream for ten minutes), with one scheduler thread, to a client that sends its
   * request and never reads, then runs {@code check}.
   */
  private static void withAStalledClient(
      int opCount, Duration stalledStreamTimeout, StalledCheck check) throws Exception {
    SyncRules rules =
        SyncRulesCompiler.compile(
            SyncRulesSource.ofYaml(
                "bucket_definitions:\n  global:\n    data:\n      - SELECT * FROM todos\n",
                "rules.yaml"));
    InMemoryBucketStorage storage = new InMemoryBucketStorage();
    long version = storage.addRulesVersion("rules").id();
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    Server jetty = new Server();
    ServerConnector connector = new ServerConnector(jetty);
    connector.setHost("127.0.0.1");
    connector.setIdleTimeout(Duration.ofMinutes(10).toMillis());
    jetty.addConnector(connector);
    try (BucketStorageWriter writer = storage.openWriter(version)) {
      List<NewOp> ops = new ArrayList<>();
      for (int i = 0; i < opCount; i++) {
        String data = "{\"id\":\"t" + i + "\",\"description\":\"" + "x".repeat(150) + "\"}";
        ops.add(
            new NewOp(
                "global[]",
                OpType.PUT,
                "todos",
                "t" + i,
                "t" + i,
                data,
                OpChecksums.put("todos", "t" + i, data)));
      }
      writer.commit(new WriteBatch(ops, List.of(), List.of(), List.of(), "0000000000000001"));
      SyncService service =
          SyncService.builder()
              .rules(rules)
              .storage(storage, version)
              .scheduler(scheduler)
              .tokenVerifier(
                  JwtTokenVerifier.builder()
                      .audience("test")
                      .hmacSecret(SyncStreamEndToEndTest.SECRET, null)
                      .build())
              .stalledStreamTimeout(stalledStreamTimeout)
              .build();
      ServletContextHandler context = new ServletContextHandler();
      ServletHolder holder = new ServletHolder(new SyncServlet(service, "*"));
      holder.setAsyncSupported(true);
      context.addServlet(holder, "/*");
      jetty.setHandler(context);
      jetty.start();

      try (Socket stalled = new Socket()) {
        stalled.setReceiveBufferSize(4096);
        stalled.connect(new InetSocketAddress("127.0.0.1", connector.getLocalPort()));
        byte[] body = "{\"raw_data\":true}".getBytes(StandardCharsets.UTF_8);
        OutputStream out = stalled.getOutputStream();
        out.write(
            ("POST /sync/stream HTTP/1.1\r\nHost: localhost\r\nAuthorization: Token "
                    + token("stalled")
                    + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length
                    + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        check.run(service, URI.create("http://127.0.0.1:" + connector.getLocalPort()));
      }
    } finally {
      jetty.stop();
      scheduler.shutdownNow();
    }
  }

  private static void await(BooleanSupplier condition, String what) {
    Await.until(Duration.ofSeconds(60), condition, what);
  }

  static String token(String user) throws Exception {
    return SyncStreamEndToEndTest.token(user, Duration.ofMinutes(10));
  }
}
