/** Propagation parsing: W3C traceparent/tracestate, Jaeger uber-trace-id, and what is ignored. */
import t from 'tap';
import { TraceFlags } from '@opentelemetry/api';
import {
  extractParent,
  formatTraceparent,
  parseTraceparent,
  parseTracestate,
  parseUberTraceId,
} from '../../../../src/telemetry/tracing/index.js';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';

t.test('a valid version-00 traceparent gives the remote parent and its sampled flag', async (t) => {
  t.same(parseTraceparent(`00-${TID}-${SID}-01`), { traceId: TID, spanId: SID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  t.equal(parseTraceparent(`00-${TID}-${SID}-00`)?.traceFlags, TraceFlags.NONE);
  // Unknown flag bits are ignored; only "sampled" is kept.
  t.equal(parseTraceparent(`00-${TID}-${SID}-03`)?.traceFlags, TraceFlags.SAMPLED);
  t.equal(parseTraceparent(` 00-${TID}-${SID}-01 `)?.traceId, TID, 'surrounding whitespace is tolerated');
});

t.test('a later version is parsed for its version-00 fields, extra fields ignored', async (t) => {
  t.equal(parseTraceparent(`01-${TID}-${SID}-01-what-ever`)?.spanId, SID);
  t.equal(parseTraceparent(`01-${TID}-${SID}-01`)?.spanId, SID);
  t.equal(parseTraceparent(`01-${TID}-${SID}-01x`), null, 'the 56th character must be "-"');
});

t.test('invalid traceparent values are ignored (null), never thrown', async (t) => {
  const bad = [
    undefined,
    '',
    'garbage',
    `ff-${TID}-${SID}-01`, // version ff is forbidden
    `00-${TID}-${SID}-01-extra`, // version 00 is exactly 55 characters
    `00-${TID.toUpperCase()}-${SID}-01`, // upper-case hex
    `00-${'0'.repeat(32)}-${SID}-01`, // all-zero trace id
    `00-${TID}-${'0'.repeat(16)}-01`, // all-zero parent id
    `00-${TID.slice(1)}g-${SID}-01`,
    `00_${TID}-${SID}-01`,
    `00-${TID}-${SID}-0g`,
    `0-${TID}-${SID}-011`,
  ];
  for (const v of bad) t.equal(parseTraceparent(v), null, String(v));
});

t.test('tracestate: kept when well formed, dropped when not', async (t) => {
  t.equal(parseTracestate('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7')?.serialize(), 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
  t.equal(parseTracestate(['a=1', 'b=2'])?.get('b'), '2', 'several fields form one list');
  t.equal(parseTracestate('tenant@vendor=x')?.get('tenant@vendor'), 'x', 'multi-tenant keys');
  t.equal(parseTracestate(undefined), null);
  t.equal(parseTracestate(''), null);
  t.equal(parseTracestate('Upper=1'), null, 'keys are lower case');
  t.equal(parseTracestate('a=1,b'), null, 'a member without "="');
  t.equal(parseTracestate('a=b=c'), null, '"=" inside a value');
  t.equal(parseTracestate(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')), null, 'more than 32 members');
  t.equal(parseTracestate(`a=${'x'.repeat(600)}`), null, 'longer than 512 characters');
});

t.test('uber-trace-id: 128- and 64-bit ids, short ids padded, URL-encoded form', async (t) => {
  t.same(parseUberTraceId(`${TID}:${SID}:0:1`), { traceId: TID, spanId: SID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  t.same(parseUberTraceId('a3ce929d0e0e4736:f067aa0ba902b7:0:0'), {
    traceId: '0000000000000000a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.NONE,
    isRemote: true,
  });
  t.equal(parseUberTraceId('ABC:DEF:0:1')?.traceId, '00000000000000000000000000000abc', 'upper-case hex is accepted and lowered');
  t.equal(parseUberTraceId(`${TID}%3A${SID}%3A0%3A1`)?.spanId, SID, 'URL-encoded colons');
  t.equal(parseUberTraceId(`${TID}:${SID}:0:2`)?.traceFlags, TraceFlags.SAMPLED, 'debug flag means sampled');
});

t.test('invalid uber-trace-id values are ignored', async (t) => {
  for (const v of ['', 'x', `${TID}:${SID}:0`, `${TID}:${SID}:0:1:9`, `0:${SID}:0:1`, `${TID}:0:0:1`, `${TID}1:${SID}:0:1`, `${TID}:${SID}:0:zz`, `${TID}%ZZ${SID}:0:1`]) {
    t.equal(parseUberTraceId(v), null, v);
  }
});

t.test('extractParent prefers a valid traceparent, falls back to uber-trace-id, else starts a new trace', async (t) => {
  const uber = 'a3ce929d0e0e4736:1111111111111111:0:1';
  t.equal(extractParent({ traceparent: `00-${TID}-${SID}-01`, 'uber-trace-id': uber })?.traceId, TID);
  t.equal(extractParent({ traceparent: 'broken', 'uber-trace-id': uber })?.spanId, '1111111111111111', 'broken W3C header falls back');
  t.equal(extractParent({ traceparent: [`00-${TID}-${SID}-01`, `00-${TID}-${SID}-01`] }), null, 'two traceparent fields are ignored');
  t.equal(extractParent({}), null);
  t.equal(extractParent({ traceparent: `00-${TID}-${SID}-01`, tracestate: 'a=1' })?.traceState?.get('a'), '1');
  t.equal(extractParent({ traceparent: `00-${TID}-${SID}-01`, tracestate: 'BAD' })?.traceState, undefined, 'bad tracestate dropped, parent kept');
  t.equal(extractParent({ tracestate: 'a=1' }), null, 'tracestate alone means nothing');
});

t.test('formatTraceparent writes version 00 with the sampled flag', async (t) => {
  t.equal(formatTraceparent({ traceId: TID, spanId: SID, traceFlags: TraceFlags.SAMPLED }), `00-${TID}-${SID}-01`);
  t.equal(formatTraceparent({ traceId: TID, spanId: SID, traceFlags: TraceFlags.NONE }), `00-${TID}-${SID}-00`);
  const round = parseTraceparent(formatTraceparent({ traceId: TID, spanId: SID, traceFlags: TraceFlags.SAMPLED }));
  t.equal(round?.spanId, SID, 'round trip');
});
