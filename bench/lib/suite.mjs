/**
 * Runs one suite: start its upstream once, then for each round and each selected target
 * start the target, check it really proxies (same status and body as the upstream),
 * measure it, stop it. Targets run one at a time so they never compete for the CPU, and
 * rounds interleave the targets so slow drift of the machine hits all of them alike.
 *
 * A suite is `{ name, title, upstream, path, targets, comparisons, notes? }` (see
 * suites/core.mjs). Per target the result is `ok` (with per-round and median numbers),
 * `unavailable` (cannot exist in this checkout) or `failed` (with the reason).
 */
import os from 'node:os';
import { get } from './http-check.mjs';
import { measure } from './load.mjs';
import { selected } from './settings.mjs';
import { TargetUnavailableError } from './targets.mjs';

const round2 = (n) => Math.round(n * 100) / 100;

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Combine the rounds of one target: medians for rates and latencies, sums for failures. */
function combine(rounds) {
  const pick = (f) => median(rounds.map(f));
  return {
    rps: pick((r) => r.rps),
    cpuUsPerRequest: rounds.every((r) => typeof r.cpuUsPerRequest === 'number') ? pick((r) => r.cpuUsPerRequest) : null,
    latencyMs: {
      avg: pick((r) => r.latencyMs.avg),
      p50: pick((r) => r.latencyMs.p50),
      p90: pick((r) => r.latencyMs.p90),
      p99: pick((r) => r.latencyMs.p99),
      max: Math.max(...rounds.map((r) => r.latencyMs.max)),
    },
    requests: rounds.reduce((a, r) => a + r.requests, 0),
    errors: rounds.reduce((a, r) => a + r.errors, 0),
    timeouts: rounds.reduce((a, r) => a + r.timeouts, 0),
    non2xx: rounds.reduce((a, r) => a + r.non2xx, 0),
  };
}

async function checkResponse(url, reference, headers) {
  const res = await get(url, 2000, headers);
  if (res.status !== reference.status || res.body !== reference.body) {
    throw new Error(`response differs from the upstream's: status ${res.status}, body ${JSON.stringify(res.body.slice(0, 200))}`);
  }
}

/** Run `suite` and resolve with the result object the report is written from. */
export async function runSuite(suite, { settings, processes, log }) {
  const started = new Date();
  // Other work on the machine is the main source of noise; record how busy it was.
  const loadBefore = os.loadavg()[0];
  const upstream = await processes.forkServer('upstream', suite.upstream);
  try {
    const result = await runTargets(suite, settings, processes, log, started, upstream.port);
    result.loadavg1m = { before: round2(loadBefore), after: round2(os.loadavg()[0]) };
    return result;
  } finally {
    await upstream.child.stop(5000);
  }
}

async function runTargets(suite, settings, processes, log, started, upstreamPort) {
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}/`;
  const reference = await get(new URL(suite.path, upstreamUrl).href);
  const ctx = { processes, upstreamUrl, settings };

  const targets = suite.targets
    .filter((t) => selected(settings, t.name))
    .map((t) => ({ target: t, name: t.name, status: 'ok', reason: null, rounds: [], stops: [] }));

  for (let round = 1; round <= settings.rounds; round++) {
    for (const entry of targets) {
      if (entry.status !== 'ok') continue;
      log(`[${suite.name}] round ${round}/${settings.rounds}: ${entry.name}`);
      let running = null;
      try {
        running = await entry.target.start(ctx);
        const url = new URL(suite.path, running.url).href;
        // A target may need request headers (credentials for the auth suite).
        await checkResponse(url, reference, running.headers ?? {});
        const summary = await measure(url, settings, { headers: running.headers ?? {}, cpuMs: running.cpuMs });
        entry.rounds.push(summary);
        log(`  ${Math.round(summary.rps)} req/s${summary.cpuUsPerRequest === null ? '' : `, ${summary.cpuUsPerRequest} µs CPU/req`}, p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms, errors ${summary.errors}, non-2xx ${summary.non2xx}`);
      } catch (err) {
        entry.status = err instanceof TargetUnavailableError ? 'unavailable' : 'failed';
        entry.reason = err.message;
        log(`  ${entry.status}: ${err.message}`);
      } finally {
        if (running) {
          const stop = await running.stop();
          entry.stops.push(stop);
          if (!stop.graceful || stop.stragglers) log(`  note: did not stop cleanly on SIGTERM ${JSON.stringify(stop)}`);
        }
      }
    }
  }

  const results = targets.map(({ name, status, reason, rounds, stops }) => ({
    name,
    status,
    reason,
    summary: rounds.length > 0 && status === 'ok' ? combine(rounds) : null,
    rounds,
    stops,
  }));
  const byName = new Map(results.map((r) => [r.name, r]));
  const comparisons = (suite.comparisons ?? []).map((c) => {
    const num = byName.get(c.numerator)?.summary;
    const den = byName.get(c.denominator)?.summary;
    // `metric: 'cpu'` compares CPU per request (lower is better, goal is a ceiling).
    if (c.metric === 'cpu') {
      const ratio = num?.cpuUsPerRequest && den?.cpuUsPerRequest ? num.cpuUsPerRequest / den.cpuUsPerRequest : null;
      return { ...c, ratio, met: ratio === null ? null : ratio <= c.goal };
    }
    const ratio = num && den && den.rps > 0 ? num.rps / den.rps : null;
    // goal null: a ratio reported for information only.
    return { ...c, ratio, met: ratio === null || c.goal === null ? null : ratio >= c.goal };
  });

  return {
    suite: suite.name,
    title: suite.title,
    notes: suite.notes ?? [],
    date: started.toISOString(),
    finished: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    // os.cpus(), not availableParallelism(): the latter reports this process's CPU affinity.
    cpus: { count: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown' },
    settings: {
      connections: settings.connections,
      durationS: settings.durationS,
      warmupS: settings.warmupS,
      rounds: settings.rounds,
      pipelining: settings.pipelining,
      pinning: settings.pinning ?? null,
      path: suite.path,
      responseBytes: Buffer.byteLength(reference.body),
    },
    results,
    comparisons,
  };
}
