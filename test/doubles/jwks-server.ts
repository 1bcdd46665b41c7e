/**
 * A local JWKS endpoint (an identity provider's key set) for tests: serves whatever key
 * set it is given, can rotate keys, can go "down" (503 or connection reset), and counts
 * fetches so tests can see when the gateway refetched.
 */
import { createServer, type Server } from 'node:http';
import { listenOnLoopback } from '../helpers/net.js';

/** A running JWKS double. */
export interface JwksServer {
  readonly url: string;
  /** GETs answered (any status). */
  fetches: number;
  /** Serve this key set from now on. */
  setKeys(keys: readonly Record<string, unknown>[]): void;
  /** `503`: answer 503; `reset`: destroy the connection; null: serve normally. */
  setDown(mode: '503' | 'reset' | null): void;
  close(): Promise<void>;
}

/** Start the double on 127.0.0.1 serving `keys` at /jwks.json. */
export async function startJwksServer(keys: readonly Record<string, unknown>[]): Promise<JwksServer> {
  let current = keys;
  let down: '503' | 'reset' | null = null;
  const state = { fetches: 0 };
  const server: Server = createServer((req, res) => {
    state.fetches++;
    if (down === 'reset') return req.socket.destroy();
    if (down === '503' || req.url !== '/jwks.json') {
      res.writeHead(down === '503' ? 503 : 404).end();
      return;
    }
    const body = JSON.stringify({ keys: current });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  const listening = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${listening.port}/jwks.json`,
    get fetches() {
      return state.fetches;
    },
    set fetches(n: number) {
      state.fetches = n;
    },
    setKeys: (k) => void (current = k),
    setDown: (m) => void (down = m),
    close: listening.close,
  };
}
