/**
 * One-shot HTTP GETs for readiness polling and response checks. Each request uses a fresh
 * connection (`agent: false`) so no idle keep-alive socket outlives the check and skews
 * or blocks the measurement that follows.
 */
import http from 'node:http';
import https from 'node:https';

/**
 * GET `url` once (with `headers`); resolve with `{ status, headers, body }` or reject on
 * error/timeout. An https URL is a loopback target with the test certificates: its chain is
 * not checked (as autocannon does not check it either).
 */
export function get(url, timeoutMs = 2000, headers = {}) {
  const secure = String(url).startsWith('https:');
  return new Promise((resolve, reject) => {
    const client = secure ? https : http;
    const req = client.get(url, { agent: false, timeout: timeoutMs, headers, ...(secure ? { rejectUnauthorized: false } : {}) }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/**
 * Poll `url` until it answers 200, for at most `timeoutMs`. `child`, when given, is a
 * ManagedChild: if it exits first we fail at once with its output instead of waiting out
 * the deadline.
 */
export async function waitForOk(url, { timeoutMs = 15_000, intervalMs = 100, child } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`${child.name} exited (${child.exitDescription}) before ${url} answered 200${child.outputTail()}`);
    }
    try {
      const res = await get(url, Math.min(2000, Math.max(100, deadline - Date.now())));
      if (res.status === 200) return;
      last = `status ${res.status}: ${res.body.slice(0, 200)}`;
    } catch (err) {
      last = err.code ?? err.message;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})${child ? child.outputTail() : ''}`);
}
