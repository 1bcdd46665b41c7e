/**
 * TLS termination settings of the worker listener (`server.tls`), as the control thread
 * resolved them: certificate chains and keys read, parsed and checked, the names each
 * certificate answers for taken from its subjectAltName. Absent or null: plain HTTP.
 */

/** TLS protocol floors the listener accepts. */
export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;

/** One certificate the listener can present. */
export interface TlsCertificate {
  /** PEM chain, leaf first (as read from `certFile`). */
  readonly cert: string;
  /** PEM private key of the leaf (unencrypted). */
  readonly key: string;
  /** DNS names from the leaf's subjectAltName, lower case (`*.example.com` for a wildcard). */
  readonly names: readonly string[];
  /** The file it came from (for logs). */
  readonly certFile: string;
  /** Leaf expiry, ISO 8601. */
  readonly notAfter: string;
}

/** How clients prove who they are with a certificate (mutual TLS). */
export const CLIENT_AUTH_MODES = ['require', 'optional'] as const;

/** `server.tls.clientAuth`: client certificates, verified against `ca`. */
export interface ClientAuthConfig {
  /** PEM CA certificates a client certificate must chain to. */
  readonly ca: string;
  /**
   * `require`: a handshake without a valid client certificate fails. `optional`: a client
   * may present none; one it presents must be valid, or the connection is closed.
   */
  readonly mode: (typeof CLIENT_AUTH_MODES)[number];
}

/** `server.tls`. */
export interface TlsConfig {
  /**
   * The first is the default: presented to clients that send no SNI name or one no
   * certificate covers. The others are chosen by SNI (exact name before wildcard).
   */
  readonly certificates: readonly TlsCertificate[];
  readonly minVersion: (typeof TLS_VERSIONS)[number];
  /** OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are OpenSSL's); null = Node's default. */
  readonly ciphers: string | null;
  /** A connection that has not finished its handshake by then is closed. */
  readonly handshakeTimeoutMs: number;
  /**
   * A plain-HTTP listener on this port beside the TLS one (same host), or null. Routes
   * redirect its requests to HTTPS unless they say `httpsRedirect: false`.
   */
  readonly httpPort: number | null;
  /** Client certificates (mutual TLS), or null: none asked for. */
  readonly clientAuth: ClientAuthConfig | null;
  /**
   * Session ticket keys (48 bytes, hex), the same for every worker of one config version
   * so that a client resumes its session whichever worker it reaches.
   */
  readonly ticketKeys: string;
}
