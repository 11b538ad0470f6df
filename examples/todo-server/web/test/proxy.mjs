// A loopback TCP proxy the test can cut: "offline" closes every open connection and refuses new ones, which is
// what a lost network does to the SDK (Chromium's own offline emulation leaves an open sync stream flowing).
import net from 'node:net';

export async function startProxy(targetPort) {
  const sockets = new Set();
  let offline = false;
  const server = net.createServer((client) => {
    if (offline) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    setOffline(value) {
      offline = value;
      if (value) {
        for (const s of sockets) {
          s.destroy();
        }
      }
    },
    close() {
      for (const s of sockets) {
        s.destroy();
      }
      server.close();
    }
  };
}
