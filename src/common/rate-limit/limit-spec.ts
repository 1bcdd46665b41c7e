/**
 * Parsing a rate limit as written in config: `{ requests: 10, per: 'm', burst?: 20 }`.
 *
 * The result keeps the ratio as written (requests per period in whole ms) because the
 * token bucket needs it exact; `refillPerSecond` is derived for display only. Bad input
 * never throws: every problem found is reported in one reason string, so a config check
 * can name them all at once. Periods are whole milliseconds (the clock's unit) and at most
 * 366 days (anything longer is almost surely a unit mistake); burst × period must fit the
 * bucket's exact-integer range, which allows e.g. a burst of 10^8 on a daily limit.
 */
import { MAX_CAPACITY_CREDITS, gcd } from './token-bucket.js';

/** Named periods: second, minute, hour, day. */
export type LimitUnit = 's' | 'm' | 'h' | 'd';

/** A limit as written in config: `requests` per `per` (a unit or seconds), optional burst (default `requests`). */
export interface LimitSpec {
  readonly requests: number;
  readonly per: LimitUnit | number;
  readonly burst?: number;
}

/** A validated, frozen limit; its fields fit `TokenBucketOptions` directly. */
export interface ParsedLimit {
  /** Canonical text, equal for equal limits; stores key buckets by it. Never contains '|'. */
  readonly id: string;
  /** Bucket size: the burst. */
  readonly capacity: number;
  /** Tokens added per `refillIntervalMs` (the configured `requests`). */
  readonly refillTokens: number;
  /** The configured period in ms. */
  readonly refillIntervalMs: number;
  /** requests / period in seconds, for display and metrics; the bucket uses the exact ratio. */
  readonly refillPerSecond: number;
}

/** Outcome of `parseLimit`: the limit, or why it was refused. */
export type LimitParseResult =
  | { readonly ok: true; readonly limit: ParsedLimit }
  | { readonly ok: false; readonly reason: string };

const UNIT_MS: Readonly<Record<LimitUnit, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_PERIOD_MS = 366 * UNIT_MS.d;
const KEYS = new Set(['requests', 'per', 'burst']);

/** Validate a limit from config; never throws. */
export function parseLimit(input: unknown): LimitParseResult {
  try {
    return parse(input);
  } catch {
    // Only exotic input gets here (a throwing getter, a revoked Proxy).
    return { ok: false, reason: 'the limit could not be read' };
  }
}

function parse(input: unknown): LimitParseResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, reason: `a limit must be an object like { requests: 10, per: 's' }, got ${describe(input)}` };
  }
  const o = input as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(o)) {
    if (!KEYS.has(key)) problems.push(`unknown key '${key}' (expected requests, per, burst)`);
  }

  const requests = wholeNumber(o.requests, 'requests', problems);
  const periodMs = period(o.per, problems);
  const burst = o.burst === undefined ? requests : wholeNumber(o.burst, 'burst', problems);

  if (requests !== undefined && periodMs !== undefined && burst !== undefined) {
    // Mirror the bucket's credit arithmetic so a limit that passes here always builds.
    const tokenCredits = periodMs / gcd(requests, periodMs);
    if (burst * tokenCredits > MAX_CAPACITY_CREDITS) {
      const most = Math.floor(MAX_CAPACITY_CREDITS / tokenCredits);
      problems.push(`burst ${burst} is too large for ${requests} per ${periodMs} ms (at most ${most})`);
    }
  }
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };

  const limit: ParsedLimit = Object.freeze({
    id: `${requests!}/${periodMs!}ms burst ${burst!}`,
    capacity: burst!,
    refillTokens: requests!,
    refillIntervalMs: periodMs!,
    refillPerSecond: (requests! * 1000) / periodMs!,
  });
  return { ok: true, limit };
}

/** A safe whole number >= 1, or undefined with a problem recorded. */
function wholeNumber(v: unknown, name: string, problems: string[]): number | undefined {
  if (v === undefined) {
    problems.push(`${name} is required`);
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    problems.push(`${name} must be a whole number >= 1, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

/** The period in whole ms, or undefined with a problem recorded. */
function period(v: unknown, problems: string[]): number | undefined {
  if (v === undefined) {
    problems.push(`per is required`);
    return undefined;
  }
  if (typeof v === 'string') {
    if (Object.hasOwn(UNIT_MS, v)) return UNIT_MS[v as LimitUnit];
    problems.push(`per must be 's', 'm', 'h', 'd' or a number of seconds, got ${describe(v)}`);
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    problems.push(`per must be 's', 'm', 'h', 'd' or a positive number of seconds, got ${describe(v)}`);
    return undefined;
  }
  const ms = Math.round(v * 1000);
  // 0.1 s × 1000 is 100.00000000000001 in floats: accept what is a whole ms up to that noise.
  if (ms < 1 || Math.abs(v * 1000 - ms) > 8 * Number.EPSILON * ms) {
    problems.push(`per must be a whole number of milliseconds, got ${v} s`);
    return undefined;
  }
  if (ms > MAX_PERIOD_MS) {
    problems.push(`per must be at most 366 days (${MAX_PERIOD_MS / 1000} s), got ${v} s`);
    return undefined;
  }
  return ms;
}

/** A short, never-throwing description of a config value for error messages. */
function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'bigint') return `${v}n`;
  return String(v);
}
