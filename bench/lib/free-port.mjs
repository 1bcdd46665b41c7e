/**
 * A currently free TCP port on 127.0.0.1, for processes that must be told their port up
 * front (the gateway reads it from its config). There is a small window in which another
 * process could take it; on a benchmark machine that is acceptable.
 */
import net from 'node:net';

/** Resolve with a port the OS just handed out and released. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
