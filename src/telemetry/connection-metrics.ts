/**
 * Connection-level metrics of a worker's listener (request hardening): connections the
 * worker closed before reading a request from them, by reason. Built in the worker's
 * composition root on its own registry.
 */
import { Counter, type Registry } from 'prom-client';

/** Why a connection was refused; a fixed set, so the label stays bounded. */
export type ConnectionRejectReason = 'per_ip_limit';

/** `gateway_connections_rejected_total{reason}`. */
export class ConnectionMetrics {
  readonly #rejected: Counter<'reason'>;

  constructor(registry: Registry) {
    this.#rejected = new Counter({
      name: 'gateway_connections_rejected_total',
      help: 'Client connections closed by the gateway before any request was read, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.#rejected.inc({ reason: 'per_ip_limit' }, 0);
  }

  /** Count one refused connection. */
  rejected(reason: ConnectionRejectReason): void {
    this.#rejected.inc({ reason });
  }
}
