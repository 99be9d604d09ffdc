// The scrub, verify and manifest commands as users run them: the built CLI (npm test builds first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { backupFixture, fastTempDir as tempDir, flipByte, manifestFor, writeTree, type FileSpec } from './helpers/manifest-fixture.js';
import { mountTmpfs } from './helpers/mount.js';
import { isRoot } from './helpers/tmp.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { manifestPath } from '../src/manifest/store.js';

const cliPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/src/cli/main.js');

function homeLab(args: string[], options: SpawnSyncOptions & { asNobody?: boolean } = {}) {
  if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
  const argv = [process.execPath, cliPath, ...args];
  // Root reads any file: drop to nobody for the command that must meet an unreadable file.
  const [cmd, ...rest] = options.asNobody && isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv] : argv;
  const r = spawnSync(cmd as string, rest, { encoding: 'utf8', timeout: 120_000, ...options });
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const spec: FileSpec[] = [
  ['a/one', 'one'.repeat(100)],
  ['a/two', 'two'.repeat(100)],
  ['b/three', 'three'],
  ['new\nline', 'escaped in output'],
];

function fixture(t: Parameters<typeof tempDir>[0]) {
  return backupFixture(t, spec);
}

test('scrub: clean exits 0; a flipped byte exits "findings" naming the escaped path; --json has everything', (t) => {
  const { backup } = fixture(t);
  const ok = homeLab(['scrub', '--percent', '100', backup]);
  assert.equal(ok.code, ExitCode.ok, ok.stderr);
  assert.match(ok.stdout, /checked 4 of 4 files/);
  assert.match(ok.stdout, /coverage: 100\.0 % of 4 files verified in the last 100 days; oldest verification .* ago; 0 never verified/);

  flipByte(path.join(backup, 'new\nline'), 0);
  const bad = homeLab(['scrub', '--percent', '100', backup]);
  assert.equal(bad.code, ExitCode.findings, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /CORRUPT: new\\x0aline: content hash/);

  const json = homeLab(['verify', '--json', backup]);
  assert.equal(json.code, ExitCode.findings);
  const report = JSON.parse(json.stdout) as Record<string, unknown> & { findings: { kind: string; path: string }[]; counts: Record<string, number>; coverage: Record<string, number> };
  assert.equal(report.outcome, 'findings');
  assert.deepEqual(report.findings.map((f) => [f.kind, f.path]), [['corrupt', 'new\\x0aline']]);
  assert.equal(report.counts.ok, 3);
  assert.equal(report.filesChecked, 4);
  assert.equal(report.coverage.neverVerified, 0);
  assert.equal(typeof report.throughputBytesPerSec, 'number');
});

test('scrub --source repairs and exits "repaired"; then verify exits 0', (t) => {
  const { backup, source } = fixture(t);
  flipByte(path.join(backup, 'a/two'), 10);
  const r = homeLab(['scrub', '--percent', '100', '--source', source, backup]);
  assert.equal(r.code, ExitCode.repaired, r.stdout + r.stderr);
  assert.match(r.stdout, /repaired: a\/two/);
  const v = homeLab(['verify', backup]);
  assert.equal(v.code, ExitCode.ok, v.stdout);
});

test('an unreadable backup file is a finding, found by an unprivileged scrub', (t) => {
  const { dir, backup } = fixture(t);
  if (isRoot) {
    for (const p of [dir, ...fs.readdirSync(dir, { recursive: true }).map((p) => path.join(dir, String(p)))]) fs.lchownSync(p, 65534, 65534);
  }
  fs.chmodSync(path.join(backup, 'b/three'), 0o000);
  const r = homeLab(['scrub', '--percent', '100', backup], { asNobody: true });
  assert.equal(r.code, ExitCode.findings, r.stdout + r.stderr);
  assert.match(r.stdout, /CORRUPT: b\/three: unreadable: EACCES/);
});

test('a missing or garbage manifest: exit "fatal" and the message names the file', (t) => {
  const dir = tempDir(t);
  for (const command of [['scrub'], ['manifest', 'export']]) {
    const r = homeLab([...command, dir]);
    assert.equal(r.code, ExitCode.fatal, `${command.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(manifestPath(dir)), r.stderr);
    assert.match(r.stderr, /manifest rebuild/);
  }
  fs.mkdirSync(path.join(dir, '.home-lab'));
  fs.writeFileSync(manifestPath(dir), Buffer.from('this is not an SQLite database, just random junk'.repeat(100)));
  for (const command of [['verify'], ['manifest', 'export']]) {
    const r = homeLab([...command, dir]);
    assert.equal(r.code, ExitCode.fatal, `${command.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(manifestPath(dir)) && /corrupt/.test(r.stderr), r.stderr);
  }
  const refused = homeLab(['manifest', 'rebuild', dir]);
  assert.equal(refused.code, ExitCode.refused, refused.stderr);
  assert.match(refused.stderr, /--force/);
  const forced = homeLab(['manifest', 'rebuild', '--force', dir]);
  assert.equal(forced.code, ExitCode.ok, forced.stderr);
  assert.match(forced.stdout, /corrupt manifest was kept as .*manifest\.db\.corrupt-/);
});

test('a backup disk mounted read-only: scrub and verify say so and how to fix it, never "corrupt"', { skip: isRoot ? false : 'needs root to mount a tmpfs read-only' }, (t) => {
  const disk = mountTmpfs(t, '16m');
  const backup = path.join(disk, 'backup');
  writeTree(backup, spec);
  manifestFor(backup, spec.map(([p]) => p));
  const before = fs.readFileSync(manifestPath(backup));
  spawnSync('mount', ['-o', 'remount,ro', disk]);
  for (const command of [['scrub', '--percent', '100'], ['verify']]) {
    const r = homeLab([...command, backup]);
    assert.equal(r.code, ExitCode.fatal, `${command.join(' ')}: ${r.stderr}`);
    // The lock, taken first, is the first write to fail: its path is in .home-lab/ beside the manifest.
    assert.ok(r.stderr.includes(path.dirname(manifestPath(backup))), r.stderr);
    assert.match(r.stderr, /read-only \(EROFS\).*remount it read-write/);
    assert.doesNotMatch(r.stderr, /corrupt|manifest rebuild/);
  }
  assert.deepEqual(fs.readFileSync(manifestPath(backup)), before);
});

test('bad options are usage errors', (t) => {
  const { backup } = fixture(t);
  // The parsers' edge cases are table-tested in scrub-select.test.ts; here: they reach the exit code.
  for (const args of [['--percent', '101'], ['--max-duration', 'soon']]) {
    const r = homeLab(['scrub', ...args, backup]);
    assert.equal(r.code, ExitCode.usage, `${args.join(' ')}: ${r.stderr}`);
  }
  const noSource = homeLab(['scrub', '--source', path.join(backup, 'nope'), backup]);
  assert.equal(noSource.code, ExitCode.fatal);
  assert.match(noSource.stderr, /nope/);
});

test('manifest export writes a file xxhsum -c accepts, or stdout', { skip: spawnSync('xxhsum', ['--version']).error ? 'xxhsum is not installed' : false }, (t) => {
  const { dir, backup } = fixture(t);
  const out = path.join(dir, 'XXH64SUMS');
  const r = homeLab(['manifest', 'export', backup, out]);
  assert.equal(r.code, ExitCode.ok, r.stderr);
  assert.match(r.stderr, /1 names contain a newline/);
  const check = spawnSync('xxhsum', ['-c', out], { cwd: backup, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const stdout = homeLab(['manifest', 'export', backup]);
  assert.equal(stdout.stdout, fs.readFileSync(out, 'utf8'));
});
