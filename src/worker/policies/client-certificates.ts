/**
 * The verified client certificate of a mutual-TLS connection (`server.tls.clientAuth`),
 * as the upstream hears of it: `X-Forwarded-Client-Cert`, in Envoy's format, so services
 * written for an Envoy mesh read it unchanged:
 *
 *   Hash=<SHA-256 of the DER, hex>;Subject="O=Example Corp,CN=orders-service";URI=spiffe://...;DNS=...
 *
 * (one `URI=` / `DNS=` per subjectAltName entry, the subject's attributes in certificate
 * order). Worked out once per connection; a certificate the CA did not vouch for (only
 * possible with `mode: optional`, whose connections the server closes) gives nothing.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** Per-connection cache of the forwarded value. */
export class ClientCertificates {
  readonly #values = new WeakMap<Socket, string | null>();

  /** The `X-Forwarded-Client-Cert` value for a TLS connection, or null (no verified certificate). */
  forwardValue(socket: Socket): string | null {
    let value = this.#values.get(socket);
    if (value === undefined) {
      value = describe(socket as TLSSocket);
      this.#values.set(socket, value);
    }
    return value;
  }
}

function describe(socket: TLSSocket): string | null {
  if (!socket.authorized) return null;
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return null;
  let value = `Hash=${cert.fingerprint256.replace(/:/g, '').toLowerCase()};Subject="${quoted(cert.subject.split('\n').join(','))}"`;
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('URI:')) value += `;URI=${element(entry.slice(4))}`;
    else if (entry.startsWith('DNS:')) value += `;DNS=${element(entry.slice(4))}`;
  }
  return value;
}

/** A value as Envoy writes one: quoted when it holds `,`, `;`, `=` or `"`. */
function element(s: string): string {
  return /[,;="\\]/.test(s) ? `"${quoted(s)}"` : safe(s);
}

/** Inside quotes: `"` and `\` escaped; nothing that could end the header line. */
function quoted(s: string): string {
  return safe(s).replace(/["\\]/g, (c) => `\\${c}`);
}

/** Printable ASCII only: a certificate field is the client's text. */
function safe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}
