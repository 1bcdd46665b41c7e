#!/usr/bin/env node
/**
 * `npm start`: the example upstream plus the gateway on the embedded default config
 * (config/gateway.yaml, no Redis/MySQL/Consul), in the foreground. Ctrl+C stops both
 * (the gateway drains first). Extra arguments go to `gateway start` (e.g. `--env dev`).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const upstream = spawn(process.execPath, ['scripts/example-upstream.mjs'], { cwd: root, stdio: 'inherit' });
const gateway = spawn(process.execPath, ['dist/src/cli.js', 'start', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });

console.log('\n  try: curl -i http://127.0.0.1:8080/echo/hello?x=1');
console.log('       curl -i http://127.0.0.1:8080/users/42');
console.log('       curl -i http://127.0.0.1:8080/__gateway/ready\n');

// The terminal delivers Ctrl+C to the whole process group; SIGTERM (e.g. from a
// supervisor) only reaches us, so pass it on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => gateway.kill('SIGTERM'));
process.on('SIGHUP', () => gateway.kill('SIGHUP'));
gateway.on('exit', (code, signal) => {
  upstream.kill('SIGTERM');
  process.exitCode = code ?? (signal ? 1 : 0);
});
upstream.on('exit', (code) => {
  if (gateway.exitCode === null && code !== 0) {
    console.error('example upstream exited; is port 9000 in use? (set EXAMPLE_UPSTREAM_PORT)');
    gateway.kill('SIGTERM');
  }
});
