/**
 * WebSocket tunnels through the real process model: a YAML route with `websocket: true`
 * reaches the workers, a tunnel carries messages, and SIGTERM with a tunnel open still
 * exits 0 once `server.timeouts.drainMs` has passed (the tunnel is closed then).
 */
import t from 'tap';
import { startGateway, testConfig } from '../helpers/gateway-process.js';
import { openWs, startWsUpstream, textFrame } from '../helpers/websocket.js';

t.test('a YAML websocket route tunnels, and SIGTERM closes open tunnels at the drain deadline', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway(
    (port) =>
      testConfig(
        port,
        [{ name: 'ws', instances: [{ url: up.url }], timeouts: { tunnelIdleMs: 60_000 } }],
        [
          { id: 'live', paths: ['/live'], service: 'ws', websocket: true },
          { id: 'plain', paths: ['/plain'], service: 'ws' },
        ],
        { workers: 1, timeouts: { drainMs: 1_000 } },
      ),
    { env: { GATEWAY_ACCESS_LOG: 'on' } },
  );
  t.teardown(() => gw.stop('SIGKILL'));

  const c = await openWs(gw.port, '/live');
  t.equal(c.status, 101);
  c.socket.write(textFrame('through the cluster', true));
  t.same(await c.next(), ['echo: through the cluster']);

  const plain = await openWs(gw.port, '/plain');
  t.equal(plain.status, 200, 'a route without websocket serves the handshake as a plain GET');
  plain.socket.destroy();

  const started = Date.now();
  const code = gw.stop('SIGTERM');
  await c.closed;
  t.equal(await code, 0, 'drained and exited 0');
  const waited = Date.now() - started;
  t.ok(waited >= 800, `the open tunnel lasted until the drain deadline (${waited} ms)`);
  const line = gw.logs.find((l) => l.msg === 'request' && l.route === 'live');
  t.equal(line?.status, 101, 'the tunnel is in the access log');
});
