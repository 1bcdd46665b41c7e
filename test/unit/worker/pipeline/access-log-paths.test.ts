/** Access-log lines of gateway errors carry the normalized path, like proxied requests. */
import t from 'tap';
import { request } from 'undici';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { waitFor } from '../../../helpers/net.js';
import { loadYaml, problemsOf } from '../../control/config/helpers.js';

t.test('404 and 405 are logged with the normalized path, without the query', async (t) => {
  const gw = await startInProcess(snapshot([service('s', ['http://127.0.0.1:1'])], [route('r', ['/only'], 's', { methods: ['GET'] })]));
  t.teardown(() => gw.close());
  await (await request(`${gw.url}/a/../missing//x?q=1`)).body.dump();
  await (await request(`${gw.url}/./only`, { method: 'DELETE' })).body.dump();
  await waitFor(() => gw.logs.filter((l) => l.msg === 'request').length >= 2, 5_000);
  const lines = gw.logs.filter((l) => l.msg === 'request');
  t.match(lines[0], { status: 404, path: '/missing/x', error: 'GW_ROUTE_NOT_FOUND' });
  t.match(lines[1], { status: 405, path: '/only', route: null });
});

t.test('a trace-id response header may not take a name with a meaning of its own', async (t) => {
  const yaml = (name: string) =>
    `services:\n  - name: s\n    instances: [{ url: "http://127.0.0.1:1" }]\nroutes:\n  - { id: r, path: /r, service: s }\ntelemetry:\n  tracing:\n    responseHeader: ${name}\n`;
  for (const bad of ['content-length', 'Set-Cookie', 'access-control-allow-origin']) {
    t.same(problemsOf(await loadYaml(t, yaml(bad))).map((p) => p.path), ['telemetry.tracing.responseHeader'], bad);
  }
  t.same(problemsOf(await loadYaml(t, yaml('x-trace-id'))), []);
});
