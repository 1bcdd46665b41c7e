/** SNI certificate choice, protocol floor and shared session tickets of a TLS listener. */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import type { TlsConfig } from '../../../src/ipc/index.js';
import { TlsContexts } from '../../../src/worker/tls-contexts.js';
import { ROOT } from '../../helpers/repo.js';

const pem = (name: string): string => readFileSync(join(ROOT, 'test', 'fixtures', 'tls', name), 'utf8');
const CA = pem('ca.pem');
const cert = (name: string, names: string[]) => ({ cert: pem(`${name}.pem`), key: pem(`${name}-key.pem`), names, certFile: `${name}.pem`, notAfter: '2126-01-01T00:00:00.000Z' });

function config(over: Partial<TlsConfig> = {}): TlsConfig {
  return {
    certificates: [cert('localhost', ['localhost', 'gateway.test']), cert('wildcard', ['*.apps.test', 'apps.test']), cert('api', ['api.example.test'])],
    minVersion: 'TLSv1.2',
    ciphers: null,
    handshakeTimeoutMs: 2_000,
    httpPort: null,
    clientAuth: null,
    ticketKeys: randomBytes(48).toString('hex'),
    ...over,
  };
}

async function serve(t: { teardown(fn: () => void): void }, tls: TlsConfig): Promise<number> {
  const server: Server = createServer(new TlsContexts(tls).serverOptions(), (_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  return (server.address() as AddressInfo).port;
}

interface Handshake {
  readonly cn: string | undefined;
  readonly reused: boolean;
  readonly alpn: string | false | null;
  readonly session: Buffer | null;
}

/** Handshake, make one request, and report what the client saw; `strict` also checks the name. */
function handshake(port: number, opts: ConnectionOptions = {}, strict = false): Promise<Handshake> {
  const identity = strict ? {} : { checkServerIdentity: () => undefined };
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ca: CA, ALPNProtocols: ['http/1.1'], ...identity, ...opts }, () => {
      const seen = { cn: socket.getPeerCertificate().subject?.CN as string | undefined, reused: socket.isSessionReused(), alpn: socket.alpnProtocol };
      let session: Buffer | null = null;
      socket.on('session', (s: Buffer) => (session = s));
      socket.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      socket.resume();
      socket.on('close', () => resolve({ ...seen, session }));
    });
    socket.on('error', reject);
  });
}

t.test('SNI: exact names, one-label wildcards, case-insensitive, the first certificate as default; TLS 1.2 and 1.3', async (t) => {
  const port = await serve(t, config());
  const cases: [string | undefined, string][] = [
    ['api.example.test.', 'api'], // the absolute form
    [undefined, 'localhost'], // no SNI (an IP address): the default
    ['localhost', 'localhost'],
    ['gateway.test', 'localhost'],
    ['api.example.test', 'api'],
    ['API.Example.TEST', 'api'],
    ['a.apps.test', 'wildcard'],
    ['apps.test', 'wildcard'], // the wildcard certificate's own exact name
    ['b.a.apps.test', 'localhost'], // a wildcard covers one label only
    ['unknown.test', 'localhost'],
  ];
  for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
    for (const [servername, cn] of cases) {
      const seen = await handshake(port, { maxVersion, ...(servername === undefined ? {} : { servername }) });
      t.equal(seen.cn, cn, `${maxVersion} ${servername ?? '(no SNI)'} → ${cn}`);
      t.equal(seen.alpn, 'http/1.1', 'ALPN settles on HTTP/1.1');
    }
  }
});

t.test('an exact name on the default certificate wins over another certificate\'s wildcard', async (t) => {
  const tls = config({ certificates: [cert('localhost', ['x.apps.test']), cert('wildcard', ['*.apps.test'])] });
  const port = await serve(t, tls);
  t.equal((await handshake(port, { servername: 'x.apps.test' })).cn, 'localhost');
  t.equal((await handshake(port, { servername: 'y.apps.test' })).cn, 'wildcard');
});

t.test('the chain is verified against the CA and presents the certificate for the name asked', async (t) => {
  const port = await serve(t, config());
  // The real identity check this time: the name must be in the certificate.
  t.equal((await handshake(port, { servername: 'api.example.test' }, true)).cn, 'api');
  t.equal((await handshake(port, { servername: 'z.apps.test' }, true)).cn, 'wildcard');
  await t.rejects(handshake(port, { servername: 'nothing.test' }, true), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
});

t.test('listeners with the same ticket keys resume each other\'s sessions, on every certificate', async (t) => {
  const tls = config();
  const a = await serve(t, tls);
  const b = await serve(t, tls);
  const other = await serve(t, config());
  for (const servername of ['localhost', 'api.example.test']) {
    const first = await handshake(a, { servername });
    t.equal(first.reused, false);
    t.ok(first.session, 'a session ticket was issued');
    t.equal((await handshake(b, { servername, session: first.session! })).reused, true, `${servername}: resumed on the other listener`);
    t.equal((await handshake(other, { servername, session: first.session! })).reused, false, `${servername}: not resumed with other keys`);
  }
});

t.test('minVersion TLSv1.3 refuses a TLS 1.2 client; TLSv1.2 accepts it', async (t) => {
  const strict = await serve(t, config({ minVersion: 'TLSv1.3' }));
  await t.rejects(handshake(strict, { maxVersion: 'TLSv1.2' }));
  const relaxed = await serve(t, config());
  t.equal((await handshake(relaxed, { maxVersion: 'TLSv1.2' })).cn, 'localhost');
});
