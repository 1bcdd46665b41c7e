/**
 * The one shape of every error the gateway itself answers:
 * `{ "error": { "code", "message", "requestId" } }`, with the status of the error class.
 */
import type { ServerResponse } from 'node:http';
import { GatewayError, MethodNotAllowedError } from '../../common/index.js';

/** Write `err` as the JSON error body (the response must not have started); returns body bytes. */
export function sendError(
  res: ServerResponse,
  err: GatewayError,
  requestId: string,
  via: string | null = null,
  extra: Record<string, string> | null = null,
): number {
  const body = JSON.stringify({ error: { code: err.code, message: err.message, requestId } });
  const length = Buffer.byteLength(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': length,
    'cache-control': 'no-store',
    'x-request-id': requestId,
  };
  if (via !== null) headers['via'] = via;
  if (err instanceof MethodNotAllowedError) headers['allow'] = err.allow.join(', ');
  if (extra !== null) Object.assign(headers, extra);
  res.writeHead(err.status, headers);
  const head = res.req?.method === 'HEAD';
  res.end(head ? undefined : body);
  return head ? 0 : length;
}

/** Write a small JSON document (health endpoints); returns body bytes. */
export function sendJson(res: ServerResponse, status: number, doc: unknown, requestId: string): number {
  const body = JSON.stringify(doc);
  const length = Buffer.byteLength(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': length,
    'cache-control': 'no-store',
    'x-request-id': requestId,
  });
  const head = res.req?.method === 'HEAD';
  res.end(head ? undefined : body);
  return head ? 0 : length;
}
