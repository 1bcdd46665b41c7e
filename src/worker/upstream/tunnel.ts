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
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';

/** How a tunnel ended. */
export interface TunnelEnd {
  /** Bytes sent to the client after the 101 head. */
  readonly down: number;
  /** Bytes sent to the upstream after its 101 (including what the client sent early). */
  readonly up: number;
  /** True when the gateway closed it for being idle. */
  readonly idle: boolean;
  /** The side whose connection failed first (reset, error), or null: a clean close. */
  readonly failed: 'client' | 'upstream' | null;
  /** That failure's code or message. */
  readonly error: string | null;
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
  let failed: TunnelEnd['failed'] = null;
  let error: string | null = null;
  const onIdle = () => {
    idle = true;
    client.destroy();
    upstream.destroy();
  };
  client.setTimeout(idleMs, onIdle);
  upstream.setTimeout(idleMs, onIdle);
  // A failure on one side cuts the other with a reset: what it was sending can no longer
  // arrive, and a FIN would make a cut stream look finished.
  const onError = (side: 'client' | 'upstream', other: Socket) => (err: NodeJS.ErrnoException) => {
    if (failed === null && !idle) (failed = side), (error = err.code ?? err.message);
    reset(other);
  };
  client.on('error', onError('client', upstream));
  upstream.on('error', onError('upstream', client));
  // A side fully closed: the other gets what is already queued for it, then closes too.
  const onClose = (other: Socket) => () => {
    other.destroySoon();
    if (--open === 0) done({ down: client.bytesWritten - down0, up: upstream.bytesWritten - up0, idle, failed, error });
  };
  client.once('close', onClose(upstream));
  upstream.once('close', onClose(client));
}

/** Cut `socket` with a TCP reset (a TLS socket, which cannot send one, is destroyed). */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept a server must answer `key` with (RFC 6455 §4.2.2). */
export function webSocketAccept(key: string): string {
  return createHash('sha1').update(key.trim() + WEBSOCKET_GUID).digest('base64');
}

/** Bytes a client may send after its handshake, held until the upstream answers. */
const EARLY_CAP = 64 * 1024;

/**
 * A WebSocket handshake's client socket while the upstream has not answered yet: what
 * the client sends meanwhile is kept for the tunnel (reading stops at 64 KiB), and a
 * client that ends its side (FIN) has left: its socket is destroyed, which fails the call
 * (499) as a reset would. Without this the FIN would sit unread and the tunnel open to nobody.
 */
export class HandshakeWait {
  readonly #socket: Socket;
  #chunks: Buffer[];
  #bytes: number;
  readonly #onData = (chunk: Buffer) => {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes >= EARLY_CAP) this.#socket.pause();
  };
  readonly #onEnd = () => this.#socket.destroy();

  constructor(socket: Socket, early: Buffer) {
    this.#socket = socket;
    this.#chunks = early.length === 0 ? [] : [early];
    this.#bytes = early.length;
    socket.on('data', this.#onData);
    socket.once('end', this.#onEnd);
    if (this.#bytes >= EARLY_CAP) socket.pause();
  }

  /** Stop holding: the bytes so far, with the socket paused for whoever reads it next. */
  take(): Buffer {
    const socket = this.#socket;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.pause();
    const early = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#bytes = 0;
    return early;
  }
}

/** Whether an `Upgrade` field value asks for WebSocket (RFC 6455 §4.1: the token is case-insensitive). */
export function asksForWebSocket(upgrade: string | undefined): boolean {
  if (upgrade === undefined) return false;
  for (const token of upgrade.split(',')) {
    if (token.trim().toLowerCase() === 'websocket') return true;
  }
  return false;
}
