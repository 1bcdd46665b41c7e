/** /metrics and /status only for peers in server.adminAllow; /health and /ready for everyone. */
import t from 'tap';
import { request } from 'undici';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { loadYaml, problemsOf, snapshotOf } from '../../control/config/helpers.js';

const status = async (url: string, headers: Record<string, string> = {}) => {
  const res = await request(url, { headers });
  const body = await res.body.text();
  return { status: res.statusCode, body };
};

t.test('a peer outside adminAllow gets 403 for /metrics and /status; X-Forwarded-For counts only from trusted proxies', async (t) => {
  const gw = await startInProcess(snapshot([service('s', ['http://127.0.0.1:1'])], [route('r', ['/*'], 's')], { adminAllow: ['10.0.0.0/8'] }));
  t.teardown(() => gw.close());
  for (const path of ['/__gateway/metrics', '/__gateway/status']) {
    const r = await status(`${gw.url}${path}`, { 'x-forwarded-for': '10.1.2.3' });
    t.equal(r.status, 403, `${path}: an untrusted peer cannot claim an allowed address`);
    t.equal(JSON.parse(r.body).error.code, 'GW_ADMIN_FORBIDDEN');
  }
  t.equal((await status(`${gw.url}/__gateway/health`)).status, 200, 'liveness stays open');
  t.equal((await status(`${gw.url}/__gateway/ready`)).status, 200, 'readiness stays open');
});

t.test('behind a trusted local proxy, the client it speaks for is judged, not the proxy', async (t) => {
  const gw = await startInProcess(snapshot([service('s', ['http://127.0.0.1:1'])], [route('r', ['/*'], 's')], { trustedProxies: ['127.0.0.1'] }));
  t.teardown(() => gw.close());
  const remote = await status(`${gw.url}/__gateway/status`, { 'x-forwarded-for': '203.0.113.9' });
  t.equal(remote.status, 403, 'a remote client through the local proxy is not loopback');
  const allowed = await startInProcess(
    snapshot([service('s', ['http://127.0.0.1:1'])], [route('r', ['/*'], 's')], { trustedProxies: ['127.0.0.1'], adminAllow: ['10.0.0.0/8'] }),
  );
  t.teardown(() => allowed.close());
  t.equal((await status(`${allowed.url}/__gateway/metrics`, { 'x-forwarded-for': '10.1.2.3' })).status, 200, 'an allowed client through the trusted proxy');
});

t.test('the default allows loopback', async (t) => {
  const gw = await startInProcess(snapshot([service('s', ['http://127.0.0.1:1'])], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  t.equal((await status(`${gw.url}/__gateway/metrics`)).status, 200);
  const st = await status(`${gw.url}/__gateway/status`);
  t.equal(st.status, 200);
  t.equal(JSON.parse(st.body).status, 'standalone', 'in-process: no primary to ask');
});

t.test('config: default loopback; a bad entry is reported', async (t) => {
  const yaml = (extra: string) => `server:\n  port: 8080\n${extra}services:\n  - name: s\n    instances: [{ url: "http://127.0.0.1:1" }]\nroutes:\n  - { id: r, path: /r, service: s }\n`;
  t.same(snapshotOf(await loadYaml(t, yaml(''))).server.adminAllow, ['127.0.0.1/32', '::1/128']);
  const problems = problemsOf(await loadYaml(t, yaml('  adminAllow: ["10.0.0.0/33", "prometheus.local"]\n')));
  t.same(problems.map((p) => p.path), ['server.adminAllow[0]', 'server.adminAllow[1]']);
});
