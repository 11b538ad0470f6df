package dev.syncline.testkit.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.core.stream.SyncService;
import dev.syncline.core.stream.SyncServlet;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ProtocolClient;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
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

  /**
   * A stream whose request body arrived after the servlet's first dispatch returned stays open past
   * the body deadline. Before: Jetty armed its async timeout (the body deadline) when the dispatch
   * returned and kept it although the servlet set it to none once the body was in, so such a stream
   * was ended when the deadline passed (30 s by default) and its client had to reconnect. Under
   * load most bodies arrive that way: it showed as the hostile-client test's phone losing its
   * stream.
   */
  @Test
  void a_stream_whose_body_came_after_the_first_dispatch_outlives_the_body_deadline()
      throws Exception {
    commit(SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")));
    Duration deadline = Duration.ofSeconds(1);
    CountDownLatch dispatched = new CountDownLatch(1);
    Server jetty = new Server(new InetSocketAddress("127.0.0.1", 0));
    ServletContextHandler context = new ServletContextHandler();
    ServletHolder holder = new ServletHolder(new SyncServlet(() -> service, "*", deadline));
    holder.setAsyncSupported(true);
    context.addServlet(holder, "/*");
    // Marks when a request's first dispatch returned to the container (its async work goes on).
    Filter marker =
        (request, response, chain) -> {
          chain.doFilter(request, response);
          dispatched.countDown();
        };
    FilterHolder markerHolder = new FilterHolder(marker);
    markerHolder.setAsyncSupported(true);
    context.addFilter(markerHolder, "/*", EnumSet.of(DispatcherType.REQUEST));
    jetty.setHandler(context);
    jetty.start();
    byte[] body = "{\"buckets\":[],\"raw_data\":true}".getBytes(StandardCharsets.UTF_8);
    try (Socket socket =
        new Socket("127.0.0.1", ((ServerConnector) jetty.getConnectors()[0]).getLocalPort())) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /sync/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                  + token("alice", Duration.ofHours(1))
                  + "\r\nContent-Type: application/json\r\nContent-Length: "
                  + body.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.UTF_8));
      out.flush();
      assertThat(dispatched.await(WAIT.toSeconds(), TimeUnit.SECONDS))
          .as("the first dispatch returned")
          .isTrue();
      out.write(body); // after the dispatch returned, as under load
      out.flush();
      RawResponse response = new RawResponse(socket.getInputStream());
      Thread reader = new Thread(response::read, "raw-stream-reader");
      reader.setDaemon(true);
      reader.start();
      Await.until(
          WAIT,
          () -> response.text().contains("checkpoint_complete") || response.ended(),
          "the stream's first checkpoint");
      assertThat(response.text()).startsWith("HTTP/1.1 200").contains("l1");

      // Three deadlines later the stream is still open ...
      long since = System.nanoTime();
      Await.until(
          WAIT,
          () -> response.ended() || System.nanoTime() - since > 3 * deadline.toNanos(),
          "three body deadlines to pass, or the stream to end");
      assertThat(response.ended()).as("the stream ended: %s", response.text()).isFalse();

      // ... and live: a new row reaches it.
      commit(SourceChange.insert(LISTS, ID, row("id", "l2", "owner_id", "alice")));
      Await.until(
          WAIT, () -> response.text().contains("l2") || response.ended(), "the new row arrives");
      assertThat(response.text()).contains("l2");
    } finally {
      jetty.stop();
    }
  }

  /** A raw HTTP/1.1 response read by its own thread; ended at EOF or at its last chunk. */
  private static final class RawResponse {
    private final InputStream in;
    private final StringBuilder text = new StringBuilder(); // guarded by this
    private volatile boolean ended;

    RawResponse(InputStream in) {
      this.in = in;
    }

    void read() {
      byte[] chunk = new byte[8192];
      try {
        for (int n; (n = in.read(chunk)) >= 0; ) {
          if (append(new String(chunk, 0, n, StandardCharsets.UTF_8))) {
            break; // the last chunk: the response, and so the stream, ended
          }
        }
      } catch (IOException e) {
        // the connection closed
      }
      ended = true;
    }

    private synchronized boolean append(String read) {
      text.append(read);
      return text.indexOf("\r\n0\r\n\r\n") >= 0;
    }

    synchronized String text() {
      return text.toString();
    }

    boolean ended() {
      return ended;
    }
  }
}
