/**
 * Whether a request still has body bytes on the socket that nobody will read. An answer
 * given without reading them closes the connection instead of draining an upload the
 * gateway refused. `req.complete` alone cannot tell: in the request handler it is false
 * even for a request without a body (Node marks it complete after the handler returns).
 */
import type { IncomingMessage } from 'node:http';

/** True when `req` declared a body (chunked, or a non-zero length) that has not been read to its end. */
export function hasUnreadBody(req: IncomingMessage): boolean {
  return !req.complete && declaresBody(req);
}

/** True when `req` declared a body: chunked, or a non-zero length. */
export function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

// Node's own test for 'checkContinue' (a repeated `Expect: 100-continue` arrives joined).
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/** True when the client waits for `100 Continue` before sending its body (RFC 9110 §10.1.1). */
export function expectsContinue(req: IncomingMessage): boolean {
  const expect = req.headers.expect;
  // An HTTP/1.0 client knows no 1xx (RFC 9110 §15.2: a server must not send it one).
  return expect !== undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1 && CONTINUE.test(expect);
}
