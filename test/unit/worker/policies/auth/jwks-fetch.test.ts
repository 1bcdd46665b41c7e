/** The JWKS fetcher: only a 200 with a "keys" array counts; bodies are capped; a silent endpoint times out. */
import t from 'tap';
import { createServer, type ServerResponse } from 'node:http';
import { Agent } from 'undici';
import { createJwksFetch } from '../../../../../src/worker/policies/auth/index.js';

t.test('createJwksFetch accepts a key set and refuses everything else', async (t) => {
  let answer: (res: ServerResponse) => void = () => {};
  const server = createServer((_req, res) => answer(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
  const agent = new Agent();
  t.teardown(async () => {
    await agent.destroy();
    server.closeAllConnections();
    server.close();
  });
  const fetch = createJwksFetch(agent);
  answer = (res) => res.end(JSON.stringify({ keys: [{ kty: 'RSA' }] }));
  t.same(await fetch(url, 1000), { keys: [{ kty: 'RSA' }] });
  answer = (res) => res.writeHead(500).end('{"keys":[]}');
  await t.rejects(fetch(url, 1000), /answered 500/);
  answer = (res) => res.end('{"nokeys":1}');
  await t.rejects(fetch(url, 1000), /no "keys" array/);
  answer = (res) => res.end('not json');
  await t.rejects(fetch(url, 1000), SyntaxError);
  answer = (res) => {
    res.write(`{"keys":["${'x'.repeat(600 * 1024)}`);
    res.end(`${'x'.repeat(600 * 1024)}"]}`);
  };
  await t.rejects(fetch(url, 5000), /over 1048576 bytes/);
  answer = () => {}; // never answers
  await t.rejects(fetch(url, 200), 'a silent endpoint fails at the deadline');
});
