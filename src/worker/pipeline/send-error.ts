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
  const headers: Record<string, string> = {};
  if (via !== null) headers['via'] = via;
  if (err instanceof MethodNotAllowedError) headers['allow'] = err.allow.join(', ');
  if (extra !== null) Object.assign(headers, extra);
  return sendJson(res, err.status, { error: { code: err.code, message: err.message, requestId } }, requestId, headers);
}

/** Write a small JSON document (health endpoints, errors); returns body bytes (0 for HEAD). */
export function sendJson(
  res: ServerResponse,
  status: number,
  doc: unknown,
  requestId: string,
  extra: Record<string, string> | null = null,
): number {
  const body = JSON.stringify(doc);
  const length = Buffer.byteLength(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': length,
    'cache-control': 'no-store',
    'x-request-id': requestId,
    ...extra,
  });
  const head = res.req?.method === 'HEAD';
  res.end(head ? undefined : body);
  return head ? 0 : length;
}
