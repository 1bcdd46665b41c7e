/**
 * A Jaeger collector double: the collector's HTTP span intake, written from the Jaeger
 * docs ("APIs": the collector accepts `jaeger.thrift` Batches over HTTP at
 * `POST /api/traces`, port 14268, Content-Type `application/x-thrift`, Thrift binary
 * protocol) and the jaeger-idl `jaeger.thrift` IDL:
 *
 *   struct Batch   { 1: required Process process  2: required list<Span> spans
 *                    3: optional i64 seqNo        4: optional ClientStats stats }
 *   struct Process { 1: required string serviceName  2: optional list<Tag> tags }
 *   struct Span    { 1: i64 traceIdLow  2: i64 traceIdHigh  3: i64 spanId  4: i64 parentSpanId
 *                    5: string operationName  6: optional list<SpanRef> references
 *                    7: i32 flags  8: i64 startTime (µs)  9: i64 duration (µs)
 *                    10: optional list<Tag> tags  11: optional list<Log> logs  12: optional bool incomplete }
 *   struct SpanRef { 1: SpanRefType refType (i32: CHILD_OF=0, FOLLOWS_FROM=1)
 *                    2: i64 traceIdLow  3: i64 traceIdHigh  4: i64 spanId }
 *   struct Tag     { 1: string key  2: TagType vType (i32: STRING=0 DOUBLE=1 BOOL=2 LONG=3 BINARY=4)
 *                    3: string vStr  4: double vDouble  5: bool vBool  6: i64 vLong  7: binary vBinary }
 *   struct Log     { 1: i64 timestamp  2: list<Tag> fields }
 *
 * Like the real collector it answers 202 Accepted to a batch it stored, 400 to a body it
 * cannot decode or a wrong content type, 404/405 elsewhere. Tests drive it through the
 * real `@opentelemetry/exporter-jaeger`, so the bytes are the exporter's own.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../helpers/net.js';
import { ThriftReader, ThriftDecodeError, type ThriftStruct, type ThriftValue } from './thrift-binary.js';

/** A tag value as decoded. */
export type TagValue = string | number | boolean | bigint | Buffer;

/** One span as the collector stored it, ids as lower-case hex. */
export interface CollectedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** 16 zeros for a root span. */
  readonly parentSpanId: string;
  readonly operationName: string;
  readonly references: readonly { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceId: string; spanId: string }[];
  readonly flags: number;
  /** Microseconds since the epoch. */
  readonly startTime: number;
  readonly duration: number;
  readonly tags: ReadonlyMap<string, TagValue>;
  readonly serviceName: string;
  readonly processTags: ReadonlyMap<string, TagValue>;
}

/** How the double answers a POST; `accept` stores the batch. */
export type CollectorMode = 'accept' | 'fail' | 'hang';

/** A running collector double. */
export interface JaegerCollector {
  readonly url: string;
  /** `url` + `/api/traces`: what the exporter's `endpoint` is set to. */
  readonly endpoint: string;
  readonly spans: CollectedSpan[];
  /** Requests received (including refused ones). */
  readonly requests: { contentType: string | undefined; status: number }[];
  mode: CollectorMode;
  /** Open client connections. */
  readonly connections: number;
  close(): Promise<void>;
}

const hex64 = (v: ThriftValue | undefined): string => BigInt.asUintN(64, (v as bigint | undefined) ?? 0n).toString(16).padStart(16, '0');
const str = (v: ThriftValue | undefined): string => (Buffer.isBuffer(v) ? v.toString('utf8') : '');
const list = (v: ThriftValue | undefined): ThriftStruct[] => (Array.isArray(v) ? (v as ThriftStruct[]) : []);

function tags(v: ThriftValue | undefined): Map<string, TagValue> {
  const out = new Map<string, TagValue>();
  for (const t of list(v)) {
    const type = t.get(2) as number;
    const value: TagValue | undefined =
      type === 0 ? str(t.get(3)) : type === 1 ? (t.get(4) as number) : type === 2 ? (t.get(5) as boolean) : type === 3 ? (t.get(6) as bigint) : (t.get(7) as Buffer);
    if (value === undefined) throw new ThriftDecodeError(`tag ${str(t.get(1))} has no value for type ${type}`);
    out.set(str(t.get(1)), typeof value === 'bigint' ? Number(value) : value);
  }
  return out;
}

/** Decode a Thrift binary `Batch` into spans; throws ThriftDecodeError on garbage. */
export function decodeBatch(body: Buffer): CollectedSpan[] {
  const reader = new ThriftReader(body);
  const batch = reader.readStruct();
  if (reader.remaining !== 0) throw new ThriftDecodeError(`${reader.remaining} bytes after the batch`);
  const process = batch.get(1) as ThriftStruct | undefined;
  const spans = batch.get(2);
  if (!(process instanceof Map) || !Array.isArray(spans)) throw new ThriftDecodeError('Batch needs field 1 (process) and 2 (spans)');
  const serviceName = str(process.get(1));
  const processTags = tags(process.get(2));
  return (spans as ThriftStruct[]).map((s) => {
    for (const id of [1, 2, 3, 4, 5, 7, 8, 9]) if (!s.has(id)) throw new ThriftDecodeError(`Span field ${id} is required`);
    return {
      traceId: hex64(s.get(2)) + hex64(s.get(1)),
      spanId: hex64(s.get(3)),
      parentSpanId: hex64(s.get(4)),
      operationName: str(s.get(5)),
      references: list(s.get(6)).map((r) => ({
        refType: r.get(1) === 1 ? ('FOLLOWS_FROM' as const) : ('CHILD_OF' as const),
        traceId: hex64(r.get(3)) + hex64(r.get(2)),
        spanId: hex64(r.get(4)),
      })),
      flags: s.get(7) as number,
      startTime: Number(s.get(8) as bigint),
      duration: Number(s.get(9) as bigint),
      tags: tags(s.get(10)),
      serviceName,
      processTags,
    };
  });
}

/** Start a collector double on 127.0.0.1 (random port). */
export async function startJaegerCollector(): Promise<JaegerCollector> {
  const server: Server = createServer((req, res) => handle(req, res));
  let collector!: JaegerCollector;

  function answer(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
    collector.requests.push({ contentType: req.headers['content-type'], status });
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(text);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/api/traces') return void (req.resume(), answer(req, res, 404, '404 page not found\n'));
    if (req.method !== 'POST') return void (req.resume(), answer(req, res, 405, 'method not allowed\n'));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (collector.mode === 'hang') return; // accept the bytes, never answer
      if (collector.mode === 'fail') return answer(req, res, 500, 'storage unavailable\n');
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/x-thrift' && type !== 'application/vnd.apache.thrift.binary') {
        return answer(req, res, 400, `Unsupported content type: ${type}\n`);
      }
      try {
        collector.spans.push(...decodeBatch(Buffer.concat(chunks)));
      } catch (err) {
        return answer(req, res, 400, `Unable to process request body: ${(err as Error).message}\n`);
      }
      answer(req, res, 202, '');
    });
  }

  const listening = await listenOnLoopback(server);
  const url = `http://127.0.0.1:${listening.port}`;
  collector = {
    url,
    endpoint: `${url}/api/traces`,
    spans: [],
    requests: [],
    mode: 'accept',
    get connections() {
      return listening.connections;
    },
    close: listening.close,
  };
  return collector;
}
