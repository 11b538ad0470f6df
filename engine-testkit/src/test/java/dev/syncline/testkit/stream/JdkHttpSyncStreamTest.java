package dev.syncline.testkit.stream;

import dev.syncline.core.stream.JdkHttpSyncServer;
import dev.syncline.core.stream.SyncService;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/** The end-to-end stream tests over the JDK's built-in HTTP server. */
class JdkHttpSyncStreamTest extends SyncStreamEndToEndTest {
  @Override
  AutoCloseable serve(SyncService service) throws Exception {
    JdkHttpSyncServer server = JdkHttpSyncServer.start(new InetSocketAddress("127.0.0.1", 0), service, "*",
        Executors.newFixedThreadPool(2));
    base = server.baseUri();
    return server;
  }
}
