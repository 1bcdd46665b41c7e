/**
 * Trace-context propagation: reading the caller's span context from request headers and
 * writing the gateway's onto upstream requests.
 *
 * Accepted, in this order of preference:
 *   1. W3C Trace Context (`traceparent`, `tracestate`), https://www.w3.org/TR/trace-context/:
 *      `version-traceid-parentid-flags`, lower-case hex, version `ff` forbidden, all-zero
 *      ids invalid; version 00 is exactly 55 characters, a later version may append
 *      `-...` fields, which are ignored (§4.3: parse what version 00 defines).
 *      `tracestate` is kept only next to a valid `traceparent`, and only when it is a
 *      well-formed list of at most 32 members and 512 characters; otherwise it is dropped.
 *   2. Jaeger's `uber-trace-id` (older clients): `traceid:spanid:parentid:flags`, hex ids
 *      of up to 32 / 16 digits (shorter ones are zero-padded on the left), flags bit 1 =
 *      sampled, bit 2 = debug (treated as sampled). Clients may URL-encode it (`%3A`).
 * Anything malformed is ignored: the request starts a new trace. It is never an error,
 * because a caller's broken tracing must not break its requests.
 */
import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const HEX2 = /^[0-9a-f]{2}$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);
// One tracestate list member: a simple or multi-tenant key, `=`, a printable value.
const TRACESTATE_MEMBER = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const UBER_ID = /^[0-9a-f]{1,32}$/i;
const UBER_SPAN = /^[0-9a-f]{1,16}$/i;
const UBER_FLAGS = /^[0-9a-f]{1,2}$/i;

/** Parse a `traceparent` value; null when it is missing or invalid. */
export function parseTraceparent(value: string | undefined): SpanContext | null {
  if (value === undefined || value.length < 55) return null;
  const v = value.trim();
  if (v.length < 55 || (v.length > 55 && v.charCodeAt(55) !== 0x2d /* - */)) return null;
  const version = v.slice(0, 2);
  if (!HEX2.test(version) || version === 'ff') return null;
  if (version === '00' && v.length !== 55) return null;
  if (v[2] !== '-' || v[35] !== '-' || v[52] !== '-') return null;
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!HEX32.test(traceId) || traceId === ZERO32 || !HEX16.test(spanId) || spanId === ZERO16 || !HEX2.test(flags)) return null;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
}

/** Parse a `tracestate` value; null when it is missing, empty or malformed. */
export function parseTracestate(value: string | string[] | undefined): TraceState | null {
  if (value === undefined) return null;
  // Several tracestate fields form one list (RFC 9110 §5.3).
  const joined = Array.isArray(value) ? value.join(',') : value;
  if (joined.length === 0 || joined.length > 512) return null;
  let members = 0;
  for (const raw of joined.split(',')) {
    const m = raw.trim();
    if (m === '') continue; // empty list members are allowed and skipped
    if (!TRACESTATE_MEMBER.test(m) || ++members > 32) return null;
  }
  return members === 0 ? null : new TraceState(joined);
}

/** Parse a Jaeger `uber-trace-id` value; null when it is missing or invalid. */
export function parseUberTraceId(value: string | undefined): SpanContext | null {
  if (value === undefined || value.length === 0 || value.length > 200) return null;
  let v = value.trim();
  if (v.includes('%')) {
    try {
      v = decodeURIComponent(v);
    } catch {
      return null;
    }
  }
  const parts = v.split(':');
  if (parts.length !== 4) return null;
  const [trace, span, parent, flags] = parts as [string, string, string, string];
  if (!UBER_ID.test(trace) || !UBER_SPAN.test(span) || !UBER_SPAN.test(parent) || !UBER_FLAGS.test(flags)) return null;
  const traceId = trace.toLowerCase().padStart(32, '0');
  const spanId = span.toLowerCase().padStart(16, '0');
  if (traceId === ZERO32 || spanId === ZERO16) return null;
  const f = parseInt(flags, 16);
  // 0x1 sampled, 0x2 debug (which Jaeger clients always sample).
  const sampled = (f & 0x3) !== 0;
  return { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true };
}

/** Header values as node:http gives them. */
export type IncomingTraceHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** The caller's span context from W3C headers, else Jaeger's; null starts a new trace. */
export function extractParent(headers: IncomingTraceHeaders): SpanContext | null {
  const tp = headers['traceparent'];
  // Two traceparent fields are ambiguous: W3C says to ignore the header then.
  const w3c = typeof tp === 'string' ? parseTraceparent(tp) : null;
  if (w3c !== null) {
    const state = parseTracestate(headers['tracestate']);
    return state === null ? w3c : { ...w3c, traceState: state };
  }
  const uber = headers['uber-trace-id'];
  return typeof uber === 'string' ? parseUberTraceId(uber) : null;
}

/** `traceparent` value (version 00) for a span context. */
export function formatTraceparent(ctx: SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00'}`;
}
