import t from 'tap';
import type { IncomingMessage } from 'node:http';
import { clientAddress, forwardedClient, limitKeyOf } from '../../../../src/worker/policies/index.js';
import { TrustedProxies } from '../../../../src/worker/pipeline/index.js';

const req = (peer: string, headers: Record<string, string> = {}) =>
  ({ socket: { remoteAddress: peer }, headers }) as unknown as IncomingMessage;
const none = new TrustedProxies([]);
const lb = new TrustedProxies(['10.0.0.0/8']);

t.test('client address: X-Forwarded-For only through trusted proxies, right-most untrusted hop', async (t) => {
  t.equal(clientAddress(req('203.0.113.9', { 'x-forwarded-for': '1.2.3.4' }), none), '203.0.113.9', 'untrusted peer: header ignored');
  t.equal(clientAddress(req('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 10.0.0.2' }), lb), '198.51.100.7', 'forged left entries skipped');
  t.equal(clientAddress(req('::ffff:10.0.0.1', { 'x-forwarded-for': '198.51.100.7' }), lb), '198.51.100.7');
  t.equal(clientAddress(req('10.0.0.1', { 'x-forwarded-for': 'unknown' }), lb), '10.0.0.1', 'junk hop: fall back to the peer');
  // Some proxies (Azure Application Gateway, IIS ARR) write the client's port, or brackets
  // around IPv6: the address is still the client's.
  t.equal(clientAddress(req('10.0.0.1', { 'x-forwarded-for': '1.2.3.4:80' }), lb), '1.2.3.4', 'an IPv4 address with a port');
  t.equal(clientAddress(req('10.0.0.1', { 'x-forwarded-for': '[2001:db8::66]' }), lb), '2001:db8::66', 'bracketed IPv6');
  t.equal(clientAddress(req('10.0.0.1', { 'x-forwarded-for': '[2001:db8::66]:443' }), lb), '2001:db8::66', 'bracketed IPv6 with a port');
  t.equal(clientAddress(req('10.0.0.1', { 'x-forwarded-for': '2001:db8::66' }), lb), '2001:db8::66', 'plain IPv6 keeps its colons');
  t.equal(clientAddress(req('10.0.0.1', { 'x-forwarded-for': '[2001:db8::66' }), lb), '10.0.0.1', 'an unclosed bracket is junk');
});

t.test('forwardedClient: null when the nearest entry a trusted proxy wrote is not an address (the client is unknown)', async (t) => {
  t.equal(forwardedClient(req('10.0.0.1', { 'x-forwarded-for': 'unknown' }), lb), null);
  t.equal(forwardedClient(req('10.0.0.1', { 'x-forwarded-for': '203.0.113.66, garbage' }), lb), null, 'the right-most entry decides');
  t.equal(forwardedClient(req('10.0.0.1', { 'x-forwarded-for': 'garbage, 203.0.113.66' }), lb), '203.0.113.66', 'junk the client wrote further left does not matter');
  t.equal(forwardedClient(req('10.0.0.1', { 'x-forwarded-for': '203.0.113.66, 10.0.0.2' }), lb), '203.0.113.66');
  t.equal(forwardedClient(req('10.0.0.1'), lb), '10.0.0.1', 'no header: the proxy is the client');
  t.equal(forwardedClient(req('203.0.113.9', { 'x-forwarded-for': 'unknown' }), none), '203.0.113.9', 'an untrusted peer is the client, whatever it sends');
});

t.test('limit keys are bounded and IPv6 clients are keyed by /64', async (t) => {
  const long = limitKeyOf('header:x-api-key', req('203.0.113.9', { 'x-api-key': 'k'.repeat(16_000) }), none);
  t.ok(long.length < 60, `a 16 KB header becomes a ${long.length}-char key`);
  t.equal(limitKeyOf('header:x-api-key', req('203.0.113.9', { 'x-api-key': 'abc' }), none), 'h:abc');
  t.equal(limitKeyOf('header:x-api-key', req('203.0.113.9'), none), 'ip:203.0.113.9', 'missing header: keyed by client IP');
  const a = limitKeyOf('ip', req('2001:DB8:1:2:aaaa::1'), none);
  const b = limitKeyOf('ip', req('2001:db8:1:2:ffff:1:2:3'), none);
  t.equal(a, b, 'same /64, same bucket');
  t.equal(a, 'ip:2001:db8:1:2::/64');
  t.not(limitKeyOf('ip', req('2001:db8:1:3::1'), none), a, 'another /64, another bucket');
});
