/**
 * Config of request hardening, CORS and security headers: defaults in the snapshot, and
 * every bad value reported as `line: key.path: reason` (schema and semantic checks).
 */
import t from 'tap';
import { originProblem } from '../../../../src/control/config/security-checks.js';
import { DEFAULT_SECURITY_HEADERS } from '../../../../src/ipc/index.js';
import { brief, loadYaml, problemsOf, snapshotOf, withRoutes } from './helpers.js';

t.test('defaults: methods allowlist, no per-IP limit, safe headers; route keys only when written', async (t) => {
  const snap = snapshotOf(await loadYaml(t, withRoutes('  - { id: a, path: /a, service: svc }')));
  t.same(snap.server.methods, ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
  t.equal(snap.server.limits.maxConnectionsPerIp, 0);
  t.same(snap.server.securityHeaders, {
    hsts: false,
    contentTypeOptions: true,
    frameOptions: 'DENY',
    contentSecurityPolicy: null,
    referrerPolicy: null,
    hideServerHeaders: true,
    removeResponseHeaders: [],
  });
  t.same(snap.server.securityHeaders, DEFAULT_SECURITY_HEADERS, 'the same defaults hand-built snapshots fall back to');
  const route = snap.routes[0]!;
  t.notOk('cors' in route || 'limits' in route || 'securityHeaders' in route, 'absent unless configured');
});

t.test('route cors, limits and header overrides reach the snapshot normalized', async (t) => {
  const yaml = withRoutes(
    `  - id: a
    path: /a
    service: svc
    limits: { maxBodyBytes: 1024, maxUrlBytes: 512 }
    cors:
      origins: ["https://app.example.com", "https://*.example.org"]
      headers: [Content-Type, X-Api-Key]
      credentials: true
    securityHeaders: { hsts: { maxAgeSeconds: 60 }, frameOptions: false, removeResponseHeaders: [X-Debug] }`,
    `server:
  limits: { maxConnectionsPerIp: 64 }
  securityHeaders: { hsts: { includeSubDomains: true }, referrerPolicy: no-referrer }`,
  );
  const snap = snapshotOf(await loadYaml(t, yaml));
  t.equal(snap.server.limits.maxConnectionsPerIp, 64);
  t.same(snap.server.securityHeaders!.hsts, { maxAgeSeconds: 31_536_000, includeSubDomains: true, preload: false }, 'HSTS defaults filled');
  t.equal(snap.server.securityHeaders!.referrerPolicy, 'no-referrer');
  const r = snap.routes[0]!;
  t.same(r.limits, { maxBodyBytes: 1024, maxUrlBytes: 512 });
  t.same(r.cors, {
    origins: ['https://app.example.com', 'https://*.example.org'],
    methods: ['GET', 'HEAD', 'POST'],
    headers: ['content-type', 'x-api-key'],
    exposeHeaders: [],
    credentials: true,
    maxAgeSeconds: 600,
  });
  t.same(r.securityHeaders, {
    hsts: { maxAgeSeconds: 60, includeSubDomains: false, preload: false },
    frameOptions: false,
    removeResponseHeaders: ['x-debug'],
  });
});

t.test('bad hardening/CORS/header config: every problem, with line and key path', async (t) => {
  const yaml = `server:
  methods: [GET, CONNECT]
  securityHeaders: { removeResponseHeaders: [Content-Length, x-ok] }
services:
  - { name: s, instances: [{ url: "http://a" }] }
routes:
  - id: a
    path: /a
    service: s
    methods: [POST]
    limits: { maxUrlBytes: 99999, maxBodyBytes: 10 }
    cors: { origins: ["*", "https://App.example.com"], credentials: true, headers: ["*"] }
  - id: b
    path: /b
    service: s
    cors: { origins: ["https://*.example.com/", "ftp://x", "https://ok.example:99999", "http://[::1]:8080"] }
    securityHeaders: { hsts: true }
`;
  t.same(brief(problemsOf(await loadYaml(t, yaml))), [
    { line: 2, path: 'server.methods[1]', message: 'CONNECT (tunnelling) is not supported by the gateway' },
    { line: 3, path: 'server.securityHeaders.removeResponseHeaders[0]', message: '"Content-Length" cannot be removed (the gateway manages it)' },
    { line: 10, path: 'routes[0].methods[0]', message: '"POST" is not in server.methods (GET, CONNECT), so no request could use it' },
    { line: 11, path: 'routes[0].limits.maxUrlBytes', message: '99999 is above server.limits.maxUrlBytes (8192); a route limit can only be stricter' },
    { line: 12, path: 'routes[0].cors', message: 'needs OPTIONS in server.methods: browsers send CORS preflights as OPTIONS requests' },
    { line: 12, path: 'routes[0].cors.credentials', message: 'cannot be true with origins ["*"] (browsers refuse credentialed wildcard answers); list the origins' },
    { line: 12, path: 'routes[0].cors.headers[0]', message: '"*" cannot be used with credentials: true (browsers read it literally); list the headers' },
    { line: 12, path: 'routes[0].cors.origins[0]', message: '"*" must be the only origin' },
    { line: 12, path: 'routes[0].cors.origins[1]', message: '"https://App.example.com" must be lower case (browsers send origins in lower case)' },
    { line: 16, path: 'routes[1].cors', message: 'needs OPTIONS in server.methods: browsers send CORS preflights as OPTIONS requests' },
    { line: 16, path: 'routes[1].cors.origins[0]', message: '"https://*.example.com/": an origin has no path (drop everything from the first "/" after the host)' },
    { line: 16, path: 'routes[1].cors.origins[1]', message: '"ftp://x" is not an origin (expected "https://app.example.com", "https://*.example.com" or "*")' },
    { line: 16, path: 'routes[1].cors.origins[2]', message: '"https://ok.example:99999": port must be 1..65535' },
    { line: 17, path: 'routes[1].securityHeaders.hsts', message: 'must be false or a mapping such as { maxAgeSeconds: 31536000 }, got true' },
  ]);
});

t.test('schema problems: types, enums, header names and values, unknown keys', async (t) => {
  const yaml = withRoutes(
    `  - id: a
    path: /a
    service: svc
    cors: { methods: [get], exposeHeaders: ["bad name"] }
    securityHeaders: { frameOptions: ALLOW, hsts: { maxAge: 1 }, contentSecurityPolicy: "a\\nb", referrerPolicy: never }
    limits: { maxBodyBytes: 0, maxHeadrCount: 3 }`,
    `server:
  methods: []
  limits: { maxConnectionsPerIp: -1 }`,
  );
  t.same(brief(problemsOf(await loadYaml(t, yaml))), [
    { line: 9, path: 'routes[0].cors.exposeHeaders[0]', message: `must be a header name (letters, digits and !#$%&'*+.^_\`|~-), got "bad name"` },
    { line: 9, path: 'routes[0].cors.methods[0]', message: 'must be an upper-case method token such as GET, got "get"' },
    { line: 9, path: 'routes[0].cors.origins', message: 'is required' },
    { line: 10, path: 'routes[0].securityHeaders.contentSecurityPolicy', message: `must be printable ASCII, e.g. "frame-ancestors 'none'", got "a\\nb"` },
    { line: 10, path: 'routes[0].securityHeaders.frameOptions', message: 'must be one of "DENY", "SAMEORIGIN", false, got "ALLOW"' },
    { line: 10, path: 'routes[0].securityHeaders.hsts.maxAge', message: 'unknown key "maxAge"' },
    { line: 10, path: 'routes[0].securityHeaders.referrerPolicy', message: 'must be one of null, "no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin", "same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url", got "never"' },
    { line: 11, path: 'routes[0].limits.maxBodyBytes', message: 'must be >= 1, got 0' },
    { line: 11, path: 'routes[0].limits.maxHeadrCount', message: 'unknown key "maxHeadrCount"; did you mean "maxHeaderCount"?' },
    { line: 13, path: 'server.methods', message: 'must not be empty' },
    { line: 14, path: 'server.limits.maxConnectionsPerIp', message: 'must be >= 0, got -1' },
  ]);
});

t.test('origin grammar', async (t) => {
  for (const ok of ['*', 'https://app.example.com', 'http://localhost:3000', 'https://*.example.com', 'http://[::1]:8080', 'http://10.0.0.1']) {
    t.equal(originProblem(ok), null, ok);
  }
  for (const bad of ['https://', 'app.example.com', 'https://a.example.com/', 'https://*example.com', 'https://a.*.example.com', 'https://ex ample.com', 'null']) {
    t.type(originProblem(bad), 'string', bad);
  }
});

t.test('ipRestriction: lists reach the snapshot, empty ones are left out, every bad entry is reported', async (t) => {
  const ok = withRoutes(
    `  - id: a
    path: /a
    service: svc
    ipRestriction: { allow: [10.0.0.0/8, "2001:db8::/32", 192.0.2.7] }
  - id: b
    path: /b
    service: svc
    ipRestriction: { allow: [], deny: [] }
  - { id: c, path: /c, service: svc }`,
    `server:
  ipRestriction: { deny: [198.51.100.0/24] }`,
  );
  const snap = snapshotOf(await loadYaml(t, ok));
  t.same(snap.server.ipRestriction, { allow: [], deny: ['198.51.100.0/24'] });
  t.same(snap.routes[0]!.ipRestriction, { allow: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'], deny: [] });
  t.notOk('ipRestriction' in snap.routes[1]!, 'two empty lists check nothing: left out');
  t.notOk('ipRestriction' in snap.routes[2]!);
  const none = snapshotOf(await loadYaml(t, withRoutes('  - { id: a, path: /a, service: svc }')));
  t.notOk('ipRestriction' in none.server, 'absent unless configured');

  const badEntries = withRoutes(
    `  - id: a
    path: /a
    service: svc
    ipRestriction: { allow: [10.0.0.0/33, example.com, 10.0.0.0/8, "::ffff:10.0.0.0/8", "::ffff:10.0.0.0/104"], deny: ["fe80::1%eth0"] }`,
    `server:
  ipRestriction: { deny: [300.1.1.1] }`,
  );
  t.same(brief(problemsOf(await loadYaml(t, badEntries))), [
    { line: 9, path: 'routes[0].ipRestriction.allow[0]', message: '"10.0.0.0/33": prefix length must be 0..32' },
    { line: 9, path: 'routes[0].ipRestriction.allow[1]', message: '"example.com" is not an IP address or CIDR (like 10.0.0.0/8 or fd00::/8)' },
    { line: 9, path: 'routes[0].ipRestriction.allow[3]', message: '"::ffff:10.0.0.0/8": below /96 an IPv4-mapped range covers every IPv4 address; write the IPv4 range instead (like 10.0.0.0/8)' },
    { line: 9, path: 'routes[0].ipRestriction.deny[0]', message: '"fe80::1%eth0" is not an IP address or CIDR (like 10.0.0.0/8 or fd00::/8)' },
    { line: 11, path: 'server.ipRestriction.deny[0]', message: '"300.1.1.1" is not an IP address or CIDR (like 10.0.0.0/8 or fd00::/8)' },
  ]);
  const badShape = withRoutes(
    `  - id: a
    path: /a
    service: svc
    ipRestriction: { allow: [10.0.0.1, 10.0.0.1], block: [] }`,
  );
  t.same(brief(problemsOf(await loadYaml(t, badShape))), [
    { line: 9, path: 'routes[0].ipRestriction.allow[1]', message: '"10.0.0.1" repeats item 0' },
    { line: 9, path: 'routes[0].ipRestriction.block', message: 'unknown key "block"' },
  ]);
  // A list of the wrong shape is the schema's to report, and the checks after it still run.
  const nulled = withRoutes(`  - { id: a, path: /a, service: svc, ipRestriction: null }
  - { id: b, path: /b, service: svc, ipRestriction: { allow: 10.0.0.0/8 } }
  - { id: c, path: /c, service: nosuch }`);
  t.same(brief(problemsOf(await loadYaml(t, nulled))), [
    { line: 6, path: 'routes[0].ipRestriction', message: 'must be a mapping, got null' },
    { line: 7, path: 'routes[1].ipRestriction.allow', message: 'must be a list, got "10.0.0.0/8"' },
    { line: 8, path: 'routes[2].service', message: 'unknown service "nosuch" (defined: svc)' },
  ]);
});
