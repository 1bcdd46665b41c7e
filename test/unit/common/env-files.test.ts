import t from 'tap';
import { loadEnvFiles, UsageError } from '../../../src/common/index.js';

t.test('.env then .env.NAME over it; the process environment wins over both', async (t) => {
  const dir = t.testdir({ '.env': 'A=base\nB=base\nC=base\n', '.env.prod': '# prod\nB=prod\nC=prod\n' });
  const target: Record<string, string | undefined> = { C: 'process' };
  const r = loadEnvFiles(dir, 'prod', target);
  t.same(target, { A: 'base', B: 'prod', C: 'process' });
  t.equal(r.files.length, 2);
});

t.test('no name: only .env; a missing .env is fine', async (t) => {
  const target: Record<string, string | undefined> = {};
  t.same(loadEnvFiles(t.testdir({}), undefined, target).files, []);
  t.same(target, {});
});

t.test('unknown environment, bad name and malformed lines are usage errors', async (t) => {
  const dir = t.testdir({ '.env': 'A=1\n', '.env.bad': 'A=1\nthis is not a pair\n' });
  t.throws(() => loadEnvFiles(dir, 'staging', {}), UsageError);
  t.throws(() => loadEnvFiles(dir, 'staging', {}), /unknown environment "staging"/);
  t.throws(() => loadEnvFiles(dir, '../etc', {}), /invalid environment name/);
  t.throws(() => loadEnvFiles(dir, 'bad', {}), /\.env\.bad:2: expected KEY=VALUE/);
  const target: Record<string, string | undefined> = {};
  t.throws(() => loadEnvFiles(dir, 'bad', target));
  t.same(target, {}, 'nothing is applied when a file is bad');
});

t.test('quoted values load (over indented lines too); an unterminated quote is an error naming its line', async (t) => {
  const dir = t.testdir({
    '.env': 'A="one"\nB=\'two words\'\nC="line one\n  line two"\nD="say \\"hi\\""\nE=plain # comment\nF=\'C:\\\'\n',
    '.env.bad': 'A=1\nKEY="unterminated\nB=2\n',
    '.env.bad2': "A='open\n",
  });
  const target: Record<string, string | undefined> = {};
  loadEnvFiles(dir, undefined, target);
  t.same(target, { A: 'one', B: 'two words', C: 'line one\n  line two', D: 'say \\"hi\\"', E: 'plain', F: 'C:\\' }, 'indented continuation lines and a backslash in single quotes load');
  t.throws(() => loadEnvFiles(dir, 'bad', {}), /\.env\.bad:2: unterminated " quote in "KEY="unterminated"/);
  t.throws(() => loadEnvFiles(dir, 'bad2', {}), /\.env\.bad2:1: unterminated ' quote/);
});
