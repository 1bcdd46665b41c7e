/** The audit log: structured records, batching, and a full queue that drops instead of blocking. */
import t from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { AuditFileSink, AuditLog, createRegistry, type AuditSink } from '../../../src/telemetry/index.js';

t.test('records are pino JSON lines with the event, fields and base', async (t) => {
  const lines: string[] = [];
  const audit = new AuditLog({ sink: { write: async (l) => void lines.push(...l), close: async () => {} }, logger: pino({ level: 'silent' }), registry: null, base: { role: 'worker' } });
  audit.record('auth.failure', { route: 'r', reason: 'expired' });
  audit.record('apikey.created', { keyId: 'abc' });
  await audit.flush();
  const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(recs[0], { event: 'auth.failure', route: 'r', reason: 'expired', role: 'worker', log: 'audit', level: 'info', msg: 'auth.failure' });
  t.type(recs[0]!.time, 'string');
  t.equal(recs[1]!.event, 'apikey.created');
});

t.test('a stuck sink: record() returns at once, the queue stays bounded, drops are counted and logged', async (t) => {
  let release: () => void = () => {};
  const stuck = new Promise<void>((r) => (release = r));
  const writes: number[] = [];
  const sink: AuditSink = { write: (l) => (writes.push(l.length), stuck), close: async () => {} };
  const warnings: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (l: string) => void warnings.push(JSON.parse(l) as Record<string, unknown>) });
  const registry = createRegistry();
  const audit = new AuditLog({ sink, logger, registry, capacity: 10, warnEveryMs: 60_000 });
  audit.record('e', { i: 0 });
  await new Promise((r) => setImmediate(r)); // first batch (1 record) is now stuck in the sink
  for (let i = 1; i <= 1000; i++) audit.record('e', { i });
  t.equal(audit.queued, 10, 'the queue holds at most its capacity');
  t.equal(audit.dropped, 990);
  t.match(await registry.metrics(), /gateway_audit_records_dropped_total\{reason="queue_full"\} 990/);
  t.equal(warnings.length, 1, 'one warning, not one per dropped record');
  t.match(warnings[0], { msg: 'audit records dropped', reason: 'queue_full' });
  release();
  await audit.flush();
  t.same(writes, [1, 10], 'after the sink recovers the queued batch is written');
});

t.test('a failing sink drops the batch with reason sink_error and keeps going', async (t) => {
  let fail = true;
  const written: string[] = [];
  const registry = createRegistry();
  const audit = new AuditLog({
    sink: { write: async (l) => { if (fail) throw new Error('disk full'); written.push(...l); }, close: async () => {} },
    logger: pino({ level: 'silent' }),
    registry,
  });
  audit.record('a', {});
  await audit.flush();
  fail = false;
  audit.record('b', {});
  await audit.flush();
  t.equal(written.length, 1);
  t.match(await registry.metrics(), /gateway_audit_records_dropped_total\{reason="sink_error"\} 1/);
});

t.test('file sink: appends whole lines to a 0600 file, creating its directory', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'state', 'audit.log');
  const sink = new AuditFileSink(file);
  await sink.write(['{"a":1}\n', '{"b":2}\n']);
  await sink.write(['{"c":3}\n']);
  await sink.close();
  t.equal(readFileSync(file, 'utf8'), '{"a":1}\n{"b":2}\n{"c":3}\n');
  t.equal(statSync(file).mode & 0o777, 0o600);
});

t.test('close() gives up on a sink that never completes: bounded, and the lost records are counted', async (t) => {
  const writes: number[] = [];
  let closes = 0;
  const sink: AuditSink = { write: (l) => (writes.push(l.length), new Promise<void>(() => {})), close: async () => void closes++ };
  const registry = createRegistry();
  const audit = new AuditLog({ sink, logger: pino({ level: 'silent' }), registry, closeTimeoutMs: 50 });
  audit.record('e', { i: 0 });
  await new Promise((r) => setImmediate(r)); // the first record is in flight, forever
  audit.record('e', { i: 1 });
  audit.record('e', { i: 2 });
  await audit.close(); // would never resolve without the deadline
  t.same(writes, [1], 'one batch reached the sink and never came back');
  t.equal(audit.dropped, 3, 'the in-flight record and the two queued ones are counted as dropped');
  t.match(await registry.metrics(), /gateway_audit_records_dropped_total\{reason="close_timeout"\} 3/);
  t.equal(audit.queued, 0);
  audit.record('e', { i: 3 });
  t.equal(audit.dropped, 4, 'a record after the give-up is dropped, not queued for a dead sink');
  t.equal(closes, 0, 'the sink is not closed while a write is still pending');
});

t.test('close() with a sink whose close() hangs still resolves', async (t) => {
  const lines: string[] = [];
  const sink: AuditSink = { write: async (l) => void lines.push(...l), close: () => new Promise<void>(() => {}) };
  const audit = new AuditLog({ sink, logger: pino({ level: 'silent' }), registry: null, closeTimeoutMs: 50 });
  audit.record('e', {});
  await audit.close();
  t.equal(lines.length, 1, 'the records were written first');
  t.equal(audit.dropped, 0);
});
