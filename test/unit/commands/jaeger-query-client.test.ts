/** The Jaeger query client's failure mapping: every bad answer is a typed error naming the URL. */
import t from 'tap';
import { createServer, type Server } from 'node:http';
import { JaegerQueryClient } from '../../../src/commands/jaeger-query-client.js';
import { TraceBackendError, TraceNotFoundError } from '../../../src/common/index.js';

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

t.test('404 is "not found"; an error envelope, a non-JSON body and silence are backend errors', async (t) => {
  let mode = '404';
  const { url, server } = await serve((req, res) => {
    if (mode === 'hang') return;
    if (mode === '404') return void res.writeHead(404).end('{"data":null,"errors":[{"code":404,"msg":"trace not found"}]}');
    if (mode === 'html') return void res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
    if (mode === 'envelope') return void res.writeHead(500).end('{"data":null,"errors":[{"code":500,"msg":"storage down"}]}');
    if (mode === 'empty') return void res.writeHead(200).end('{"data":[],"errors":null}');
  });
  t.teardown(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  const client = new JaegerQueryClient(url + '/', 300);
  t.teardown(() => client.close());

  await t.rejects(client.getTrace('abc'), new TraceNotFoundError('abc', url));
  mode = 'empty';
  await t.rejects(client.getTrace('abc'), TraceNotFoundError, 'an empty data list is not found too');
  mode = 'html';
  await t.rejects(client.getTrace('abc'), { code: 'GW_TRACE_BACKEND_UNAVAILABLE', message: `the Jaeger query API at ${url} answered 502 with a body that is not JSON` });
  mode = 'envelope';
  await t.rejects(client.findTraces('svc', 5), { message: `the Jaeger query API at ${url} refused the query: storage down` });
  mode = 'hang';
  await t.rejects(client.services(), TraceBackendError);
  await t.rejects(client.services(), { message: /no answer within 300 ms/ });
});
