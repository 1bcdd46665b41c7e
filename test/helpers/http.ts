/** One keep-alive HTTP client per test file, and a request that reads the whole answer. */
import { Agent, request } from 'undici';

/** Options of `call()`: undici's request options. */
export type CallOptions = Parameters<typeof request>[1];

/** An answer read to the end. */
export interface Answer {
  readonly status: number;
  readonly headers: Awaited<ReturnType<typeof request>>['headers'];
  readonly text: string;
}

/**
 * A client on its own undici Agent (short keep-alive, so no socket outlives the file),
 * closed by `owner.teardown`; `call()` sends one request and reads its body.
 */
export function testClient(owner: { teardown(fn: () => unknown): void }): { agent: Agent; call(url: string, opts?: CallOptions): Promise<Answer> } {
  const agent = new Agent({ keepAliveTimeout: 1000 });
  owner.teardown(() => agent.close());
  return {
    agent,
    async call(url, opts = {}) {
      const res = await request(url, { dispatcher: agent, ...opts });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text };
    },
  };
}
