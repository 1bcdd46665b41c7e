/** Rate limits keyed by identity, and an API key's own limit replacing the route's. */
import t from 'tap';
import type { IncomingMessage } from 'node:http';
import { effectiveLimits } from '../../../../../src/worker/policies/auth/index.js';
import { limitKeyOf } from '../../../../../src/worker/policies/index.js';
import { TrustedProxies } from '../../../../../src/worker/pipeline/index.js';
import { IdentityHeaders } from '../../../../../src/worker/policies/auth/identity-headers.js';

const req = { headers: {}, socket: { remoteAddress: '10.0.0.1' } } as unknown as IncomingMessage;
const trusted = new TrustedProxies([]);
const key = { method: 'api-key', subject: 'team', roles: [], scopes: [], keyId: 'abc123abc123', rateLimit: { requests: 3, per: 'm' as const } };
const jwt = { method: 'jwt:idp', subject: 'alice', roles: [], scopes: [], keyId: null, rateLimit: null };

t.test('api-key and subject keys use the identity; without one, the IP', async (t) => {
  t.equal(limitKeyOf('api-key', req, trusted, key), 'k:abc123abc123');
  t.equal(limitKeyOf('subject', req, trusted, key), limitKeyOf('subject', req, trusted, { ...key, keyId: 'other' }), 'subject: the same owner shares a bucket');
  t.not(limitKeyOf('subject', req, trusted, jwt), limitKeyOf('subject', req, trusted, { ...jwt, method: 'jwt:other' }), 'per auth method');
  t.equal(limitKeyOf('api-key', req, trusted, jwt), limitKeyOf('subject', req, trusted, jwt), 'a JWT caller counts as its subject');
  t.equal(limitKeyOf('subject', req, trusted, null), 'ip:10.0.0.1');
  t.equal(limitKeyOf('ip', req, trusted, key), 'ip:10.0.0.1');
});

t.test("a key's own limit replaces api-key limits, or is added", async (t) => {
  const route = [{ requests: 100, per: 'm' as const, key: 'api-key' }, { requests: 10, per: 's' as const, key: 'ip' }];
  t.same(effectiveLimits(route, key), [{ requests: 3, per: 'm', key: 'api-key' }, route[1]]);
  t.same(effectiveLimits([route[1]!], key), [route[1], { requests: 3, per: 'm', key: 'api-key' }]);
  t.equal(effectiveLimits(route, jwt), route, 'no own limit: the route limits as they are');
  t.equal(effectiveLimits(route, null), route);
});

t.test('identity header values are always valid header text', async (t) => {
  const h = new IdentityHeaders({ subject: 'x-s', roles: 'x-r', scopes: 'x-sc', keyId: 'x-k', method: 'x-m' }, 'x-api-key');
  const out = h.rewrite(['X-S', 'spoof', 'X-Api-Key', 'k', 'Accept', '*/*'], { ...key, subject: 'Jürgen', roles: ['a\r\nb'] }, false);
  t.same(out, ['Accept', '*/*', 'x-s', 'J%C3%BCrgen', 'x-m', 'api-key', 'x-r', 'a%0D%0Ab', 'x-k', 'abc123abc123']);
});
