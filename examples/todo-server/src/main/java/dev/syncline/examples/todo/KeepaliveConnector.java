package dev.syncline.examples.todo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketOption;
import java.time.Duration;
import jdk.net.ExtendedSocketOptions;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A Jetty connector that turns on TCP keepalive, with short timers, on every connection it accepts.
 *
 * <p>A sync stream is quiet between its keepalive lines (every 20 s). When a client's network
 * disappears without closing the connection (a phone leaving coverage, a laptop lid closed),
 * nothing on the server notices: the connection stays open and the stream counted against the
 * engine's stream limit until a write finally fails. With these settings the kernel probes a
 * connection after {@link #IDLE} without traffic and resets it when {@link #COUNT} probes {@link
 * #INTERVAL} apart go unanswered, so a client that vanished while its connection was quiet is
 * noticed {@link #detection()} after it was last heard of. Probes cost 40-odd bytes per quiet
 * connection and nothing on a busy one.
 *
 * <p>TCP sends no probes while data is unacknowledged: a client that vanished with data on its way
 * to it (with these timers, one that vanished in the {@link #IDLE} before a keepalive line was due)
 * is noticed only at the kernel's retransmission limit (about 15 minutes with Linux defaults; see
 * the README's "Dead clients"). Where the operating system does not support the timers, the
 * connector still turns keepalive on with its defaults.
 */
final class KeepaliveConnector extends ServerConnector {
  static final Duration IDLE = Duration.ofSeconds(10);
  static final Duration INTERVAL = Duration.ofSeconds(3);
  static final int COUNT = 3;

  KeepaliveConnector(Server server, ConnectionFactory factory) {
    super(server, 1, 1, factory);
  }

  /** Longest time from the last traffic of a vanished client to its connection being reset. */
  static Duration detection() {
    return IDLE.plus(INTERVAL.multipliedBy(COUNT));
  }

  /** Called by Jetty on its acceptor thread for each accepted connection. */
  @Override
  protected void configure(Socket socket) {
    super.configure(socket);
    try {
      socket.setKeepAlive(true);
      set(socket, ExtendedSocketOptions.TCP_KEEPIDLE, (int) IDLE.toSeconds());
      set(socket, ExtendedSocketOptions.TCP_KEEPINTERVAL, (int) INTERVAL.toSeconds());
      set(socket, ExtendedSocketOptions.TCP_KEEPCOUNT, COUNT);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // Jetty closes the connection and logs it
    }
  }

  private static void set(Socket socket, SocketOption<Integer> option, int value)
      throws IOException {
    if (socket.supportedOptions().contains(option)) {
      socket.setOption(option, value);
    }
  }
}
