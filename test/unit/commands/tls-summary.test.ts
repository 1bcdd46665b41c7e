/** What `gateway check` prints about server.tls: certificates with names and expiry, a warning near expiry. */
import t from 'tap';
import type { TlsConfig } from '../../../src/ipc/index.js';
import { tlsSummary, WARN_DAYS } from '../../../src/commands/tls-summary.js';

const cert = (certFile: string, names: string[], notAfter: string) => ({ cert: '', key: '', names, certFile, notAfter });
const tls = (over: Partial<TlsConfig> = {}): TlsConfig => ({
  certificates: [cert('/etc/gw/a.pem', ['a.test', '*.a.test'], '2027-01-31T00:00:00.000Z'), cert('/etc/gw/b.pem', [], '2027-06-01T00:00:00.000Z')],
  minVersion: 'TLSv1.2',
  ciphers: null,
  handshakeTimeoutMs: 10_000,
  httpPort: null,
  clientAuth: null,
  ticketKeys: '',
  ...over,
});

t.test('each certificate with its names and days left; a warning inside the last WARN_DAYS days', async (t) => {
  const now = Date.parse('2027-01-10T00:00:00.000Z');
  const { lines, warnings } = tlsSummary(tls(), now);
  t.same(lines, [
    '  tls: /etc/gw/a.pem (a.test, *.a.test) expires 2027-01-31T00:00:00.000Z, in 21 days',
    '  tls: /etc/gw/b.pem (no DNS names) expires 2027-06-01T00:00:00.000Z, in 142 days',
  ]);
  t.same(warnings, ['/etc/gw/a.pem: warning: the certificate expires in 21 days (2027-01-31T00:00:00.000Z)']);
  t.equal(WARN_DAYS, 30);
  t.same(tlsSummary(tls(), Date.parse('2026-12-31T23:59:59.000Z')).warnings, [], '30 days and a second left: no warning yet');
});

t.test('client certificates and the plain port are mentioned', async (t) => {
  const { lines } = tlsSummary(tls({ clientAuth: { ca: '', mode: 'optional' }, httpPort: 80 }), Date.parse('2026-01-01T00:00:00.000Z'));
  t.same(lines.slice(2), ['  tls: client certificates optional', '  tls: plain HTTP on port 80 as well']);
});
