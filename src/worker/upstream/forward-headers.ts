/**
 * Header rewriting between client and upstream (RFC 9110 §7.6).
 *
 * Hop-by-hop fields, and every field the `Connection` header names, describe one
 * connection and are never forwarded in either direction. The gateway then appends
 * itself to `Via` and sets X-Forwarded-For/-Proto/-Host: extended when the peer is a
 * trusted proxy, replaced otherwise, so an untrusted client cannot inject a fake origin.
 * Other forwarding fields (client-IP headers, other `X-Forwarded-*`, underscore
 * spellings) pass only from trusted proxies.
 * Headers travel as flat `[name, value, ...]` arrays so duplicates and order survive.
 */
import { unmapIPv4 } from '../../common/index.js';
import { CLIENT_IP_HEADERS, FORWARDING_HEADERS, HOP_BY_HOP_HEADERS, cgiName } from '../../ipc/index.js';
import { NameKind, type HeaderNames } from './header-names.js';

const HOP_BY_HOP = HOP_BY_HOP_HEADERS;
const FORWARDING = FORWARDING_HEADERS;
const CLIENT_IP = CLIENT_IP_HEADERS;

/** What the gateway knows about the client connection. */
export interface ForwardContext {
  /** Peer address of the TCP connection. */
  readonly remoteAddress: string;
  /** Whether that peer is a trusted proxy. */
  readonly trusted: boolean;
  /** `https` on the gateway's own TLS listener, else `http`. */
  readonly proto: string;
  /**
   * On a mutual-TLS connection (`server.tls.clientAuth`): the `X-Forwarded-Client-Cert`
   * of its verified certificate, or null (none). The request's own XFCC is then dropped
   * even from a trusted proxy (Envoy's SANITIZE): the gateway is where the client proved
   * who it is. Undefined elsewhere: XFCC passes from trusted proxies only.
   */
  readonly clientCert?: string | null;
  readonly requestId: string;
  /** `1.1 <viaName>`. */
  readonly via: string;
  /** Host to send upstream, or null to let the pool use the instance's authority. */
  readonly upstreamHost: string | null;
}

/**
 * Add the lower-cased field names a `Connection` value lists to `named` (created on
 * the first one). Names that are hop-by-hop anyway are left out: `Connection:
 * keep-alive`, which most clients and upstreams send, then costs no set and no second
 * pass over the headers.
 */
function addConnectionNamed(value: string, named: Set<string> | null): Set<string> | null {
  if (value.length === 10 && value.toLowerCase() === 'keep-alive') return named;
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t !== '' && !HOP_BY_HOP.has(t)) (named ??= new Set()).add(t);
  }
  return named;
}

/** Lower-cased names listed in `Connection` headers (hop-by-hop ones aside), or null when there are none. */
function connectionNamed(raw: readonly string[]): Set<string> | null {
  let named: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') named = addConnectionNamed(raw[i + 1]!, named);
  }
  return named;
}

/**
 * Whether `lower` says something about the forwarding chain that only a trusted proxy may
 * say, beyond the fields the gateway writes itself: any other `X-Forwarded-*`
 * (`-Port`, `-Prefix`, `-Server`: frameworks build redirect URLs from them), and the
 * underscore spelling of any forwarding or client-IP field, which CGI-style upstreams
 * (PHP, WSGI) read as the real one (`X_Forwarded_For` → `HTTP_X_FORWARDED_FOR`).
 */
function spoofable(lower: string): boolean {
  if (lower.includes('_')) {
    const name = cgiName(lower);
    return FORWARDING.has(name) || CLIENT_IP.has(name) || name.startsWith('x-forwarded');
  }
  return lower.charCodeAt(0) === 0x78 /* x */ && lower.startsWith('x-forwarded') && !FORWARDING.has(lower);
}

/** `x-forwarded-client-cert` in either spelling (`_` for `-`, as CGI-style upstreams read it). */
function isClientCertName(lower: string): boolean {
  return lower.length === 23 && cgiName(lower) === 'x-forwarded-client-cert';
}

/** Build the upstream request headers from the client's raw headers. */
export function upstreamRequestHeaders(raw: readonly string[], ctx: ForwardContext): string[] {
  const named = connectionNamed(raw);
  const out: string[] = [];
  let xff: string | null = null;
  let xfProto: string | null = null;
  let xfHost: string | null = null;
  let host = '';
  let via: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower))) continue;
    if (CLIENT_IP.has(lower) || spoofable(lower)) {
      if (ctx.trusted && (ctx.clientCert === undefined || !isClientCertName(lower))) out.push(name, raw[i + 1]!);
      continue;
    }
    if (!FORWARDING.has(lower)) {
      out.push(name, raw[i + 1]!);
      continue;
    }
    const value = raw[i + 1]!;
    if (lower === 'host') host = value;
    else if (lower === 'via') via = via === null ? value : `${via}, ${value}`;
    else if (ctx.trusted) {
      if (lower === 'x-forwarded-for') xff = xff === null ? value : `${xff}, ${value}`;
      else if (lower === 'x-forwarded-proto') xfProto ??= value;
      else if (lower === 'x-forwarded-host') xfHost ??= value;
      else if (lower === 'forwarded') out.push(name, value);
    }
  }
  const client = unmapIPv4(ctx.remoteAddress);
  out.push(
    'x-forwarded-for', xff === null ? client : `${xff}, ${client}`,
    'x-forwarded-proto', xfProto ?? ctx.proto,
    'x-forwarded-host', xfHost ?? host,
    'via', via === null ? ctx.via : `${via}, ${ctx.via}`,
    'x-request-id', ctx.requestId,
  );
  if (ctx.upstreamHost !== null) out.push('host', ctx.upstreamHost);
  if (ctx.clientCert != null) out.push('x-forwarded-client-cert', ctx.clientCert);
  return out;
}

/** A route's response header policy (worker/policies/response-header-policy.ts). */
export interface ResponseHeaderHook {
  /** Lower-cased upstream header names to drop, or null. */
  readonly hidden: ReadonlySet<string> | null;
  /** Append the gateway's headers to the filtered flat list (may edit `Vary`). */
  finish(out: string[]): void;
}

/**
 * Build the client response headers from the upstream's raw (latin1 Buffer) headers,
 * dropping hop-by-hop fields and the upstream's own request id echo; `hook` applies the
 * route's security/CORS header policy.
 *
 * Null when the response cannot be relayed: a transfer coding other than `chunked`
 * (`gzip, chunked`). undici removes only the chunked framing, and Node re-frames the
 * body for the client, so the other coding would be lost and the client would read
 * compressed bytes as the body (nginx answers such a response with a 502 too).
 */
export function clientResponseHeaders(
  raw: readonly Buffer[],
  requestId: string,
  via: string,
  hook: ResponseHeaderHook | null,
  names: HeaderNames,
  /** No body follows (HEAD, 204, 304): any coding is only what a GET would have had. */
  bodiless = false,
): string[] | null {
  const hidden = hook === null ? null : hook.hidden;
  const out: string[] = [];
  let named: Set<string> | null = null;
  let upstreamVia: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const h = names.of(raw[i]!);
    const kind = h.kind;
    if (kind === NameKind.Drop) continue;
    if (kind === NameKind.Connection) {
      named = addConnectionNamed(raw[i + 1]!.toString('latin1'), named);
      continue;
    }
    if (kind === NameKind.TransferEncoding) {
      if (!bodiless && !isChunked(raw[i + 1]!)) return null;
      continue;
    }
    if (hidden !== null && hidden.has(h.lower)) continue;
    // Decoded only for fields that are kept.
    const value = raw[i + 1]!.toString('latin1');
    if (kind === NameKind.Via) upstreamVia = upstreamVia === null ? value : `${upstreamVia}, ${value}`;
    else out.push(h.name, value);
  }
  // Rare: drop the fields `Connection` named (a second pass only when it named any),
  // the upstream's Via included.
  if (named !== null) {
    dropFields(out, (lower) => named!.has(lower));
    if (named.has('via')) upstreamVia = null;
  }
  out.push('via', upstreamVia === null ? via : `${upstreamVia}, ${via}`, 'x-request-id', requestId);
  if (hook !== null) hook.finish(out);
  return out;
}

/** Whether a Transfer-Encoding value is exactly `chunked` (any case, optional whitespace around it). */
function isChunked(value: Buffer): boolean {
  return value.toString('latin1').trim().toLowerCase() === 'chunked';
}

/** Remove, in place, every field of a flat `[name, value, ...]` list whose lower-cased name `drop` picks. */
export function dropFields(flat: string[], drop: (lower: string) => boolean): void {
  for (let i = flat.length - 2; i >= 0; i -= 2) if (drop(flat[i]!.toLowerCase())) flat.splice(i, 2);
}
