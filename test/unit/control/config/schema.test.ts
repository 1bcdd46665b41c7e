import t from 'tap';
import { configSchema, schemaProblems, validateSchema } from '../../../../src/control/config/schema.js';

const valid = () => ({
  services: [{ name: 's', instances: [{ url: 'http://a' }] }],
  routes: [{ id: 'r', path: '/x', service: 's' }] as Record<string, unknown>[],
});

t.test('a valid document gets every default filled in place', async (t) => {
  const doc: Record<string, unknown> = valid();
  t.same(validateSchema(doc), []);
  t.match(doc, {
    server: { port: 8080, limits: { maxBodyBytes: 10485760 }, paths: { encodedSlash: 'reject' } },
    services: [{ loadBalancer: 'round-robin', instances: [{ weight: 1 }], pool: { connections: 128 } }],
    routes: [{ methods: [], hosts: [], priority: 0, rewrite: null }],
  });
  const again: Record<string, unknown> = valid();
  validateSchema(again);
  t.not((again.routes as { methods: unknown }[])[0]!.methods, (doc.routes as { methods: unknown }[])[0]!.methods, 'defaults are fresh objects');
});

t.test('errors become key paths and readable messages', async (t) => {
  const doc = valid();
  doc.routes[0] = { id: 'r', path: '/x', service: 's', methods: ['GET', 'POST', 'GET'], hots: [], rewrite: 5 };
  const problems = schemaProblems(validateSchema(doc), doc);
  t.same(problems, [
    { path: ['routes', 0, 'hots'], message: 'unknown key "hots"; did you mean "hosts"?' },
    { path: ['routes', 0, 'methods', 2], message: '"GET" repeats item 0' },
    { path: ['routes', 0, 'rewrite'], message: 'must be a string or null, got 5' },
  ]);
});

t.test('a wrong type silences other complaints at the same path; no duplicates', async (t) => {
  const doc = { ...valid(), server: { port: 1.5, viaName: 7, somethingElse: 1 } };
  const problems = schemaProblems(validateSchema(doc), doc).sort((a, b) => (a.path[1]! < b.path[1]! ? -1 : 1));
  t.same(problems, [
    { path: ['server', 'port'], message: 'must be an integer, got 1.5' },
    { path: ['server', 'somethingElse'], message: 'unknown key "somethingElse"' },
    { path: ['server', 'viaName'], message: 'must be a string, got 7' },
  ]);
});

t.test('keys with odd characters and array-like keys stay keys', async (t) => {
  const doc = { ...valid(), server: { '0': 1 } };
  t.same(schemaProblems(validateSchema(doc), doc), [{ path: ['server', '0'], message: 'unknown key "0"' }]);
});

t.test('every pattern in the schema has a description for its error message', async (t) => {
  const missing: string[] = [];
  const walk = (node: unknown, at: string): void => {
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.pattern === 'string' && typeof o.description !== 'string') missing.push(at);
    for (const [k, v] of Object.entries(o)) walk(v, `${at}/${k}`);
  };
  walk(configSchema, '');
  t.same(missing, []);
});
