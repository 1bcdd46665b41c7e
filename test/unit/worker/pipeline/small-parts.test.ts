import t from 'tap';
import { RequestIds, TrustedProxies, compileRewrite, hostnameOf, renderRewrite } from '../../../../src/worker/pipeline/index.js';

const ids = new RequestIds();
const requestIdFor = (incoming: string | string[] | undefined) => ids.for(incoming);
const randomUuid = () => ids.uuid();

t.test('request id: well-formed incoming ids are kept, anything else is replaced by a UUID', async (t) => {
  t.equal(requestIdFor('abc-123_x.y:z'), 'abc-123_x.y:z');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  for (const bad of [undefined, '', 'has space', 'x'.repeat(129), 'a\nb', ['a', 'b'], 'ünï', '{"json":1}']) {
    t.match(requestIdFor(bad as string | undefined), uuid, `replaced: ${JSON.stringify(bad)}`);
  }
  t.not(requestIdFor(undefined), requestIdFor(undefined), 'generated ids differ');
});

t.test('generated ids are RFC 9562 version-4 UUIDs, all distinct, every random digit used', async (t) => {
  const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const seen = new Set<string>();
  const digits = Array.from({ length: 36 }, () => new Set<string>());
  // 10 000 ids cross the 256-id entropy pool's refill many times.
  for (let i = 0; i < 10_000; i++) {
    const id = randomUuid();
    if (!v4.test(id)) t.fail(`not a v4 UUID: ${id}`);
    seen.add(id);
    for (let c = 0; c < 36; c++) digits[c]!.add(id[c]!);
  }
  t.equal(seen.size, 10_000, 'no repeats (the strings do not share the scratch buffer)');
  const fixed = new Set([8, 13, 14, 18, 23]);
  for (let c = 0; c < 36; c++) {
    if (fixed.has(c)) continue;
    t.equal(digits[c]!.size, c === 19 ? 4 : 16, `position ${c} takes every value it may`);
  }
});

t.test('hostnameOf: lower-case, no port, no trailing dot, IPv6 literal kept', async (t) => {
  t.equal(hostnameOf('API.Example.COM:8080'), 'api.example.com');
  t.equal(hostnameOf('example.com.'), 'example.com');
  t.equal(hostnameOf('example.com.:80'), 'example.com');
  t.equal(hostnameOf('[::1]:8080'), '[::1]');
  t.equal(hostnameOf(undefined), '');
  t.equal(hostnameOf('[::1'), '');
  // Alternating and repeated hosts.
  for (const [host, want] of [['A.example', 'a.example'], ['A.example', 'a.example'], ['b.example:81', 'b.example'], ['A.example', 'a.example'], ['', ''], ['A.example', 'a.example']]) {
    t.equal(hostnameOf(host), want, host);
  }
});

t.test('trusted proxies: CIDRs and single addresses, IPv4-mapped IPv6 peers', async (t) => {
  const tp = new TrustedProxies(['10.0.0.0/8', '192.168.1.5', 'fd00::/8']);
  t.ok(tp.has('10.1.2.3'));
  t.ok(tp.has('::ffff:10.1.2.3'));
  t.ok(tp.has('192.168.1.5'));
  t.notOk(tp.has('192.168.1.6'));
  t.ok(tp.has('fd12::1'));
  t.notOk(tp.has('2001:db8::1'));
  t.notOk(tp.has(undefined));
  t.notOk(new TrustedProxies([]).has('10.0.0.1'), 'nobody is trusted by default');
  // Repeated and alternating peers: the remembered last answer belongs to its address only.
  const seq: [string, boolean][] = [['10.0.0.1', true], ['10.0.0.1', true], ['11.0.0.1', false], ['11.0.0.1', false], ['10.0.0.1', true], ['::ffff:11.0.0.1', false]];
  for (const [address, want] of seq) t.equal(tp.has(address), want, address);
});

t.test('rewrite templates render params by name and the wildcard tail', async (t) => {
  const parts = compileRewrite('/v2/users/:id/items/*');
  t.equal(renderRewrite(parts, ['org', 'id'], ['acme', '42'], 'a/b'), '/v2/users/42/items/a/b');
  t.equal(renderRewrite(compileRewrite('/'), [], [], null), '/');
  t.equal(renderRewrite(compileRewrite('/static'), ['id'], ['1'], 'x'), '/static');
});
