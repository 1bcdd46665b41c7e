/**
 * The JWKS fetcher: one GET through the worker's own undici Agent (never the global
 * dispatcher), with a deadline covering connect, headers and body, and a 1 MiB cap on
 * the body so a misbehaving endpoint cannot balloon a worker.
 */
import { request, type Dispatcher } from 'undici';
import type { JwksFetch } from './jwks-cache.js';

const MAX_BYTES = 1024 * 1024;

/** A JwksFetch sending through `dispatcher`. */
export function createJwksFetch(dispatcher: Dispatcher): JwksFetch {
  return async (url, timeoutMs) => {
    const signal = AbortSignal.timeout(timeoutMs);
    const res = await request(url, { dispatcher, signal, headers: { accept: 'application/json' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`JWKS endpoint answered ${res.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_BYTES) {
        res.body.destroy();
        throw new Error(`JWKS document over ${MAX_BYTES} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { keys?: unknown };
    if (doc === null || typeof doc !== 'object' || !Array.isArray(doc.keys)) throw new Error('JWKS document has no "keys" array');
    return doc;
  };
}
