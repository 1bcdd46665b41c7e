/**
 * A WebSocket tunnel: once the upstream answered the handshake with 101, the client's
 * socket and the upstream's are joined byte for byte. Frames are not parsed: the
 * gateway's policies (routing, auth, rate limits) ran on the handshake, and what follows
 * belongs to the two ends.
 *
 * It ends when either side closes (a FIN is passed on, and the other side may still
 * finish what it was sending) or fails (the other side is cut), or when no byte moved
 * either way for `idleMs`: Node's socket timeout counts reads and writes, so a feed the
 * upstream pushes keeps both sockets active even while the client only listens.
 */
import type { Socket } from 'node:net';

/** How a tunnel ended. */
export interface TunnelEnd {
  /** Bytes sent to the client after the 101 head. */
  readonly down: number;
  /** Bytes sent to the upstream after its 101 (including what the client sent early). */
  readonly up: number;
  /** True when the gateway closed it for being idle. */
  readonly idle: boolean;
}

/**
 * Write `opening` (the 101 head) to the client, pass `early` (bytes the client sent right
 * after its handshake) upstream, then join the two sockets until both are closed.
 */
export function joinTunnel(client: Socket, upstream: Socket, opening: string, early: Buffer, idleMs: number, done: (end: TunnelEnd) => void): void {
  client.write(opening, 'latin1');
  const down0 = client.bytesWritten;
  const up0 = upstream.bytesWritten;
  if (early.length > 0) upstream.write(early);
  // Frames are small and latency-bound; Nagle would hold them back.
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  upstream.pipe(client);
  client.pipe(upstream);

  let idle = false;
  let open = 2;
  const onIdle = () => {
    idle = true;
    client.destroy();
    upstream.destroy();
  };
  client.setTimeout(idleMs, onIdle);
  upstream.setTimeout(idleMs, onIdle);
  // A failure on one side cuts the other: what it was sending can no longer arrive.
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  // A side fully closed: the other gets what is already queued for it, then closes too.
  const onClose = (other: Socket) => () => {
    other.destroySoon();
    if (--open === 0) done({ down: client.bytesWritten - down0, up: upstream.bytesWritten - up0, idle });
  };
  client.once('close', onClose(upstream));
  upstream.once('close', onClose(client));
}

/** Whether an `Upgrade` field value asks for WebSocket (RFC 6455 §4.1: the token is case-insensitive). */
export function asksForWebSocket(upgrade: string | undefined): boolean {
  if (upgrade === undefined) return false;
  for (const token of upgrade.split(',')) {
    if (token.trim().toLowerCase() === 'websocket') return true;
  }
  return false;
}
