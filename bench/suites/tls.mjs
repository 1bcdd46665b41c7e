/**
 * TLS suite: what terminating TLS costs. The gateway (1 worker) is measured on plain HTTP
 * and with `server.tls`, next to the minimal undici proxy listening with the same
 * certificate, all on the same upstream. Connections are kept alive (autocannon opens its
 * 50 once), so this is the cost of encrypting requests and responses, not of handshakes.
 * Certificate: the test fixture for localhost (RSA 2048), the same for both proxies.
 * The minimal proxy writes the same forwarding fields as the gateway (FORWARD_HEADERS=1,
 * as in the core suite's goal baseline).
 */
import { fileURLToPath } from 'node:url';
import { gatewayTarget } from '../lib/gateway-target.mjs';
import { forkedServerTarget } from '../lib/targets.mjs';

const script = (name) => fileURLToPath(new URL(`../${name}`, import.meta.url));
const fixture = (name) => fileURLToPath(new URL(`../../test/fixtures/tls/${name}`, import.meta.url));
const CERT = fixture('localhost.pem');
const KEY = fixture('localhost-key.pem');

const PLAIN = 'gateway, plain HTTP';
const TLS = 'gateway, TLS';
const MINIMAL_TLS = 'minimal undici proxy, same fields, TLS';

const withTls = (config) => ({ ...config, server: { ...config.server, tls: { certificates: [{ certFile: CERT, keyFile: KEY }] } } });

/** The TLS-termination suite. */
export default {
  name: 'tls',
  title: 'TLS termination',
  upstream: script('upstream.mjs'),
  path: '/bench/items?id=1',
  targets: [
    gatewayTarget({ name: PLAIN, workers: 1 }),
    gatewayTarget({ name: TLS, workers: 1, configure: withTls, scheme: 'https' }),
    forkedServerTarget({ name: MINIMAL_TLS, script: script('minimal-proxy.mjs'), env: { TLS_CERT_FILE: CERT, TLS_KEY_FILE: KEY, FORWARD_HEADERS: '1' }, scheme: 'https' }),
  ],
  comparisons: [
    { label: 'gateway TLS / gateway plain', numerator: TLS, denominator: PLAIN, goal: null },
    { label: 'gateway TLS / minimal proxy TLS', numerator: TLS, denominator: MINIMAL_TLS, goal: null },
    { label: 'gateway TLS / gateway plain', numerator: TLS, denominator: PLAIN, goal: null, metric: 'cpu' },
    { label: 'gateway TLS / minimal proxy TLS', numerator: TLS, denominator: MINIMAL_TLS, goal: null, metric: 'cpu' },
  ],
  notes: [
    'Keep-alive connections: the handshake is paid once per connection, before the measured run.',
    'The load generator (autocannon) does not verify the certificate; both proxies present the same one.',
  ],
};
