/**
 * Benchmark stand-in for a Jaeger collector: accepts `POST /api/traces` (thrift over
 * HTTP, as the gateway's exporter sends it), reads and discards the body, answers 202
 * like Jaeger. It runs on the load generator's CPU so exporting costs the gateway only
 * its own side of the work. Env: PORT (default 0).
 */
import http from 'node:http';
import { envPort, serveChild } from './lib/child-server.mjs';

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(req.method === 'POST' && req.url === '/api/traces' ? 202 : 404);
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(envPort(), '127.0.0.1', () => serveChild('jaeger-sink', server));
