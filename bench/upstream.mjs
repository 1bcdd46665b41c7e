/**
 * Benchmark upstream: a bare node:http server answering every request with the same
 * ~100-byte JSON body and a content-length, so the numbers measure the proxies rather
 * than the origin. It runs in its own process, never sharing an event loop with the load
 * generator. Env: PORT (default 0: any free port).
 *
 *   node bench/upstream.mjs        # prints its URL when run by hand
 */
import http from 'node:http';
import { envPort, serveChild } from './lib/child-server.mjs';

// Every target must return this unchanged (the run compares each target with `direct`).
const BODY = Buffer.from(
  JSON.stringify({ ok: true, service: 'bench-upstream', message: 'hello from the benchmark upstream', id: 1, n: 42 }),
);

// One headers object for every response: nothing per request but the write itself.
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

const server = http.createServer((req, res) => {
  // Drain any request body so keep-alive connections stay usable.
  req.resume();
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
// Longer than any proxy pool's keep-alive (undici's default is 4 s), so the upstream
// never closes a socket a proxy is about to reuse.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(envPort(), '127.0.0.1', () => serveChild('upstream', server));
