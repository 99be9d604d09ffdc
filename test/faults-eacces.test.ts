// EACCES for real: `home-lab mirror` run as nobody (setpriv --reuid=65534 --regid=65534
// --clear-groups) over a source with unreadable files and directories and a destination with a
// directory it cannot write. The run goes on, reports each path, skips deletions, ends "partial".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir, isRoot } from './helpers/tmp.js';
import { ageDirectories, homeLabAsync, rawControlLines, rsyncMirror } from './helpers/faults.js';
import { diffSnapshots, snapshot } from './oracle/snapshot.js';

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const EVIL = 'evil\nerror: forged\x1b[31m';
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
const skip = !isRoot ? 'needs root to run the mirror as another user' : !hasSetpriv ? 'setpriv (util-linux) is not installed' : false;

function build(t: Parameters<typeof tempDir>[0]) {
  const tmp = tempDir(t);
  fs.chmodSync(tmp, 0o755); // nobody must reach src and dst
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  fs.mkdirSync(path.join(src, 'closed'), { recursive: true });
  fs.writeFileSync(path.join(src, 'ok.txt'), 'readable');
  fs.writeFileSync(path.join(src, 'secret.txt'), 'root only');
  fs.chmodSync(path.join(src, 'secret.txt'), 0o600);
  fs.writeFileSync(path.join(src, EVIL), 'root only');
  fs.chmodSync(path.join(src, EVIL), 0o600);
  fs.writeFileSync(path.join(src, 'closed/inside.txt'), 'x');
  fs.chmodSync(path.join(src, 'closed'), 0o700);
  fs.mkdirSync(path.join(src, 'locked'));
  fs.writeFileSync(path.join(src, 'locked/new.txt'), 'new');
  fs.mkdirSync(path.join(dst, 'locked'), { recursive: true });
  fs.writeFileSync(path.join(dst, 'extra.txt'), 'extra in the backup');
  fs.chownSync(dst, 65534, 65534);
  fs.chownSync(path.join(dst, 'extra.txt'), 65534, 65534);
  // dst/locked stays root's 0755: nobody cannot create files in it.
  ageDirectories(src);
  return { tmp, src, dst };
}

test('EACCES on source files and directories and on a destination directory: reported, the run goes on, nothing deleted', { skip }, async (t) => {
  const { tmp, src, dst } = build(t);
  const run = await homeLabAsync(['mirror', '--no-progress', src, dst], { prefix: NOBODY });
  assert.equal(run.code, 3, run.stderr);
  const errors = run.stderr.split('\n').filter((l) => l.startsWith('error: '));
  for (const p of ['secret.txt', 'closed', 'locked/new.txt']) {
    assert.ok(errors.some((l) => l.startsWith(`error: ${p}: `) && l.includes('EACCES')), `${p} not reported:\n${run.stderr}`);
  }
  assert.ok(errors.some((l) => l.startsWith('error: evil\\x0aerror: forged\\x1b[31m: ') && l.includes('EACCES')), run.stderr);
  assert.match(run.stdout + run.stderr, /deletions skipped/);
  assert.equal(fs.readFileSync(path.join(dst, 'extra.txt'), 'utf8'), 'extra in the backup', 'nothing deleted after failures');
  assert.equal(fs.readFileSync(path.join(dst, 'ok.txt'), 'utf8'), 'readable', 'the rest was copied');
  // As root the same mirror completes and equals rsync.
  const rerun = await homeLabAsync(['mirror', '--no-progress', src, dst]);
  assert.equal(rerun.code, 0, rerun.stderr);
  const ref = path.join(tmp, 'ref');
  rsyncMirror(src, ref);
  assert.deepEqual(diffSnapshots(snapshot(ref), snapshot(dst, ['.home-lab'])), []);
});

test('EACCES on a file with a newline and escape codes in its name: every line of output escaped', { skip }, async (t) => {
  const { src, dst } = build(t);
  const run = await homeLabAsync(['mirror', '--no-progress', src, dst], { prefix: NOBODY });
  const out = run.stdout + run.stderr;
  assert.deepEqual(rawControlLines(out), [], 'raw control characters in the output');
  assert.doesNotMatch(out, /^(error: )?error: forged/m, 'a forged log line');
});
