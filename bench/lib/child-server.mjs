/**
 * Glue for the server scripts the benchmark forks (upstream, baseline proxies): tell the
 * parent which port was bound, shut down on SIGTERM, and exit if the parent disappears.
 * The last point is what keeps a crashed or SIGKILLed bench run from leaving servers
 * behind: the IPC channel closes with the parent, and 'disconnect' fires here.
 */

/**
 * Announce `server`'s port to the parent (or stdout when run by hand) and wire up
 * shutdown; `close` defaults to `server.close` (fastify passes its own `app.close`).
 */
export function serveChild(name, server, close = (done) => server.close(done)) {
  const { port } = server.address();
  if (process.send) {
    process.send({ type: 'listening', port });
    process.once('disconnect', () => process.exit(0));
  } else {
    console.log(`${name} listening on http://127.0.0.1:${port}`);
  }
  const shutdown = () => {
    close(() => process.exit(0));
    server.closeAllConnections?.();
    // Keep-alive clients could hold close() open; don't wait for them forever.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/** The listen port from PORT (default 0: any free port). */
export function envPort() {
  const port = Number(process.env.PORT ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad PORT: ${process.env.PORT}`);
  return port;
}

/** UPSTREAM_URL as a URL; proxies cannot start without it. */
export function envUpstream() {
  const raw = process.env.UPSTREAM_URL;
  if (!raw) throw new Error('UPSTREAM_URL is required');
  return new URL(raw);
}
