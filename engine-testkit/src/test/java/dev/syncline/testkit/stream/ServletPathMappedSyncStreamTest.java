package dev.syncline.testkit.stream;

import dev.syncline.core.stream.SyncService;
import dev.syncline.core.stream.SyncServlet;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import org.assertj.core.api.Assertions;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

/**
 * The end-to-end stream tests over a {@link SyncServlet} mapped only at its routes ({@code
 * /sync/*}, {@code /write-checkpoint2.json}, {@code /probes/*}) next to the host's own servlets, as
 * the README shows.
 */
class ServletPathMappedSyncStreamTest extends SyncStreamEndToEndTest {
  private boolean async = true;

  @Test
  void a_servlet_registered_without_async_support_says_so() throws Exception {
    async = false;
    try (AutoCloseable server = serve(service)) {
      var r = http("POST", "/sync/stream", "Token " + token("alice", Duration.ofHours(1)), "{}");
      Assertions.assertThat(r.statusCode()).isEqualTo(500);
      Assertions.assertThat(r.body()).contains("asyncSupported=true");
    }
  }

  @Override
  String unknownRoute() {
    return "/sync/nope"; // other paths belong to the host
  }

  @Override
  AutoCloseable serve(SyncService service) throws Exception {
    Server jetty = new Server(new InetSocketAddress("127.0.0.1", 0));
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    ServletHolder holder = new ServletHolder(new SyncServlet(() -> service, "*"));
    holder.setAsyncSupported(async);
    context.addServlet(holder, "/sync/*");
    context.addServlet(holder, "/write-checkpoint2.json");
    context.addServlet(holder, "/probes/*");
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
}
