/**
 * The verified client certificate of a mutual-TLS connection (`server.tls.clientAuth`),
 * as the upstream hears of it: `X-Forwarded-Client-Cert`, in Envoy's format:
 *
 *   Hash=<SHA-256 of the DER, hex>;Subject="CN=orders-service,O=Example Corp";URI=spiffe://...;DNS=...
 *
 * The subject is an RFC 2253 string as Envoy (and `openssl x509 -nameopt RFC2253`) prints
 * it: attributes from the last to the first, `,+"\<>;` escaped with `\` (Node's subject
 * text has them escaped already), bytes outside printable ASCII as `\XX` of their UTF-8.
 * One `URI=` / `DNS=` per subjectAltName entry,
 * quoted when it holds `,;="` (with `"` and `\` escaped inside). Worked out once per
 * connection: renegotiation is refused (tls-contexts.ts), so the certificate cannot change.
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
  if (!socket.authorized || socket.authorizationError != null) return null;
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return null;
  const subject = cert.subject.split('\n').reverse().map(hexEscape).join(',');
  let value = `Hash=${cert.fingerprint256.replace(/:/g, '').toLowerCase()};Subject="${subject}"`;
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('URI:')) value += `;URI=${element(unquote(entry.slice(4)))}`;
    else if (entry.startsWith('DNS:')) value += `;DNS=${element(unquote(entry.slice(4)))}`;
  }
  return value;
}

/** Printable ASCII as is; anything else as `\XX` per UTF-8 byte. */
function hexEscape(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  let out = '';
  for (const ch of s) {
    if (/[\x20-\x7e]/.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `\\${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Node JSON-quotes a subjectAltName entry that holds `,` or non-ASCII (`"a\u002c b"`). */
function unquote(s: string): string {
  if (!s.startsWith('"')) return s;
  try {
    return JSON.parse(s) as string;
  } catch {
    return s;
  }
}

/** A URI or DNS value: bytes outside printable ASCII percent-encoded; quoted when it holds `,;="\`. */
function element(s: string): string {
  let v = '';
  for (const ch of s) v += /[\x21-\x7e]/.test(ch) ? ch : encodeURIComponent(ch);
  return /[,;="\\]/.test(v) ? `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"` : v;
}
