/**
 * `gateway trace <traceId>` and `gateway traces --service NAME`: read traces back from
 * the Jaeger query API and print them for a terminal.
 * Exit codes: 0 printed; 1 trace not found, unknown service, Jaeger unreachable or
 * answering garbage (the message names the URL); 2 usage (bad trace id, bad option).
 */

import { GatewayError, UsageError, loadEnvFiles, parseCommandLine } from '../common/index.js';
import { JaegerQueryClient } from './jaeger-query-client.js';
import { renderTrace, renderTraceList } from './trace-tree.js';

/** Default Jaeger query URL when neither --jaeger nor JAEGER_QUERY_URL is set. */
export const DEFAULT_QUERY_URL = 'http://127.0.0.1:16686';

/** Help texts, shown by `gateway trace --help` and `gateway traces --help`. */
export const TRACE_HELP = {
  trace: `Usage: gateway trace <traceId> [--jaeger URL] [--env NAME]

Print one trace from the Jaeger query API as an indented span tree: operation,
service, duration, status (OK/ERROR), offset from the trace start, and tags.

Options:
  --jaeger URL   Jaeger query service (default: $JAEGER_QUERY_URL, else ${DEFAULT_QUERY_URL})
  --env NAME     load .env, then .env.NAME over it (default: $GATEWAY_ENV)
  -h, --help     show this help

Exit codes: 0 printed, 1 not found or Jaeger unreachable, 2 usage (e.g. a bad trace id).
`,
  traces: `Usage: gateway traces --service NAME [--limit N] [--jaeger URL] [--env NAME]

List recent traces of a service: trace id, root span, span count, duration, start.

Options:
  --service NAME  service name as Jaeger knows it (the gateway's is telemetry.tracing.serviceName)
  --limit N       at most N traces, 1..1000 (default 20)
  --jaeger URL    Jaeger query service (default: $JAEGER_QUERY_URL, else ${DEFAULT_QUERY_URL})
  --env NAME      load .env, then .env.NAME over it (default: $GATEWAY_ENV)
  -h, --help      show this help

Exit codes: 0 listed, 1 unknown service or Jaeger unreachable, 2 usage.
`,
} as const;

/** Where output goes (process streams in the CLI, buffers in tests). */
export interface TraceIo {
  readonly env: NodeJS.ProcessEnv;
  /** Install directory holding the `.env*` files. */
  readonly home: string;
  out(text: string): void;
  err(text: string): void;
}

function queryUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const raw = flag ?? (env.JAEGER_QUERY_URL || DEFAULT_QUERY_URL);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--jaeger / JAEGER_QUERY_URL must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--jaeger must use http or https, got ${JSON.stringify(raw)}`);
  return raw.replace(/\/+$/, '');
}

/** Run `gateway trace` or `gateway traces` with the arguments after the command name. */
export async function runTraceCommand(command: 'trace' | 'traces', argv: string[], io: TraceIo): Promise<number> {
  const parsed = parseCommandLine(argv, {
    jaeger: { type: 'string' },
    env: { type: 'string' },
    service: { type: 'string' },
    limit: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const v = parsed.values;
  if (v.help === true) {
    io.out(TRACE_HELP[command]);
    return 0;
  }
  loadEnvFiles(io.home, v.env ?? (io.env.GATEWAY_ENV || undefined), io.env);
  const base = queryUrl(v.jaeger, io.env);
  if (command === 'trace') {
    if (v.service !== undefined || v.limit !== undefined) throw new UsageError('--service and --limit belong to "gateway traces"');
    if (parsed.positionals.length !== 1) throw new UsageError('expected exactly one trace id (see "gateway trace --help")');
    const id = parsed.positionals[0]!;
    if (!/^[0-9a-fA-F]{1,32}$/.test(id) || /^0+$/.test(id)) throw new UsageError(`"${id}" is not a trace id (1-32 hex digits, not all zero)`);
    return withClient(base, io, async (client) => {
      io.out(renderTrace(await client.getTrace(id.toLowerCase())));
      return 0;
    });
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  if (v.service === undefined || v.service === '') throw new UsageError('--service NAME is required (see "gateway traces --help")');
  const limit = v.limit === undefined ? 20 : Number(v.limit);
  if (!/^\d+$/.test(v.limit ?? '20') || limit < 1 || limit > 1000) throw new UsageError(`--limit must be an integer 1..1000, got ${JSON.stringify(v.limit)}`);
  const service = v.service;
  return withClient(base, io, async (client) => {
    const traces = await client.findTraces(service, limit);
    if (traces.length > 0) {
      io.out(renderTraceList(traces));
      return 0;
    }
    // Jaeger answers an unknown service with an empty list: say which case it is.
    const known = await client.services();
    if (known.includes(service)) {
      io.out(`no recent traces of service "${service}"\n`);
      return 0;
    }
    io.err(`gateway: service "${service}" is unknown to Jaeger at ${base}; known: ${known.length === 0 ? '(none)' : known.join(', ')}\n`);
    return 1;
  });
}

async function withClient(base: string, io: TraceIo, fn: (c: JaegerQueryClient) => Promise<number>): Promise<number> {
  const client = new JaegerQueryClient(base);
  try {
    return await fn(client);
  } catch (err) {
    if (!(err instanceof GatewayError) || err instanceof UsageError) throw err;
    io.err(`gateway: ${err.message} [${err.code}]\n`);
    return 1;
  } finally {
    await client.close();
  }
}
