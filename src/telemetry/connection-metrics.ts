/**
 * Connection-level metrics of a worker's listener (request hardening): connections the
 * worker closed before reading a request from them, by reason. Built in the worker's
 * composition root on its own registry.
 */
import { Counter, type Registry } from 'prom-client';

/** Why a connection was refused; a fixed set, so the label stays bounded. */
export type ConnectionRejectReason = 'per_ip_limit' | 'tls_handshake';

/** `gateway_connections_rejected_total{reason}`. */
export class ConnectionMetrics {
  readonly #rejected: Counter<'reason'>;

  constructor(registry: Registry) {
    this.#rejected = new Counter({
      name: 'gateway_connections_rejected_total',
      help: 'Client connections closed before any request was read, by reason: per_ip_limit (over server.limits.maxConnectionsPerIp), tls_handshake (the TLS handshake failed or timed out).',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.#rejected.inc({ reason: 'per_ip_limit' }, 0);
    this.#rejected.inc({ reason: 'tls_handshake' }, 0);
  }

  /** Count one refused connection. */
  rejected(reason: ConnectionRejectReason): void {
    this.#rejected.inc({ reason });
  }
}
