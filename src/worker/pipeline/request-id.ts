/**
 * Request ids: an incoming `X-Request-Id` is kept only when it is short and made of safe
 * characters (it ends up in logs and upstream headers, so anything else could forge log
 * lines or smuggle header content); otherwise the gateway generates a UUID.
 */
import { randomUUID } from 'node:crypto';

const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id to use for a request carrying `incoming` (a header value or undefined). */
export function requestIdFor(incoming: string | string[] | undefined): string {
  if (typeof incoming === 'string' && WELL_FORMED.test(incoming)) return incoming;
  return randomUUID();
}
