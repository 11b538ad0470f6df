package dev.syncline.testkit.stream;

import dev.syncline.core.stream.SyncService;
import dev.syncline.core.stream.SyncServlet;
import java.net.InetSocketAddress;
import java.net.URI;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

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
    base = URI.create("http://127.0.0.1:" + ((ServerConnector) jetty.getConnectors()[0]).getLocalPort());
    return () -> {
      service.close();
      jetty.stop();
    };
  }
}
