/**
 * The honest minimal baseline: a raw node:http server and one undici Pool to the
 * upstream, streaming the response straight into the client response with
 * `pool.stream()`. It does what any reverse proxy must to work (strip hop-by-hop
 * headers both ways, let undici set the upstream Host, forward request bodies, answer
 * 502 on upstream failure) and nothing else: no routing, no logging, no timeouts beyond
 * undici's defaults. The gateway should come close to it; it cannot be expected to beat it.
 *
 * FORWARD_HEADERS=1 (the core suite's goal baseline) adds the fields the gateway must write on every exchange (issue 3,
 * RFC 9110 §7.6.3 for Via), the simplest way: the client's `X-Forwarded-For/-Proto/-Host`
 * replaced (every client untrusted), `Via` appended both ways, and an `X-Request-Id`
 * (the client's when well-formed, else `crypto.randomUUID()`) sent upstream and echoed to
 * the client. Both proxies then put the same fields on the wire, and the ratio measures
 * the gateway's own machinery (router, policies, timeouts, metrics, process model).
 * Env: UPSTREAM_URL (required), PORT (default 0); TLS_CERT_FILE and TLS_KEY_FILE: listen
 * with TLS instead (the TLS suite's baseline).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Pool } from 'undici';
import { envPort, envUpstream, serveChild } from './lib/child-server.mjs';

// RFC 9110 §7.6.1 connection-specific fields, plus `host`, which undici sets from the
// origin (the gateway's default is also not to preserve the client's Host).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** Copy `headers` without hop-by-hop fields and without those the Connection header names. */
function endToEnd(headers) {
  const connection = headers.connection;
  const named = connection ? String(connection).toLowerCase().split(',').map((s) => s.trim()) : null;
  const out = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (named !== null && named.includes(name))) continue;
    out[name] = headers[name];
  }
  return out;
}

const upstream = envUpstream();
// Same pool shape as the gateway's defaults (128 connections, no pipelining, 4 s keep-alive).
const pool = new Pool(upstream.origin, { connections: 128, pipelining: 1, keepAliveTimeout: 4000 });

const tls = process.env.TLS_CERT_FILE ? { cert: readFileSync(process.env.TLS_CERT_FILE), key: readFileSync(process.env.TLS_KEY_FILE) } : null;
const forwardHeaders = process.env.FORWARD_HEADERS === '1';
const VIA = '1.1 minimal-proxy';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const viaAfter = (prior) => (prior === undefined ? VIA : `${prior}, ${VIA}`);

// Fields the proxy writes itself when FORWARD_HEADERS=1: the client's copies are replaced.
const REPLACED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'via', 'x-request-id']);

/**
 * The upstream request's headers as a flat [name, value, ...] list (undici takes it as is;
 * cheaper than an object that grows key by key, as the gateway's own list is).
 */
function requestHeaders(req, requestId) {
  const headers = req.headers;
  const connection = headers.connection;
  const named = connection ? String(connection).toLowerCase().split(',').map((s) => s.trim()) : null;
  const out = [];
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (named !== null && named.includes(name)) || (requestId !== null && REPLACED.has(name))) continue;
    out.push(name, headers[name]);
  }
  if (requestId !== null) {
    out.push(
      'x-forwarded-for', req.socket.remoteAddress,
      'x-forwarded-proto', tls === null ? 'http' : 'https',
      'x-forwarded-host', headers.host ?? '',
      'via', viaAfter(headers.via),
      'x-request-id', requestId,
    );
  }
  return out;
}

const handler = (req, res) => {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  let requestId = null;
  if (forwardHeaders) {
    const incoming = req.headers['x-request-id'];
    requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  }
  const headers = requestHeaders(req, requestId);
  pool.stream(
    { path: req.url, method: req.method, headers, body: hasBody ? req : null },
    ({ statusCode, headers }) => {
      const out = endToEnd(headers);
      if (requestId !== null) {
        out.via = viaAfter(headers.via);
        out['x-request-id'] = requestId;
      }
      res.writeHead(statusCode, out);
      return res;
    },
    (err) => {
      if (!err) return;
      if (res.headersSent) res.destroy(err);
      else {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway');
      }
    },
  );
};
const server = tls === null ? http.createServer(handler) : https.createServer(tls, handler);
server.keepAliveTimeout = 65_000;
server.listen(envPort(), '127.0.0.1', () =>
  serveChild('minimal-proxy', server, (done) => {
    server.close(() => pool.close().then(done, done));
  }),
);
