#!/usr/bin/env node
/**
 * The example upstream the default config proxies to: a tiny HTTP service that echoes
 * what it received as JSON (method, path, query, headers, body size), so you can see
 * exactly what the gateway forwards.
 *   GET /anything       → {"method":"GET","path":"/anything","headers":{...},...}
 *   GET /users/:id      → {"id":"42","name":"user 42"}
 * Env: EXAMPLE_UPSTREAM_HOST (default 127.0.0.1), EXAMPLE_UPSTREAM_PORT (default 9000).
 */
import http from 'node:http';

const host = process.env.EXAMPLE_UPSTREAM_HOST || '127.0.0.1';
const port = Number(process.env.EXAMPLE_UPSTREAM_PORT || 9000);

const server = http.createServer((req, res) => {
  let bodyBytes = 0;
  req.on('data', (c) => (bodyBytes += c.length));
  req.on('end', () => {
    const url = new URL(req.url, 'http://upstream');
    const user = /^\/users\/([^/]+)$/.exec(url.pathname);
    const doc = user
      ? { id: decodeURIComponent(user[1]), name: `user ${decodeURIComponent(user[1])}` }
      : {
          service: 'example-upstream',
          method: req.method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          bodyBytes,
        };
    const body = JSON.stringify(doc, null, 2) + '\n';
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});

server.listen(port, host, () => {
  console.log(`example upstream listening on http://${host}:${server.address().port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
