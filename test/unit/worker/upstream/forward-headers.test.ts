import t from 'tap';
import { clientResponseHeaders, HeaderNames, upstreamRequestHeaders, type ForwardContext } from '../../../../src/worker/upstream/index.js';

const NAMES = new HeaderNames();

const ctx = (over: Partial<ForwardContext> = {}): ForwardContext => ({
  remoteAddress: '203.0.113.7',
  trusted: false,
  proto: 'http',
  requestId: 'rid-1',
  via: '1.1 gateway',
  upstreamHost: null,
  ...over,
});

/** Flat [name, value] list → lower-cased multimap. */
function toMap(flat: string[] | null): Map<string, string[]> {
  if (flat === null) throw new Error('response not relayable');
  const m = new Map<string, string[]>();
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i]!.toLowerCase();
    m.set(k, [...(m.get(k) ?? []), flat[i + 1]!]);
  }
  return m;
}

t.test('hop-by-hop headers and those named in Connection are not forwarded upstream', async (t) => {
  const out = toMap(upstreamRequestHeaders(
    ['Host', 'a.example', 'Connection', 'keep-alive, X-Secret-Hop', 'Keep-Alive', 'timeout=5', 'TE', 'trailers',
      'Upgrade', 'h2c', 'Proxy-Authorization', 'Basic x', 'X-Secret-Hop', '1', 'Transfer-Encoding', 'chunked',
      'Accept', 'text/plain', 'X-Keep', 'yes'],
    ctx(),
  ));
  for (const h of ['connection', 'keep-alive', 'te', 'upgrade', 'proxy-authorization', 'x-secret-hop', 'transfer-encoding']) {
    t.notOk(out.has(h), `${h} stripped`);
  }
  t.same(out.get('accept'), ['text/plain']);
  t.same(out.get('x-keep'), ['yes']);
  t.notOk(out.has('host'), 'Host left to the pool (instance authority) unless preserveHost');
});

t.test('untrusted peer: X-Forwarded-* and Forwarded from the client are replaced, not extended', async (t) => {
  const out = toMap(upstreamRequestHeaders(
    ['Host', 'api.example:8080', 'X-Real-IP', '6.6.6.6', 'X-Forwarded-For', '1.2.3.4', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil', 'Forwarded', 'for=1.2.3.4'],
    ctx(),
  ));
  t.same(out.get('x-forwarded-for'), ['203.0.113.7']);
  t.same(out.get('x-forwarded-proto'), ['http']);
  t.same(out.get('x-forwarded-host'), ['api.example:8080']);
  t.notOk(out.has('forwarded'));
  t.notOk(out.has('x-real-ip'), 'other client-IP headers dropped from untrusted peers');
  t.same(out.get('via'), ['1.1 gateway']);
  t.same(out.get('x-request-id'), ['rid-1']);
});

t.test('untrusted peer: no other X-Forwarded-* and no underscore spelling of a forwarding field reaches the upstream', async (t) => {
  const spoofs = ['X-Forwarded-Port', '443', 'X-Forwarded-Prefix', '/evil', 'x-forwarded-server', 'evil', 'X_Forwarded_For', '6.6.6.6',
    'x_forwarded_proto', 'https', 'X_Real_IP', '6.6.6.6', 'x-forwarded_host', 'evil', 'True_Client_IP', '6.6.6.6',
    'CF_Connecting_IP', '6.6.6.6', 'X-Forwarded', 'evil', 'Forwarded_X', 'kept'];
  const out = toMap(upstreamRequestHeaders(['Host', 'a', 'X-Custom_Id', 'kept', 'XFOO', 'kept', ...spoofs], ctx()));
  for (let i = 0; i < spoofs.length - 2; i += 2) t.notOk(out.has(spoofs[i]!.toLowerCase()), `${spoofs[i]} dropped`);
  t.same(out.get('forwarded_x'), ['kept'], 'a name that only looks alike passes');
  t.same(out.get('x-custom_id'), ['kept'], 'underscores in unrelated names pass');
  t.same(out.get('xfoo'), ['kept']);
  t.same(out.get('x-forwarded-for'), ['203.0.113.7'], 'the gateway writes its own');
  const trusted = toMap(upstreamRequestHeaders(['Host', 'a', ...spoofs], ctx({ trusted: true })));
  for (let i = 0; i < spoofs.length; i += 2) t.same(trusted.get(spoofs[i]!.toLowerCase()), [spoofs[i + 1]], `${spoofs[i]} kept from a trusted proxy`);
});

t.test('trusted peer: X-Forwarded-For is extended and proto/host kept', async (t) => {
  const out = toMap(upstreamRequestHeaders(
    ['Host', 'internal', 'X-Forwarded-For', '198.51.100.1', 'X-Forwarded-For', '10.0.0.2', 'X-Forwarded-Proto', 'https',
      'X-Forwarded-Host', 'api.example', 'Via', '1.1 edge', 'X-Real-IP', '198.51.100.1'],
    ctx({ trusted: true, remoteAddress: '::ffff:10.0.0.3' }),
  ));
  t.same(out.get('x-forwarded-for'), ['198.51.100.1, 10.0.0.2, 10.0.0.3'], 'IPv4-mapped peer written as IPv4');
  t.same(out.get('x-forwarded-proto'), ['https']);
  t.same(out.get('x-forwarded-host'), ['api.example']);
  t.same(out.get('via'), ['1.1 edge, 1.1 gateway']);
  t.same(out.get('x-real-ip'), ['198.51.100.1'], 'kept from a trusted proxy');
});

t.test('Expect is not forwarded: Node already answered 100 Continue to the client', async (t) => {
  t.notOk(toMap(upstreamRequestHeaders(['Host', 'a', 'Expect', '100-continue'], ctx())).has('expect'));
});

t.test('preserveHost sends the client Host; a client x-request-id is replaced by the chosen id', async (t) => {
  const out = toMap(upstreamRequestHeaders(['Host', 'api.example', 'X-Request-Id', 'bad id!'], ctx({ upstreamHost: 'api.example' })));
  t.same(out.get('host'), ['api.example']);
  t.same(out.get('x-request-id'), ['rid-1']);
});

t.test('response: hop-by-hop stripped, duplicates kept, Via appended, request id set', async (t) => {
  const raw = ['Content-Type', 'text/plain', 'Connection', 'close, X-Hop', 'X-Hop', '1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2',
    'Transfer-Encoding', 'chunked', 'Via', '1.0 app', 'X-Request-Id', 'upstream-id'].map((s) => Buffer.from(s, 'latin1'));
  const out = toMap(clientResponseHeaders(raw, 'rid-9', '1.1 gateway', null, NAMES));
  t.same(out.get('set-cookie'), ['a=1', 'b=2']);
  t.notOk(out.has('connection'));
  t.notOk(out.has('x-hop'));
  t.notOk(out.has('transfer-encoding'));
  t.same(out.get('via'), ['1.0 app, 1.1 gateway']);
  t.same(out.get('x-request-id'), ['rid-9']);
});

t.test('response: only the chunked transfer coding can be relayed (any case, whitespace around it)', async (t) => {
  const withTe = (...values: string[]) =>
    clientResponseHeaders(['Content-Type', 'text/plain', ...values.flatMap((v) => ['Transfer-Encoding', v])].map((s) => Buffer.from(s, 'latin1')), 'rid', '1.1 gw', null, NAMES);
  for (const ok of ['chunked', 'Chunked', ' CHUNKED ']) t.notOk(toMap(withTe(ok)).has('transfer-encoding'), `${JSON.stringify(ok)} relayed, field dropped`);
  for (const bad of ['gzip, chunked', 'gzip', 'chunked, gzip', 'identity', '']) t.equal(withTe(bad), null, `${JSON.stringify(bad)} refused`);
  t.equal(withTe('gzip', 'chunked'), null, 'a coding in an earlier field line is refused too');
});

t.test('response hook: hidden names dropped (any case), finish sees the final list once', async (t) => {
  const raw = ['Server', 'app/1', 'X-Powered-By', 'php', 'X-Keep', '1'].map((s) => Buffer.from(s, 'latin1'));
  const calls: string[][] = [];
  const hook = { hidden: new Set(['server', 'x-powered-by']), finish: (out: string[]) => void (calls.push([...out]), out.push('x-added', 'y')) };
  const out = clientResponseHeaders(raw, 'rid-3', '1.1 gateway', hook, NAMES);
  t.same(calls, [['X-Keep', '1', 'via', '1.1 gateway', 'x-request-id', 'rid-3']], 'finish runs after Via and the request id');
  t.same(out, ['X-Keep', '1', 'via', '1.1 gateway', 'x-request-id', 'rid-3', 'x-added', 'y']);
  const none = clientResponseHeaders(raw, 'rid-3', '1.1 gateway', { hidden: null, finish: () => {} }, NAMES);
  t.same(toMap(none).get('server'), ['app/1'], 'hidden: null removes nothing');
});

t.test('Connection naming only hop-by-hop fields drops them; names listed after them still drop theirs', async (t) => {
  const raw = ['X-Hop', '1', 'Content-Type', 'text/plain', 'Connection', 'Keep-Alive', 'Keep-Alive', 'timeout=5', 'Connection', 'TE, x-hop']
    .map((s) => Buffer.from(s, 'latin1'));
  t.same(clientResponseHeaders(raw, 'rid-1', '1.1 gw', null, NAMES), ['Content-Type', 'text/plain', 'via', '1.1 gw', 'x-request-id', 'rid-1'],
    'a name listed in a second Connection header is dropped even though it came first');
  const plain = ['Content-Type', 'text/plain', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5'].map((s) => Buffer.from(s, 'latin1'));
  t.same(clientResponseHeaders(plain, 'rid-2', '1.1 gw', null, NAMES), ['Content-Type', 'text/plain', 'via', '1.1 gw', 'x-request-id', 'rid-2']);
  const via = ['Via', '1.0 app', 'Connection', 'Via'].map((s) => Buffer.from(s, 'latin1'));
  t.same(toMap(clientResponseHeaders(via, 'rid-3', '1.1 gw', null, NAMES)).get('via'), ['1.1 gw'], "a Via the upstream named in Connection is not merged");
  const up = toMap(upstreamRequestHeaders(['Host', 'a', 'X-Hop', '1', 'Connection', 'keep-alive', 'Connection', 'x-hop', 'X-Keep', '2'], ctx()));
  t.notOk(up.has('x-hop'));
  t.same(up.get('x-keep'), ['2']);
});
