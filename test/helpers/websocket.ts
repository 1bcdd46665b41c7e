/**
 * Just enough RFC 6455 for tests of the gateway's WebSocket tunnels: a handshake over a
 * raw socket, text frames (masked from clients, unmasked from servers) and an upstream
 * that answers handshakes and echoes every text message back.
 */
import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { listenOnLoopback } from './net.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept value for `key` (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** One text frame (FIN set); clients must mask, servers must not. */
export function textFrame(text: string, masked: boolean): Buffer {
  const payload = Buffer.from(text);
  const n = payload.length;
  const len = n < 126 ? Buffer.from([n | (masked ? 0x80 : 0)]) : n < 65_536 ? Buffer.from([126 | (masked ? 0x80 : 0), n >> 8, n & 0xff]) : (() => {
    const b = Buffer.alloc(9);
    b[0] = 127 | (masked ? 0x80 : 0);
    b.writeBigUInt64BE(BigInt(n), 1);
    return b;
  })();
  if (!masked) return Buffer.concat([Buffer.from([0x81]), len, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([Buffer.from([0x81]), len, mask, body]);
}

/** Splits a byte stream into the text of its frames (both masked and unmasked). */
export class FrameReader {
  #buf = Buffer.alloc(0);
  readonly messages: string[] = [];
  /** Feed bytes; returns the messages completed by them. */
  push(chunk: Buffer): string[] {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) break;
      const masked = (b[1]! & 0x80) !== 0;
      let n = b[1]! & 0x7f;
      let at = 2;
      if (n === 126) {
        if (b.length < 4) break;
        n = b.readUInt16BE(2);
        at = 4;
      } else if (n === 127) {
        if (b.length < 10) break;
        n = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (b.length < at + n) break;
      const payload = Buffer.from(b.subarray(at, at + n));
      if (masked) for (let i = 0; i < n; i++) payload[i]! ^= b[maskAt + (i & 3)]!;
      out.push(payload.toString());
      this.#buf = b.subarray(at + n);
    }
    this.messages.push(...out);
    return out;
  }
}

/** A WebSocket upstream: 101 for handshakes on any path, echoing `echo: <text>` for every message. */
export interface WsUpstream {
  readonly url: string;
  readonly port: number;
  /** Handshake requests seen, in order. */
  readonly handshakes: IncomingMessage[];
  /** Plain (non-upgrade) requests seen, with their bodies. */
  readonly plain: { req: IncomingMessage; body: string }[];
  /** The upstream's side of every tunnel. */
  readonly sockets: Socket[];
  close(): Promise<void>;
}

/**
 * Start the upstream. A handshake whose path starts with /refuse gets a 403 with a body,
 * /fake a 101 with a wrong accept value, /h2c a 101 to h2c, /slow its 101 after 300 ms;
 * one offering subprotocols gets the first; plain requests get 200 `plain <method> <url>`
 * (426 for a GET that still carries `Upgrade`, which the gateway must never send).
 */
export async function startWsUpstream(): Promise<WsUpstream> {
  const handshakes: IncomingMessage[] = [];
  const plain: { req: IncomingMessage; body: string }[] = [];
  const sockets: Socket[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      plain.push({ req, body });
      const status = req.headers.upgrade === undefined ? 200 : 426;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`plain ${req.method} ${req.url}`);
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    handshakes.push(req);
    socket.on('error', () => {});
    // Notice the gateway closing its side whatever the path (an unread socket never would).
    const watch = () => socket.resume().on('end', () => socket.destroy());
    if (req.url?.startsWith('/refuse')) {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 7\r\nconnection: close\r\n\r\nno way!');
      return;
    }
    // Not WebSocket servers: a 101 with a wrong accept value, a 101 to another protocol.
    if (req.url?.startsWith('/fake')) {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n');
      sockets.push(socket);
      watch();
      return;
    }
    if (req.url?.startsWith('/h2c')) {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n');
      sockets.push(socket);
      watch();
      return;
    }
    if (req.url?.startsWith('/slow')) {
      sockets.push(socket);
      socket.on('end', () => socket.destroy());
      setTimeout(() => answer(req, socket, head), 300);
      return;
    }
    answer(req, socket, head);
  });
  const answer = (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (socket.destroyed) return;
    const key = String(req.headers['sec-websocket-key']);
    const protocol = req.headers['sec-websocket-protocol']?.split(',')[0]?.trim();
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n` +
        (protocol === undefined ? '' : `Sec-WebSocket-Protocol: ${protocol}\r\n`) +
        'X-Upstream: ws\r\nKeep-Alive: timeout=5\r\n\r\n',
    );
    if (!sockets.includes(socket)) sockets.push(socket);
    const reader = new FrameReader();
    const onData = (d: Buffer) => {
      for (const m of reader.push(d)) socket.write(textFrame(`echo: ${m}`, false));
    };
    if (head.length > 0) onData(head);
    socket.on('data', onData);
    socket.on('end', () => socket.end());
  };
  const { port, close } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    handshakes,
    plain,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return close();
    },
  };
}

/** The client side of a handshake: the parsed answer head, then the socket for frames. */
export interface WsClient {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** What followed the answer head (a body, or the first frames). */
  readonly rest: Buffer;
  readonly socket: Socket;
  readonly key: string;
  /** Frames received after the head, as text. */
  readonly reader: FrameReader;
  /** Resolves with the next `n` messages. */
  next(n?: number): Promise<string[]>;
  /** Resolves when the socket is closed; the bytes received after the head. */
  closed: Promise<Buffer>;
}

/**
 * Open `path` on `port` with a WebSocket handshake (`headers` added or overriding);
 * `after` is written in the same packet as the handshake.
 */
export function openWs(port: number, path: string, headers: Record<string, string> = {}, after: Buffer = Buffer.alloc(0), tls: ConnectionOptions | null = null): Promise<WsClient> {
  const key = randomBytes(16).toString('base64');
  const fields: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': key,
    'sec-websocket-version': '13',
    ...headers,
  };
  let head = `GET ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(fields)) head += `${k}: ${v}\r\n`;
  return new Promise((resolve, reject) => {
    const send = () => socket.write(Buffer.concat([Buffer.from(`${head}\r\n`), after]));
    // `tls`: wss, over the gateway's TLS listener.
    const socket: Socket = tls === null ? connect(port, '127.0.0.1', send) : tlsConnect({ port, host: '127.0.0.1', ...tls }, send);
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    let all = Buffer.alloc(0);
    let done = false;
    const reader = new FrameReader();
    const waiters: (() => void)[] = [];
    const closed = new Promise<Buffer>((r) => socket.on('close', () => r(all)));
    const onData = (d: Buffer) => {
      if (done) {
        all = Buffer.concat([all, d]);
        reader.push(d);
        for (const w of waiters.splice(0)) w();
        return;
      }
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      done = true;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0]!.split(' ')[1]);
      const parsed: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const c = line.indexOf(':');
        const name = line.slice(0, c).trim().toLowerCase();
        parsed[name] = parsed[name] === undefined ? line.slice(c + 1).trim() : `${parsed[name]}, ${line.slice(c + 1).trim()}`;
      }
      const rest = buf.subarray(end + 4);
      all = Buffer.from(rest);
      if (status === 101) reader.push(rest);
      resolve({
        status,
        headers: parsed,
        rest,
        socket,
        key,
        reader,
        closed,
        next: (n = 1) =>
          new Promise<string[]>((r, j) => {
            const timer = setTimeout(() => j(new Error(`no ${n} message(s) within 5 s; have ${JSON.stringify(reader.messages)}`)), 5_000);
            const check = () => {
              if (reader.messages.length >= n) {
                clearTimeout(timer);
                r(reader.messages.splice(0, n));
              } else waiters.push(check);
            };
            check();
          }),
      });
    };
    socket.on('data', onData);
    socket.on('close', () => {
      if (!done) reject(new Error(`connection closed before an answer: ${JSON.stringify(buf.toString())}`));
    });
    socket.setTimeout(10_000, () => socket.destroy());
  });
}
