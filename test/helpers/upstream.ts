/**
 * A real local HTTP upstream for tests, with a per-test handler and a log of what it
 * received, so tests assert on the wire rather than on mocks.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './net.js';

/** What the upstream saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: string[];
}

/** A running test upstream. */
export interface TestUpstream {
  readonly url: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  readonly server: Server;
  close(): Promise<void>;
}

/** Start an upstream on 127.0.0.1 answering with `handler` (default: JSON echo). */
export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void = echo,
): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders });
    handler(req, res);
  });
  const { port, close } = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}`, port, seen, server, close };
}

/** Default handler: echo method, url, headers and body size as JSON. */
export function echo(req: IncomingMessage, res: ServerResponse): void {
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bodyBytes: bytes });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}
