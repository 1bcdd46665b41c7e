/**
 * The worker's node:http listener: timeouts and limits from the snapshot, malformed
 * requests answered by the JSON error body, and a drain that stops accepting while
 * in-flight requests finish.
 *
 * Drain uses `net.Server#close` rather than `http.Server#close`: since Node 19 the latter
 * also closes idle keep-alive sockets, and a client that sent a request on one of them a
 * moment earlier gets a reset it cannot tell from a failure. Instead every later response
 * carries `Connection: close` and idle sockets expire through the keep-alive timeout.
 */
import { createServer, ServerResponse, type IncomingMessage, type Server, type ServerOptions } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import net, { type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { randomUUID } from 'node:crypto';
import { DEFAULT_METHODS, type ServerConfig } from '../ipc/index.js';
import type { ConnectionMetrics, Logger } from '../telemetry/index.js';
import { ExpectationFailedError } from '../common/index.js';
import { sendError, TrustedProxies, type GatewayHandler } from './pipeline/index.js';
import { ConnectionLimiter } from './connection-limiter.js';
import { TlsContexts } from './tls-contexts.js';
import { connectionIsTls, requestIsHttps } from './policies/index.js';
import { HandshakeWait, responseInProgress } from './upstream/index.js';

// Errors the HTTP parser reports before a request object exists, by status.
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'GW_HEADERS_TOO_LARGE', 'request headers too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'GW_REQUEST_TIMEOUT', 'request not received in time'],
};

/** How long a drain that cut connections waits for the cut exchanges to be logged. */
const CUT_LOG_WAIT_MS = 1_000;

/**
 * A listening worker server with drain support: one listener on `server.port` (TLS when
 * `server.tls` is set), and with `server.tls.httpPort` a plain-HTTP one beside it. Both
 * serve the same pipeline (which redirects plain requests on `httpsRedirect` routes),
 * share the connection limit and drain together.
 */
export class WorkerServer {
  /** The main listener: TLS when configured. */
  readonly #server: Server | TlsServer;
  /** The plain-HTTP listener beside a TLS one (`server.tls.httpPort`), or null. */
  readonly #plain: Server | null = null;
  /** The snapshot's session ticket keys (TLS only). */
  readonly #ticketKeys: Buffer | null = null;
  readonly #sockets = new Set<Socket>();
  /** Sockets handed back to the HTTP server after an Upgrade it will not tunnel (see #replay). */
  readonly #replayed = new WeakSet<Socket>();
  /** Sockets whose malformed request body the handler is answering (400). */
  readonly #bodyRefused = new WeakSet<Socket>();
  readonly #handler: GatewayHandler;
  readonly #logger: Logger;
  readonly #limiter: ConnectionLimiter;
  /** `#rawHeaders()` of the table whose error headers are `#rawFor`. */
  #rawFor: Readonly<Record<string, string>> | null = null;
  #rawLines = '';
  #draining = false;

  readonly #config: ServerConfig;
  readonly #connectionMetrics: ConnectionMetrics | null;
  readonly #trusted: TrustedProxies;

  constructor(config: ServerConfig, handler: GatewayHandler, logger: Logger, connectionMetrics: ConnectionMetrics | null = null) {
    this.#handler = handler;
    this.#logger = logger;
    this.#config = config;
    this.#connectionMetrics = connectionMetrics;
    const trusted = new TrustedProxies(config.trustedProxies);
    this.#trusted = trusted;
    this.#limiter = new ConnectionLimiter(config.limits.maxConnectionsPerIp ?? 0, (address) => trusted.has(address));
    const options: ServerOptions = {
      maxHeaderSize: config.limits.maxHeaderBytes,
      // Counted from the TLS handshake's end on a TLS listener (which has its own deadline).
      headersTimeout: config.timeouts.headersMs,
      requestTimeout: config.timeouts.requestMs,
      keepAliveTimeout: config.timeouts.keepAliveMs,
      // Node checks the header/request deadlines on this interval (default 30 s), so
      // a slow client would otherwise hold its socket up to 30 s past the deadline.
      connectionsCheckingInterval: Math.min(1_000, config.timeouts.headersMs),
      // The gateway checks Host itself (pipeline/request-guard.ts) to answer with the JSON error body.
      requireHostHeader: false,
    };
    const serve = (req: IncomingMessage, res: ServerResponse) => handler.handle(req, res);
    if (config.tls === undefined || config.tls === null) {
      this.#server = createServer(options, serve);
    } else {
      const contexts = new TlsContexts(config.tls);
      this.#ticketKeys = contexts.ticketKeys;
      this.#server = createTlsServer({ ...options, ...contexts.serverOptions() }, serve);
      if (config.tls.httpPort !== null) this.#plain = createServer(options, serve);
      // Client certificates are verified by OpenSSL and judged here (Node would drop a
      // refused one without a word): `require` closes a connection without a certificate
      // from clientAuth.caFile, `optional` one whose certificate is not from there. First
      // in line: the HTTP layer's own listener may already parse a request that came with
      // the handshake's last flight (TLS 1.3), and hand it to the pipeline.
      const clientAuth = config.tls.clientAuth;
      if (clientAuth !== null) {
        this.#server.prependListener('secureConnection', (socket: TLSSocket) => {
          if (socket.authorized) return;
          const presented = socket.getPeerX509Certificate() !== undefined;
          if (!presented && clientAuth.mode === 'optional') return;
          connectionMetrics?.rejected('tls_handshake');
          this.#logger.debug(
            { reason: presented ? socket.authorizationError : 'no client certificate', remote: socket.remoteAddress },
            'client certificate refused (server.tls.clientAuth): connection closed',
          );
          socket.destroy();
        });
      }
      // A failed or timed-out handshake, plain HTTP sent to the TLS port, a client that
      // refused the certificate. First in line: https.Server passes the error on to
      // 'clientError', whose HTTP answer has no TLS session to travel in (a socket left
      // open that way would outlive the handshake deadline), so the socket goes now.
      this.#server.prependListener('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
        // A peer that left (a load balancer's TCP probe, a client giving up) or that the
        // per-IP limit closed is not a failed handshake: counting it would drown the alerts.
        if (err.code !== 'ECONNRESET') connectionMetrics?.rejected('tls_handshake');
        this.#logger.debug({ err: err.message, code: err.code, remote: socket.remoteAddress }, 'TLS handshake failed');
        socket.destroy();
      });
    }
    this.#wire(this.#server);
    if (this.#plain !== null) this.#wire(this.#plain);
  }

  /** The listeners' shared behaviour: limits, parser errors, expectations, Upgrade, CONNECT. */
  #wire(server: Server | TlsServer): void {
    const handler = this.#handler;
    const connectionMetrics = this.#connectionMetrics;
    const trusted = this.#trusted;
    // Node would keep only the first ~1 000 header lines while llhttp frames the body by all
    // of them (see #upgrade); `maxHeaderBytes` bounds the count, the pipeline refuses more
    // than `limits.maxHeaderCount`.
    server.maxHeadersCount = 0;
    // On a TLS listener this is the TCP connection, before its handshake: admitted or
    // refused before any TLS work, and tracked until it closes (its TLS socket with it).
    server.on('connection', (socket: Socket) => {
      // Already admitted and tracked: this is the same connection, parsed again.
      if (this.#replayed.has(socket)) return;
      if (!this.#limiter.admit(socket)) {
        connectionMetrics?.rejected('per_ip_limit');
        this.#logger.debug({ remote: socket.remoteAddress }, 'connection over the per-IP limit closed');
        socket.destroy();
        return;
      }
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.#clientError(err, socket));
    // `Expect: 100-continue`: Node would answer 100 before the gateway has looked at the
    // request. The handler sends it only once the request is going upstream, so a request
    // refused from its headers (404, 405, 413, 401, 429...) never has its body sent.
    server.on('checkContinue', (req, res) => handler.handle(req, res));
    // Node answers other expectations with a bare 417 and keeps reading; the body was
    // never asked for, so answer with the JSON error and close instead.
    server.on('checkExpectation', (req, res) => {
      res.shouldKeepAlive = false;
      const requestId = randomUUID();
      const err = new ExpectationFailedError();
      const bytes = sendError(res, err, requestId, null, this.#handler.table.errorHeadersFor(req, (r) => requestIsHttps(r, trusted)));
      this.#handler.parserRefused(req.socket, requestId, err.status, err.code, `Expect: ${String(req.headers.expect)}`, bytes, req);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, early: Buffer) => this.#upgrade(req, socket, early));
    // CONNECT never reaches the request handler: Node emits it here, and without a
    // listener just drops the socket. Tunnels are not proxied: 405, then close.
    const allow = (this.#config.methods ?? DEFAULT_METHODS).join(', ');
    server.on('connect', (req: IncomingMessage, socket: Socket) => {
      // Behind an answer still being written (pipelining), raw bytes would land inside it.
      if (!socket.writable || responseInProgress(socket) !== null) return void socket.destroy();
      const requestId = randomUUID();
      const bytes = writeRawError(socket, requestId, 405, 'Method Not Allowed', 'GW_METHOD_NOT_ALLOWED', 'CONNECT is not supported', `allow: ${allow}\r\n${this.#rawHeaders()}`);
      this.#handler.parserRefused(socket, requestId, 405, 'GW_METHOD_NOT_ALLOWED', 'CONNECT', bytes, req);
    });
  }

  /**
   * An Upgrade request: Node hands over the socket, no longer parsed, with `early` the
   * bytes that followed the request head. A WebSocket handshake for a route that allows
   * it goes through the pipeline on a response that closes the socket unless the
   * upstream answers 101 (see UpstreamCall.upgraded). Any other is replayed: served as a
   * plain request without its `Upgrade`, as if Node had never seen one.
   */
  #upgrade(req: IncomingMessage, socket: Socket, early: Buffer): void {
    // Node took its listeners off the socket; one must be on it before anything can fail
    // (only one: a replayed keep-alive connection comes back here with each Upgrade it
    // sends; a replayed head itself has no `Upgrade`, so it never loops).
    if (socket.listenerCount('error') === 0) {
      socket.on('error', (err) => this.#logger.debug({ err: err.message, remote: socket.remoteAddress }, 'upgrade connection error'));
    }
    this.#upgradeInTurn(req, socket, early);
  }

  #upgradeInTurn(req: IncomingMessage, socket: Socket, early: Buffer): void {
    // Behind answers still being written (pipelining): nothing more is parsed from this
    // socket meanwhile, so this request waits its turn, as it would without the Upgrade.
    const busy = responseInProgress(socket);
    if (busy !== null) {
      busy.once('finish', () => this.#upgradeInTurn(req, socket, early));
      return;
    }
    if (!socket.writable || socket.destroyed) return void socket.destroy();
    // A head rebuilt from a cut header list could lose its Content-Length, and the body
    // would be parsed as a request. Node's own cut is off (maxHeadersCount 0, above), and
    // what the pipeline would refuse for its count is refused here, before any replay.
    const limit = this.#handler.table.snapshot.server.limits.maxHeaderCount;
    if (req.rawHeaders.length > limit * 2) {
      const requestId = randomUUID();
      const bytes = writeRawError(socket, requestId, 431, 'Request Header Fields Too Large', 'GW_HEADERS_TOO_LARGE', `more than ${limit} request headers`, this.#rawHeaders());
      this.#handler.parserRefused(socket, requestId, 431, 'GW_HEADERS_TOO_LARGE', 'Upgrade request over the header count limit', bytes, req);
      return;
    }
    if (!this.#handler.wantsTunnel(req)) return this.#replay(req, socket, early);
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    // An answer other than 101 (a refusal, the upstream's own) ends the connection.
    res.on('finish', () => {
      res.detachSocket(socket);
      socket.destroySoon();
    });
    this.#handler.tunnel(req, res, new HandshakeWait(socket, early));
  }

  /**
   * Parse `req` again as a plain request: its head rebuilt without `Upgrade` (the same
   * bytes otherwise: Node decodes header octets as latin1), then the bytes that followed,
   * handed back to the HTTP server as the same connection. Its body, keep-alive and
   * limits then work as for any request.
   */
  #replay(req: IncomingMessage, socket: Socket, early: Buffer): void {
    let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.length !== 7 || raw[i]!.toLowerCase() !== 'upgrade') head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    const bytes = Buffer.from(`${head}\r\n`, 'latin1');
    this.#replayed.add(socket);
    socket.unshift(early.length === 0 ? bytes : Buffer.concat([bytes, early]));
    // The HTTP layer takes a TLS connection once its handshake is done ('secureConnection').
    if (connectionIsTls(req)) this.#server.emit('secureConnection', socket);
    else (this.#plain ?? this.#server).emit('connection', socket);
  }

  /** Listen on `host:port`, and on `server.tls.httpPort` too when set (shared through the cluster primary). */
  async listen(host: string, port: number): Promise<void> {
    await listenOn(this.#server, host, port, () => this.#draining);
    // In a cluster worker, listen() hands the server the TLS state of the first worker that
    // ever opened this port (the primary keeps it while any worker listens, through every
    // rolling reload): the snapshot's ticket keys go back on, or they would never rotate.
    if (this.#ticketKeys !== null) (this.#server as TlsServer).setTicketKeys(this.#ticketKeys);
    if (this.#plain !== null) await listenOn(this.#plain, host, this.#config.tls!.httpPort!, () => this.#draining);
  }

  /** The bound port (useful when listening on port 0). */
  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Open client connections (for tests and logs). */
  get connections(): number {
    return this.#sockets.size;
  }

  /**
   * Stop accepting, let in-flight requests finish; after `timeoutMs` destroy what is
   * left. Resolves true when everything finished in time.
   */
  drain(timeoutMs: number): Promise<boolean> {
    this.#handler.startDraining();
    this.#draining = true;
    // Not listening yet (the primary's handle is still on its way): closing now would
    // make Node's cluster code throw when the handle arrives; the listen callback closes.
    for (const server of [this.#server, this.#plain]) if (server?.listening === true) net.Server.prototype.close.call(server);
    return new Promise((resolve) => {
      const check = setInterval(() => {
        if (this.#sockets.size === 0) finish(true);
      }, 50);
      const deadline = setTimeout(() => {
        clearInterval(check);
        for (const s of this.#sockets) s.destroy();
        // What was cut is logged as it closes (a tunnel once its upstream side has closed
        // too): give those lines a moment before the worker exits.
        const cutAt = Date.now();
        const settle = setInterval(() => {
          if (this.#handler.inFlight <= 0 || Date.now() - cutAt >= CUT_LOG_WAIT_MS) (clearInterval(settle), finish(false));
        }, 5);
      }, timeoutMs);
      const finish = (clean: boolean) => {
        clearInterval(check);
        clearTimeout(deadline);
        resolve(clean);
      };
    });
  }

  #clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    // A failed TLS handshake, already handled (see the constructor).
    if (socket.destroyed) return;
    // A TLS error after the handshake (a bad record): the session is dead, so is any answer.
    if (err.code?.startsWith('ERR_SSL_') === true) {
      this.#logger.debug({ err: err.message, code: err.code, remote: socket.remoteAddress }, 'TLS error');
      socket.destroy();
      return;
    }
    const [status, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'GW_BAD_REQUEST', 'malformed HTTP request'];
    this.#logger.debug({ err: err.message, parserCode: err.code, remote: socket.remoteAddress }, 'client error');
    // A response may be in progress on this socket (pipelining, a slow upload past its
    // deadline): raw bytes written now would corrupt it, so the connection is just cut.
    const inProgress = responseInProgress(socket);
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // The request whose body llhttp is reading, if the error is inside a body.
    const parsing = (socket as Socket & { parser?: { incoming?: IncomingMessage | null } | null }).parser?.incoming;
    const framing = err.code?.startsWith('HPE_') === true;
    if (inProgress !== null) {
      // llhttp stays failed and reports again on every later read: the first report decided
      // (a deadline passing meanwhile still cuts).
      if (framing && this.#bodyRefused.has(socket)) return;
      // The error is in the body of the request being answered (not in one pipelined
      // behind it) and its answer has not begun: the handler answers 400, then closes.
      // Only llhttp's own complaints (HPE_*): a request timeout mid-upload must still cut.
      if (framing && parsing === inProgress.req && !inProgress.req.complete && this.#handler.bodyMalformed(inProgress, err.code!)) {
        this.#bodyRefused.add(socket);
        return;
      }
      socket.destroy();
      return;
    }
    // Inside the body of a request that was already answered (an upstream that answered
    // before the upload ended): one answer per request, so the connection is just cut.
    if (parsing !== null && parsing !== undefined && !parsing.complete) {
      socket.destroy();
      return;
    }
    // A connection that never sent a byte is a browser's pre-connect or a load balancer's
    // probe, not a slow request: close it quietly (a 408 there can surface in the browser
    // as the answer to the page it opens next; HAProxy's http-ignore-probes, nginx).
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead === 0) {
      socket.destroy();
      return;
    }
    const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    const requestId = randomUUID();
    const bytes = writeRawError(socket, requestId, status, reason, code, message, this.#rawHeaders());
    this.#handler.parserRefused(socket, requestId, status, code, err.code === undefined ? err.message : `${err.code}: ${err.message}`, bytes);
  }

  /**
   * The server's security headers (nosniff, framing, CSP, referrer policy) as header
   * lines, for the answers written before any request object exists: the same defaults
   * the gateway's other errors carry. HSTS is left out: without a parsed request
   * nothing says the client came over HTTPS.
   */
  #rawHeaders(): string {
    const headers = this.#handler.table.errorHeaders;
    if (headers !== this.#rawFor) {
      let lines = '';
      // Config-checked values; a line break would end the header block, so never write one.
      for (const name in headers) if (!/[\r\n]/.test(headers[name]!)) lines += `${name}: ${headers[name]}\r\n`;
      this.#rawFor = headers;
      this.#rawLines = lines;
    }
    return this.#rawLines;
  }
}

/** Listen `server` on `host:port`; `draining()` says a drain began while the handle was on its way. */
function listenOn(server: net.Server, host: string, port: number, draining: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      // A drain began while the handle was on its way: stop accepting now.
      if (draining()) net.Server.prototype.close.call(server);
      resolve();
    });
  });
}

/** Write the JSON error body straight to a socket no response object owns, then close it; returns the body's bytes. */
function writeRawError(socket: Socket, requestId: string, status: number, reason: string, code: string, message: string, extra = ''): number {
  const body = JSON.stringify({ error: { code, message, requestId } });
  const bytes = Buffer.byteLength(body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${bytes}\r\n` +
      `${extra}x-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
  );
  return bytes;
}
