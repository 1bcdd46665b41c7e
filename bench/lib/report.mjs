/**
 * Writes a suite's result as `<suite>.json` (everything, per round) and `<suite>.md` (the
 * table people read) under bench/results/, which is committed so numbers travel with
 * the code that produced them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where results are written. */
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

const fmt = (n, digits = 0) => (n === null || n === undefined ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Render `result` (from runSuite) as Markdown. */
export function toMarkdown(r) {
  const s = r.settings;
  const lines = [
    `# ${r.title}`,
    '',
    `- date: ${r.date}`,
    `- node: ${r.node}, ${r.platform}`,
    `- CPUs: ${r.cpus.count} × ${r.cpus.model}; 1-min load average ${r.loadavg1m.before} before, ${r.loadavg1m.after} after (after includes the run itself)`,
    `- load: autocannon, ${s.connections} connections, pipelining ${s.pipelining}, ${s.warmupS} s warm-up + ${s.durationS} s measured per target, ${s.rounds} round(s)${s.rounds > 1 ? ' (medians shown)' : ''}`,
    s.pinning
      ? `- CPU pinning: load generator + upstream on CPU ${s.pinning.load}, proxy under test on CPU ${s.pinning.proxy} (BENCH_PIN=0 disables)`
      : '- CPU pinning: off (every process shares every CPU)',
    `- request: GET ${s.path}, response ${s.responseBytes} bytes of JSON`,
    '',
  ];
  // CPU per request only where a target can report it (gateway targets on Linux).
  const cpu = r.results.some((t) => typeof t.summary?.cpuUsPerRequest === 'number');
  lines.push(
    `| target | req/s |${cpu ? ' CPU µs/req |' : ''} p50 ms | p99 ms | errors | non-2xx |`,
    `|---|---:|${cpu ? '---:|' : ''}---:|---:|---:|---:|`,
  );
  for (const t of r.results) {
    if (t.summary) {
      const m = t.summary;
      const c = cpu ? ` ${m.cpuUsPerRequest === null || m.cpuUsPerRequest === undefined ? 'n/a' : fmt(m.cpuUsPerRequest, 1)} |` : '';
      lines.push(`| ${cell(t.name)} | ${fmt(m.rps)} |${c} ${fmt(m.latencyMs.p50, 2)} | ${fmt(m.latencyMs.p99, 2)} | ${m.errors + m.timeouts} | ${m.non2xx} |`);
    } else {
      lines.push(`| ${cell(t.name)} | ${t.status} |${cpu ? ' |' : ''} | | | |`);
    }
  }
  const missing = r.results.filter((t) => !t.summary);
  if (missing.length > 0) {
    lines.push('');
    for (const t of missing) lines.push(`- **${t.name}** ${t.status}: ${cell(t.reason.split('\n')[0])}`);
  }
  for (const t of r.results) {
    const bad = t.stops.find((s) => !s.graceful || s.stragglers);
    if (bad) {
      const what = bad.graceful ? 'left processes of its group running after exiting' : `ignored SIGTERM for ${bad.ms} ms and was killed`;
      lines.push(`- **${cell(t.name)}** ${what}`);
    }
  }
  if (r.comparisons.length > 0) {
    lines.push('', '| ratio | value | goal | status |', '|---|---:|---:|---|');
    for (const c of r.comparisons) {
      const status = c.ratio === null ? 'n/a (a target did not run)' : c.goal === null ? 'measured' : c.met ? 'met' : 'not met';
      const what = c.metric === 'cpu' ? 'CPU/req' : 'req/s';
      const goal = c.goal === null ? '—' : `${c.metric === 'cpu' ? '≤' : '≥'} ${c.goal}×`;
      lines.push(`| ${cell(c.label)} (${what}) | ${c.ratio === null ? 'n/a' : `${fmt(c.ratio, 3)}×`} | ${goal} | ${status} |`);
    }
  }
  if (r.notes.length > 0) {
    lines.push('');
    for (const n of r.notes) lines.push(`> ${n}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Write `<suite>.md` and `<suite>.json`; resolve with their paths. */
export async function writeReport(result, dir = RESULTS_DIR) {
  await mkdir(dir, { recursive: true });
  const md = path.join(dir, `${result.suite}.md`);
  const json = path.join(dir, `${result.suite}.json`);
  await writeFile(md, toMarkdown(result));
  await writeFile(json, `${JSON.stringify(result, null, 2)}\n`);
  return { md, json };
}
