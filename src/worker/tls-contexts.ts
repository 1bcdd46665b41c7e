/**
 * The secure contexts of a TLS listener and the SNI choice between them.
 *
 * The first certificate is the server's own context: clients that send no SNI name, or
 * one no certificate covers, get it (and then see a name mismatch, as they would from
 * any server). Otherwise an exact name wins over a wildcard; a wildcard covers exactly
 * one label (`*.example.com` covers `a.example.com`, not `example.com` nor
 * `a.b.example.com`; RFC 6125 §6.4.3). Names compare in lower case, a trailing dot
 * (`example.com.`, the absolute form) ignored. The control thread made sure no name is
 * served by two certificates, and that all have one key type (config/tls-checks.ts).
 *
 * Node takes the certificate, key and chain from the context SNI chose, and the store
 * client certificates are verified against: every context gets the `clientAuth` CAs
 * (without them an SNI context would trust Node's public roots). Protocol floor, ciphers
 * and session tickets stay the server's; its ticket keys come with the snapshot (see
 * WorkerServer.listen), so a ticket opens on whichever worker the client reaches next.
 *
 * Renegotiation is refused (with client certificates, a TLS 1.2 client could otherwise
 * swap its certificate after the handshake that verified it). With client certificates
 * the verdict is left to the server (see server.ts, which logs and counts refusals), and
 * the session id context is a hash of the CA set and mode, so no session made under
 * other CAs resumes.
 */
import { constants, createHash } from 'node:crypto';
import { createSecureContext, type SecureContext, type TlsOptions } from 'node:tls';
import type { TlsConfig } from '../ipc/index.js';

/** HTTP/1.1 only: the gateway does not speak HTTP/2 (ALPN lets a client know before it tries). */
const ALPN = ['http/1.1'];

/** SNI lookup over a listener's certificates. */
export class TlsContexts {
  /** Name → context; null for the default context (Node falls back to it). */
  readonly #exact = new Map<string, SecureContext | null>();
  /** `*.example.com` is stored under `example.com`. */
  readonly #wildcard = new Map<string, SecureContext | null>();
  readonly #config: TlsConfig;
  readonly #ticketKeys: Buffer;

  constructor(config: TlsConfig) {
    this.#config = config;
    this.#ticketKeys = Buffer.from(config.ticketKeys, 'hex');
    config.certificates.forEach((c, i) => {
      const context = i === 0 ? null : createSecureContext({ cert: c.cert, key: c.key, ...(config.clientAuth === null ? {} : { ca: config.clientAuth.ca }) });
      for (const name of c.names) {
        if (name.startsWith('*.')) this.#wildcard.set(name.slice(2), context);
        else this.#exact.set(name, context);
      }
    });
  }

  /** Options for `https.createServer`: the default certificate, protocol floor, SNI, tickets. */
  serverOptions(): TlsOptions {
    const first = this.#config.certificates[0]!;
    return {
      minVersion: this.#config.minVersion,
      ticketKeys: this.#ticketKeys,
      ...(this.#config.ciphers === null ? {} : { ciphers: this.#config.ciphers }),
      cert: first.cert,
      key: first.key,
      ALPNProtocols: ALPN,
      handshakeTimeout: this.#config.handshakeTimeoutMs,
      SNICallback: (servername, cb) => cb(null, this.select(servername)),
      // Client-initiated renegotiation (TLS 1.2): a CPU cost for the server, and a way to
      // swap a client certificate after it was verified; nginx refuses it too.
      secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
      ...(this.#config.clientAuth === null
        ? {}
        : {
            requestCert: true,
            rejectUnauthorized: false,
            ca: this.#config.clientAuth.ca,
            sessionIdContext: createHash('sha256').update(`${this.#config.clientAuth.mode}\n${this.#config.clientAuth.ca}`).digest('hex').slice(0, 32),
          }),
    };
  }

  /** The session ticket keys of this config (set again after listen: see WorkerServer.listen). */
  get ticketKeys(): Buffer {
    return this.#ticketKeys;
  }

  /** The context for an SNI name; undefined means the default one. */
  select(servername: string): SecureContext | undefined {
    const lower = servername.toLowerCase();
    const name = lower.endsWith('.') ? lower.slice(0, -1) : lower;
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact ?? undefined;
    const dot = name.indexOf('.');
    if (dot <= 0) return undefined;
    return this.#wildcard.get(name.slice(dot + 1)) ?? undefined;
  }
}
