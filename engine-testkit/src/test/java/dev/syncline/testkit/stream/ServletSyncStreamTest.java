package dev.syncline.testkit.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.core.stream.SyncService;
import dev.syncline.core.stream.SyncServlet;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.testkit.ProtocolClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.Test;

/** The end-to-end stream tests over {@link SyncServlet} in an embedded Jetty 12 (Servlet 6). */
class ServletSyncStreamTest extends SyncStreamEndToEndTest {
  @Override
  AutoCloseable serve(SyncService service) throws Exception {
    Server jetty = new Server(new InetSocketAddress("127.0.0.1", 0));
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    ServletHolder holder = new ServletHolder(new SyncServlet(service, "*"));
    holder.setAsyncSupported(true);
    context.addServlet(holder, "/*");
    jetty.setHandler(context);
    jetty.start();
    base =
        URI.create(
            "http://127.0.0.1:" + ((ServerConnector) jetty.getConnectors()[0]).getLocalPort());
    return () -> {
      service.close();
      jetty.stop();
    };
  }

  /**
   * Clients that send their request body slowly, or stop sending it, hold no container thread: with
   * far more of them than the container has threads, a normal client still syncs; each slow one is
   * answered 408 when its time is up. (Reading bodies with blocking reads, every thread would wait
   * on a stalled client.)
   */
  @Test
  void slow_bodies_hold_no_thread_and_are_answered_when_their_time_is_up() throws Exception {
    commit(SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")));
    QueuedThreadPool threads = new QueuedThreadPool(8, 2);
    Server jetty = new Server(threads);
    ServerConnector connector = new ServerConnector(jetty, 1, 1);
    connector.setHost("127.0.0.1");
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    ServletHolder holder =
        new ServletHolder(new SyncServlet(() -> service, "*", Duration.ofSeconds(5)));
    holder.setAsyncSupported(true);
    context.addServlet(holder, "/*");
    jetty.setHandler(context);
    jetty.start();
    URI uri = URI.create("http://127.0.0.1:" + connector.getLocalPort());
    String token = token("alice", Duration.ofHours(1));
    List<Socket> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < 24; i++) {
        Socket s = new Socket("127.0.0.1", connector.getLocalPort());
        s.setSoTimeout((int) WAIT.toMillis()); // a hang guard only
        String path = i % 2 == 0 ? "/sync/stream" : "/sync/checkpoint-request";
        s.getOutputStream()
            .write(
                ("POST "
                        + path
                        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                        + token
                        + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
                    .getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        stalled.add(s);
      }
      try (ProtocolClient client = ProtocolClient.connect(uri, token)) {
        client.awaitCheckpoints(1, WAIT);
        assertThat(client.table("lists")).containsOnlyKeys("l1");
      }
      for (Socket s : stalled) {
        BufferedReader in =
            new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        assertThat(in.readLine()).startsWith("HTTP/1.1 408");
        String line;
        StringBuilder rest = new StringBuilder();
        while ((line = in.readLine()) != null) {
          rest.append(line).append('\n');
        }
        assertThat(rest.toString())
            .contains("\"code\":\"SYNCLINE_H0001\"")
            .contains("Connection: close");
      }
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
      jetty.stop();
    }
  }
}
