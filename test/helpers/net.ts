/** Small network helpers for tests: free ports, listening servers, waiting for a condition. */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Poll `fn` every `everyMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(fn: () => Promise<T> | T, timeoutMs: number, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${lastErr ? `: ${String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolve after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A test server listening on 127.0.0.1. */
export interface Listening {
  readonly port: number;
  /** Connections open right now. */
  readonly connections: number;
  /** Stop listening and cut every open connection (keep-alive sockets included). */
  close(): Promise<void>;
}

/** Listen on a free loopback port, tracking connections so `close()` never waits on a keep-alive socket. */
export function listenOnLoopback(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        port,
        get connections() {
          return sockets.size;
        },
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/**
 * Write `text` on a fresh connection to 127.0.0.1:`port`; resolve with everything read
 * until the gateway closes it (or after 5 s, so a connection left open fails the test
 * instead of hanging it).
 */
export function exchangeUntilClosed(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.setEncoding('latin1').on('data', (d: string) => (got += d));
    s.on('error', () => {});
    s.setTimeout(5_000, () => s.destroy());
    s.on('close', () => resolve(got));
  });
}
