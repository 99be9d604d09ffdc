// The commands that write into an existing mirror from the command line (mirror, scrub, verify,
// manifest rebuild) take the lock the nightly backup takes on its disk (src/backup/lock.ts,
// withMirrorLock): a manual run while the timer's backup holds it is refused as busy, with the
// holder named, before anything is read or written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { homeLab } from './helpers/cli.js';
import { backupFixture, fastTempDir as tempDir, type FileSpec } from './helpers/manifest-fixture.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { LOCK_FILE } from '../src/backup/lock.js';
import { manifestPath } from '../src/manifest/store.js';

const spec: FileSpec[] = [
  ['a/one', 'one'.repeat(100)],
  ['b/two', 'two'],
];

/** A lock as a running backup leaves it: this test process is alive, on this host, started now. */
function holdLock(root: string): string {
  const file = path.join(root, LOCK_FILE);
  fs.writeFileSync(file, JSON.stringify({ pid: process.pid, hostname: os.hostname(), startedAtMs: Date.now() - 1000, command: 'backup' }) + '\n');
  return file;
}

/** Every file under dir (the lock aside) with its bytes and mtime: what "nothing was changed" means. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    if (rel === LOCK_FILE) continue;
    const st = fs.lstatSync(path.join(dir, rel), { bigint: true });
    out.set(rel, st.isFile() ? `${fs.readFileSync(path.join(dir, rel)).toString('hex')} ${st.mtimeNs}` : `${st.mode}`);
  }
  return out;
}

test('scrub, verify and manifest rebuild are busy while a backup holds the lock, and run once it is gone', (t) => {
  const { backup } = backupFixture(t, spec);
  const lock = holdLock(backup);
  const before = snapshot(backup);
  for (const args of [['scrub', '--percent', '100'], ['verify'], ['manifest', 'rebuild', '--force']]) {
    const r = homeLab([...args, backup]);
    assert.equal(r.code, ExitCode.busy, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`holds the lock on this disk: pid ${process.pid} on .*\\(home-lab backup\\)`));
    assert.ok(r.stderr.includes(lock), r.stderr);
  }
  assert.deepEqual(snapshot(backup), before, 'nothing was read into the manifest or changed');
  assert.ok(fs.existsSync(lock), "the holder's lock is left alone");

  fs.unlinkSync(lock);
  const ok = homeLab(['verify', backup]);
  assert.equal(ok.code, ExitCode.ok, ok.stderr);
  assert.equal(fs.existsSync(lock), false, 'verify released its lock');
});

test('mirror into an existing mirror is busy while the lock is held; a dry run and a first mirror need no lock', (t) => {
  const dir = tempDir(t);
  const src = path.join(dir, 'src');
  const dst = path.join(dir, 'dst');
  fs.mkdirSync(path.join(src, 'a'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a', 'f'), 'first');

  const first = homeLab(['mirror', '--no-progress', src, dst]);
  assert.equal(first.code, ExitCode.ok, first.stderr);
  assert.ok(fs.existsSync(manifestPath(dst)));
  assert.equal(fs.existsSync(path.join(dst, LOCK_FILE)), false, 'no lock left behind');

  fs.writeFileSync(path.join(src, 'a', 'f'), 'second, longer');
  const lock = holdLock(dst);
  const before = snapshot(dst);
  const busy = homeLab(['mirror', '--no-progress', src, dst]);
  assert.equal(busy.code, ExitCode.busy, busy.stderr);
  assert.match(busy.stderr, /another home-lab run holds the lock on this disk/);
  assert.deepEqual(snapshot(dst), before, 'nothing was copied');

  const dry = homeLab(['mirror', '--dry-run', src, dst]);
  assert.equal(dry.code, ExitCode.ok, dry.stderr);
  assert.match(dry.stdout, /a\/f/);

  fs.unlinkSync(lock);
  const second = homeLab(['mirror', '--no-progress', src, dst]);
  assert.equal(second.code, ExitCode.ok, second.stderr);
  assert.equal(fs.readFileSync(path.join(dst, 'a', 'f'), 'utf8'), 'second, longer');
  assert.equal(fs.existsSync(path.join(dst, LOCK_FILE)), false);
});

test('a mistyped TARGET gets no .home-lab/ created for a lock', (t) => {
  const dir = tempDir(t);
  const r = homeLab(['verify', dir]);
  assert.notEqual(r.code, ExitCode.ok);
  assert.equal(fs.existsSync(path.join(dir, '.home-lab')), false, r.stderr);
});
