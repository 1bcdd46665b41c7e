/** Service-wide limits shared by the routes of a service, and the configurable header families. */
import t from 'tap';
import { Agent, request } from 'undici';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { startUpstream } from '../../../helpers/upstream.js';

const agent = new Agent();
t.teardown(() => agent.close());
const get = async (url: string) => {
  const res = await request(url, { dispatcher: agent });
  await res.body.dump();
  return res;
};

t.test('a service limit is one budget for all of the service\'s routes, on top of route limits', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot(
      [service('a', [up.url], { rateLimits: [{ requests: 3, per: 'm', key: 'ip' }] }), service('b', [up.url])],
      [
        route('one', ['/one'], 'a'),
        route('two', ['/two'], 'a', { rateLimits: [{ requests: 1, per: 'm', key: 'ip' }] }),
        route('other', ['/other'], 'b'),
      ],
    ),
  );
  t.teardown(() => gw.close());
  const statuses = [];
  for (const p of ['/one', '/two', '/two', '/one', '/one', '/other']) statuses.push((await get(`${gw.url}${p}`)).statusCode);
  t.same(statuses, [200, 200, 429, 200, 429, 200], 'service budget 3 across routes; route two has its own 1; other service untouched');
  t.equal(up.seen.length, 4);
});

t.test('rateLimitHeaders chooses the header families; Retry-After always comes with a 429', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const limited = (id: string, mode: 'ietf' | 'legacy' | 'none') =>
    route(id, [`/${id}`], 'a', { rateLimitHeaders: mode, rateLimits: [{ requests: 1, per: 'h', key: 'ip' }] });
  const gw = await startInProcess(snapshot([service('a', [up.url])], [limited('ietf', 'ietf'), limited('legacy', 'legacy'), limited('none', 'none')]));
  t.teardown(() => gw.close());
  const ietf = await get(`${gw.url}/ietf`);
  t.ok(ietf.headers['ratelimit-policy'] && ietf.headers.ratelimit, 'IETF fields');
  t.notOk(ietf.headers['x-ratelimit-limit'], 'no legacy fields');
  const legacy = await get(`${gw.url}/legacy`);
  t.equal(legacy.headers['x-ratelimit-limit'], '1');
  t.notOk(legacy.headers['ratelimit-policy']);
  await get(`${gw.url}/none`);
  const refused = await get(`${gw.url}/none`);
  t.equal(refused.statusCode, 429);
  t.notOk(refused.headers['ratelimit-policy'] || refused.headers['x-ratelimit-limit'], 'no rate-limit fields');
  t.ok(Number(refused.headers['retry-after']) > 0, 'but Retry-After');
});
