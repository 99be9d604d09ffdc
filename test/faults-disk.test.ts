// The backup disk misbehaving under a real `home-lab mirror`: full (a size-limited tmpfs), full just
// when the manifest is written, and pulled away mid-run (lazy umount). Needs root to mount.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tempDir, isRoot } from './helpers/tmp.js';
import { mountTmpfs } from './helpers/mount.js';
import { ageDirectories, contentMap, homeLabAsync, isTempName, rsyncMirror } from './helpers/faults.js';
import { diffSnapshots, snapshot } from './oracle/snapshot.js';
import { runScrub } from '../src/scrub/run.js';
import { outcomeOf } from '../src/scrub/report.js';
import { mirror } from '../src/engine/mirror.js';
import { FatalError } from '../src/errors.js';

const skip = isRoot ? false : 'needs root to mount a size-limited tmpfs';

function fill(dir: string, files: number, sizeBytes: number, prefix = 'f'): void {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < files; i++) {
    const data = Buffer.alloc(sizeBytes);
    for (let o = 0; o + 8 <= sizeBytes; o += 4096) data.writeDoubleLE(Math.random(), o);
    fs.writeFileSync(path.join(dir, `${prefix}${String(i).padStart(3, '0')}`), data);
  }
}

/** Every file under a real name in dst equals the source's: a full disk never leaves a partial one. */
function noPartialFiles(src: string, dst: string): string[] {
  const want = contentMap(src);
  return [...contentMap(dst, ['.home-lab'])].filter(([rel, sha]) => isTempName(rel) || want.get(rel) !== sha).map(([rel]) => rel);
}

/** The manifest agrees with the files: every row's hash matches, no file is missing a row. */
async function manifestConsistent(dst: string): Promise<string> {
  const r = await runScrub({ target: dst, mode: 'verify', chown: false });
  return outcomeOf(r) === 'ok' ? 'ok' : JSON.stringify(r.counts);
}

test('disk full mid-copy: a clear error per file, no partial files, manifest consistent, a rerun after freeing space converges', { skip }, async (t) => {
  const src = path.join(tempDir(t), 'src');
  fill(src, 6, 700_000);
  fill(path.join(src, 'd'), 10, 3000, 's');
  ageDirectories(src);
  const dst = mountTmpfs(t, '3m');
  const run = await homeLabAsync(['mirror', '--no-progress', src, dst]);
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /ENOSPC/);
  assert.match(run.stdout, /path\(s\) failed/);
  assert.deepEqual(noPartialFiles(src, dst), [], 'a file under its real name is whole');
  assert.equal(await manifestConsistent(dst), 'ok');
  execFileSync('mount', ['-o', 'remount,size=16m', dst]);
  const rerun = await homeLabAsync(['mirror', '--no-progress', src, dst]);
  assert.equal(rerun.code, 0, rerun.stderr);
  const ref = path.join(tempDir(t), 'ref');
  rsyncMirror(src, ref);
  assert.deepEqual(diffSnapshots(snapshot(ref), snapshot(dst, ['.home-lab', 'lost+found'])), []);
  assert.equal(await manifestConsistent(dst), 'ok');
});

test('disk full when the manifest is written: files whole, the manifest never lies, a rerun converges', { skip }, async (t) => {
  const src = path.join(tempDir(t), 'src');
  fill(src, 200, 4000);
  const disk = mountTmpfs(t, '3m');
  const dst = path.join(disk, 'm');
  // Leave room for the data but not for the manifest's rows (tmpfs counts 4 KiB pages).
  fs.writeFileSync(path.join(disk, 'filler'), Buffer.alloc(3 * 1024 * 1024 - 200 * 4096 - 12 * 1024));
  const run = await homeLabAsync(['mirror', '--no-progress', src, dst]);
  assert.notEqual(run.code, 0);
  assert.deepEqual(noPartialFiles(src, dst), []);
  // Rows are written in one transaction: none or all. Files without rows are rehashed by the rerun.
  const r = await runScrub({ target: dst, mode: 'verify', chown: false });
  assert.equal(r.counts.corrupt + r.counts.missing, 0, JSON.stringify(r.counts));
  fs.rmSync(path.join(disk, 'filler'));
  const rerun = await homeLabAsync(['mirror', '--no-progress', src, dst]);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.deepEqual(noPartialFiles(src, dst), []);
  assert.equal(contentMap(dst, ['.home-lab']).size, 200);
  assert.equal(await manifestConsistent(dst), 'ok');
});

test('disk full when the manifest is written: one clear error, not an internal error', { skip }, async (t) => {
  const src = path.join(tempDir(t), 'src');
  fill(src, 200, 4000);
  const disk = mountTmpfs(t, '3m');
  fs.writeFileSync(path.join(disk, 'filler'), Buffer.alloc(3 * 1024 * 1024 - 200 * 4096 - 12 * 1024));
  const run = await homeLabAsync(['mirror', '--no-progress', src, path.join(disk, 'm')]);
  assert.doesNotMatch(run.stderr, /internal error|\n\s+at /);
  assert.match(run.stderr, /full|ENOSPC|no space/i);
});

// The disk is pulled when the fifth copy is reported; what is left must take longer than the umount
// (the copies of 180 files of 40 KB could all be done by then: 36 MB are left here).
const PULL_AT_LINE = 5;
const fillPulled = (src: string) => {
  for (let d = 0; d < 12; d++) fill(path.join(src, `d${d}`), 15, 200_000);
};

test('backup disk unmounted mid-run (lazy umount): the run fails, nothing lands on the filesystem below', { skip }, async (t) => {
  const src = path.join(tempDir(t), 'src');
  fillPulled(src);
  const disk = mountTmpfs(t, '64m');
  const run = await homeLabAsync(['mirror', '-i', '--no-progress', src, disk], {
    onLine: (line, n) => {
      // After the first copies, pull the disk away (umount -l detaches it, like a yanked USB disk).
      if (n === PULL_AT_LINE) execFileSync('umount', ['-l', disk]);
      void line;
    },
  });
  assert.notEqual(run.code, 0, 'the run must not report success');
  assert.equal(run.killed, false);
  // The mount point is now the bare directory on the parent filesystem: nothing may be written there.
  assert.deepEqual(fs.readdirSync(disk), [], 'files landed on the filesystem under the mount point');
  // Put a fresh disk back: a rerun converges.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', disk]);
  const rerun = await homeLabAsync(['mirror', '--no-progress', src, disk]);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.equal(await manifestConsistent(disk), 'ok');
});

test('backup disk unmounted mid-run: the run stops with one clear error that says the disk went away', { skip }, async (t) => {
  const src = path.join(tempDir(t), 'src');
  fillPulled(src);
  const disk = mountTmpfs(t, '64m');
  const run = await homeLabAsync(['mirror', '-i', '--no-progress', src, disk], {
    onLine: (_line, n) => void (n === PULL_AT_LINE && execFileSync('umount', ['-l', disk])),
  });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]); // so the after-hook's umount has one to undo
  assert.equal(run.code, 1, 'fatal');
  assert.ok(run.stderr.split('\n').filter((l) => l.startsWith('error: ')).length <= 3, `too many lines: ${run.stderr.split('\n').length}`);
  assert.match(run.stderr, /unmounted|vanished|went away|no longer/i);
});

test('backup disk pulled after the last copy, before the flush: fatal, and the manifest is not committed', { skip }, async (t) => {
  const src = path.join(tempDir(t), 'src');
  fill(path.join(src, 'd'), 20, 5000);
  const disk = mountTmpfs(t, '16m');
  let pulled = false;
  const events: string[] = [];
  await assert.rejects(
    mirror({
      src, dst: disk, excludes: [], checksum: false, dryRun: false, jobs: 2, deletionLimits: { allow: true },
      onEvent: (e) => {
        events.push(e.kind);
        // The last progress event comes once every copy is done: pull the disk there (umount -l
        // keeps the filesystem alive for the run's open manifest, as a yanked USB disk's would be).
        if (e.kind === 'progress' && !pulled && e.filesDone === 20) {
          pulled = true;
          execFileSync('umount', ['-l', disk]);
        }
      },
    }),
    (error: Error) => error instanceof FatalError && /went away/.test(error.message) && /manifest was not updated/.test(error.message),
  );
  assert.ok(pulled, `the disk was pulled (events: ${events.join(',')})`);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]); // so the after-hook's umount has one to undo
});
