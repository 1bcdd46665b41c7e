/**
 * The competitor baseline: fastify (logger off) with @fastify/http-proxy forwarding every
 * path to the upstream, all defaults otherwise (it proxies through @fastify/reply-from,
 * which uses undici). Env: UPSTREAM_URL (required), PORT (default 0).
 */
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { envPort, envUpstream, serveChild } from './lib/child-server.mjs';

const app = Fastify({ logger: false });
await app.register(httpProxy, { upstream: envUpstream().origin });
await app.listen({ host: '127.0.0.1', port: envPort() });
serveChild('fastify-proxy', app.server, (done) => {
  app.close().then(done, done);
});
