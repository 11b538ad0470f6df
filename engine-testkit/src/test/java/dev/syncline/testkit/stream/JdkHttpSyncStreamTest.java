package dev.syncline.testkit.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.core.stream.JdkHttpSyncServer;
import dev.syncline.core.stream.SyncService;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** The end-to-end stream tests over the JDK's built-in HTTP server. */
class JdkHttpSyncStreamTest extends SyncStreamEndToEndTest {
  private static final String MAX_REQ_TIME = "sun.net.httpserver.maxReqTime";

  @Override
  AutoCloseable serve(SyncService service) throws Exception {
    JdkHttpSyncServer server =
        JdkHttpSyncServer.start(
            new InetSocketAddress("127.0.0.1", 0), service, "*", Executors.newFixedThreadPool(2));
    base = server.baseUri();
    return server;
  }

  /**
   * The JDK's server reads each request under a time limit: a client that stops sending its
   * headers, or its body, is cut off instead of holding an executor thread for good. (This module's
   * tests run with a 3 s limit; see the next test for the default.)
   */
  @Test
  void a_client_that_stops_mid_request_is_cut_off() throws Exception {
    assertThat(System.getProperty(MAX_REQ_TIME)).isEqualTo("3");
    String token = token("alice", Duration.ofHours(1));
    for (String partial :
        List.of(
            "POST /sync/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            "POST /sync/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                + token
                + "\r\nContent-Length: 100\r\n\r\n{")) {
      try (Socket socket = new Socket(base.getHost(), base.getPort())) {
        socket.setSoTimeout((int) WAIT.toMillis()); // a hang guard only
        socket.getOutputStream().write(partial.getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
        InputStream in = socket.getInputStream();
        boolean ended;
        try {
          in.readAllBytes(); // returns when the server closes the connection
          ended = true;
        } catch (SocketTimeoutException e) {
          ended = false;
        } catch (IOException e) {
          ended = true; // reset: closed as well
        }
        assertThat(ended).as("the server closed the stalled request").isTrue();
      }
    }
  }

  /**
   * {@link JdkHttpSyncServer#start} sets a request-read limit when the JVM has none (the JDK's
   * default is none).
   */
  @Test
  void starting_sets_a_request_read_limit_when_none_is_set() throws Exception {
    String before = System.getProperty(MAX_REQ_TIME);
    System.clearProperty(MAX_REQ_TIME);
    try (JdkHttpSyncServer other =
        JdkHttpSyncServer.start(
            new InetSocketAddress("127.0.0.1", 0), service, "*", Executors.newFixedThreadPool(1))) {
      assertThat(System.getProperty(MAX_REQ_TIME))
          .isEqualTo(Integer.toString(JdkHttpSyncServer.MAX_REQUEST_SECONDS));
    } finally {
      System.setProperty(MAX_REQ_TIME, before);
    }
  }
}
