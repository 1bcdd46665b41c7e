/** Mutual TLS (`server.tls.clientAuth`): who may connect, and what the upstream hears of the client certificate. */
import t from 'tap';
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, request } from 'undici';
import type { ClientAuthConfig, TlsConfig } from '../../../../src/ipc/index.js';
import { ClientCertificates } from '../../../../src/worker/policies/index.js';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { ROOT } from '../../../helpers/repo.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { startUpstream } from '../../../helpers/upstream.js';

const pem = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'tls', name), 'utf8');
const CA = pem('ca.pem');
const CLIENT = { cert: pem('client.pem'), key: pem('client-key.pem') };
const ROGUE = { cert: pem('rogue-client.pem'), key: pem('rogue-client-key.pem') };
const HASH = new X509Certificate(CLIENT.cert).fingerprint256.replace(/:/g, '').toLowerCase();
// The subject in RFC 2253 order, as Envoy and `openssl x509 -nameopt RFC2253` print it.
const XFCC = `Hash=${HASH};Subject="CN=orders-service,O=Example Corp";URI=spiffe://example.test/orders;DNS=orders.internal`;

function tls(clientAuth: ClientAuthConfig): TlsConfig {
  return {
    certificates: [
      { cert: pem('localhost.pem'), key: pem('localhost-key.pem'), names: ['localhost'], certFile: 'localhost.pem', notAfter: '2126-01-01T00:00:00.000Z' },
      { cert: pem('wildcard.pem'), key: pem('wildcard-key.pem'), names: ['*.apps.test'], certFile: 'wildcard.pem', notAfter: '2126-01-01T00:00:00.000Z' },
    ],
    minVersion: 'TLSv1.2',
    ciphers: null,
    handshakeTimeoutMs: 2_000,
    httpPort: null,
    clientAuth,
    ticketKeys: randomBytes(48).toString('hex'),
  };
}

async function gateway(t: { teardown(fn: () => unknown): void }, mode: ClientAuthConfig['mode'], trustedProxies: string[] = [], ca = CA) {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('s', [up.url])], [route('r', ['/*'], 's')], { tls: tls({ ca, mode }), trustedProxies }), { logLevel: 'debug' });
  t.teardown(() => gw.close());
  return { up, gw };
}

/** GET `/who` over TLS with `client` credentials (or none); the upstream's view of XFCC, or the error code. */
async function ask(port: number, client: { cert: string; key: string } | null, headers: Record<string, string> = {}, servername?: string): Promise<{ status: number; xfcc: string | undefined } | { error: string }> {
  const agent = new Agent({ connect: { ca: CA, ...(client ?? {}), ...(servername === undefined ? {} : { servername, checkServerIdentity: () => undefined }) } });
  try {
    const res = await request(`https://127.0.0.1:${port}/who`, { dispatcher: agent, headers });
    const body = (await res.body.json()) as { headers: Record<string, string> };
    return { status: res.statusCode, xfcc: body.headers['x-forwarded-client-cert'] };
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
  } finally {
    await agent.close();
  }
}

t.test('mode require: only clients with a certificate from the CA get through; the upstream hears who they are', async (t) => {
  const { up, gw } = await gateway(t, 'require');
  t.same(await ask(gw.port, CLIENT), { status: 200, xfcc: XFCC }, 'X-Forwarded-Client-Cert in Envoy\'s format');
  t.match(await ask(gw.port, null), { error: String }, 'no certificate: the handshake fails');
  t.match(await ask(gw.port, ROGUE), { error: String }, 'a certificate the CA did not issue: the handshake fails');
  t.same(await ask(gw.port, CLIENT, { 'x-forwarded-client-cert': 'Hash=forged;Subject="CN=admin"' }), { status: 200, xfcc: XFCC }, 'a client-sent header is replaced, never passed on');
  t.equal(up.seen.length, 2, 'only the two verified clients reached the upstream');
  const metrics = await gw.registry.metrics();
  t.match(metrics, /gateway_connections_rejected_total\{reason="tls_handshake"\} 2\n/, 'both refusals counted');
  t.ok(gw.logs.some((l) => l.msg === 'client certificate refused (server.tls.clientAuth): connection closed' && l.reason === 'DEPTH_ZERO_SELF_SIGNED_CERT'), 'the reason is logged');
});

t.test('a certificate chosen by SNI checks client certificates against caFile too', async (t) => {
  const { gw } = await gateway(t, 'require');
  t.same(await ask(gw.port, CLIENT, {}, 'a.apps.test'), { status: 200, xfcc: XFCC }, 'a client from caFile, on an SNI name');
  t.match(await ask(gw.port, ROGUE, {}, 'a.apps.test'), { error: String }, 'and nobody else');
});

t.test('a trusted proxy\'s X-Forwarded-Client-Cert is dropped on a mutual-TLS connection (the gateway verified the client)', async (t) => {
  const { gw } = await gateway(t, 'optional', ['127.0.0.1']);
  t.same(await ask(gw.port, CLIENT, { 'x-forwarded-client-cert': 'Hash=00;Subject="CN=admin"', x_forwarded_client_cert: 'Hash=00' }), { status: 200, xfcc: XFCC });
  t.same(await ask(gw.port, null, { 'x-forwarded-client-cert': 'Hash=00;Subject="CN=admin"' }), { status: 200, xfcc: undefined });
});

t.test('a client certificate from an intermediate in caFile is accepted', async (t) => {
  const { gw } = await gateway(t, 'require', [], CA + pem('int-ca.pem'));
  const res = await ask(gw.port, { cert: pem('int-client.pem'), key: pem('int-client-key.pem') });
  t.match(res, { status: 200, xfcc: /;Subject="CN=billing-service"$/ });
});

t.test('renegotiation is refused: a verified client cannot swap its certificate afterwards', async (t) => {
  const { gw } = await gateway(t, 'optional');
  const err = await new Promise<Error | null>((resolve) => {
    const s = connect({ port: gw.port, host: '127.0.0.1', ca: CA, ...CLIENT, maxVersion: 'TLSv1.2' }, () => {
      const sent = s.renegotiate({ rejectUnauthorized: true }, (e) => resolve(e ?? null));
      if (!sent) resolve(new Error('renegotiate() refused locally'));
    });
    s.on('error', (e) => resolve(e));
  });
  t.ok(err, `the server refused to renegotiate (${String(err)})`);
});

t.test('mode optional: no certificate is fine (no header upstream); a bad one closes the connection', async (t) => {
  const { up, gw } = await gateway(t, 'optional');
  t.same(await ask(gw.port, null), { status: 200, xfcc: undefined });
  t.same(await ask(gw.port, null, { 'x-forwarded-client-cert': 'Hash=forged' }), { status: 200, xfcc: undefined }, 'nor can a client claim one by header');
  t.same(await ask(gw.port, CLIENT), { status: 200, xfcc: XFCC });
  const rogue = await new Promise<string>((resolve) => {
    const s = connect({ port: gw.port, host: '127.0.0.1', ca: CA, ...ROGUE }, () => s.write('GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let got = '';
    s.setEncoding('latin1').on('data', (d: string) => (got += d));
    s.on('error', () => {});
    s.on('close', () => resolve(got));
  });
  t.equal(rogue, '', 'a certificate the CA did not issue: closed before any answer');
  t.equal(up.seen.length, 3, 'the rogue request never reached the upstream');
  const metrics = await gw.registry.metrics();
  t.match(metrics, /gateway_connections_rejected_total\{reason="tls_handshake"\} 1\n/, 'counted');
});

t.test('XFCC of an awkward certificate: RFC 2253 subject with escapes and UTF-8 bytes, a URI holding a comma quoted', async (t) => {
  const cert = new X509Certificate(pem('odd-client.pem'));
  const socket = { authorized: true, authorizationError: null, getPeerX509Certificate: () => cert };
  const value = new ClientCertificates().forwardValue(socket as never);
  t.equal(value, `Hash=${cert.fingerprint256.replace(/:/g, '').toLowerCase()};Subject="CN=svc,OU=J\\C3\\BCrg,O=Acme\\, Inc.";URI="spiffe://example.test/a,b";DNS=odd.internal`, 'as `openssl x509 -nameopt RFC2253` prints the subject');
  const unverified = { authorized: true, authorizationError: 'CERT_REVOKED', getPeerX509Certificate: () => cert };
  t.equal(new ClientCertificates().forwardValue(unverified as never), null, 'nothing for a certificate with a verification error');
});
