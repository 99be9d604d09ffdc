// The proof of the engine: the real `rsync -a --delete` and home-lab's mirror, on the same random
// trees and the same messy destinations, must produce identical trees (every attribute rsync -a keeps),
// never touch anything outside DST, and a second run must change nothing at all (same inodes, same
// ctimes). Many seeds per run; set HOME_LAB_ORACLE_SEEDS to try more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { mirror } from '../../src/engine/mirror.js';
import { ManifestStore } from '../../src/manifest/store.js';
import { hashFileSync } from '../../src/engine/hash.js';
import { joinPath } from '../../src/engine/bytes.js';
import { hlfs } from '../../src/native/hlfs.js';
import { tempDir, isRoot } from '../helpers/tmp.js';
import { generateTree, messUp, nightChanges } from './tree.js';
import { diffSnapshots, snapshot } from './snapshot.js';

const SEEDS = Number(process.env.HOME_LAB_ORACLE_SEEDS ?? 24);
const EXCLUDES = ['junk.excluded', '*.tmp-excluded'];

function rsync(src: string, dst: string): void {
  const r = spawnSync('rsync', ['-a', '--delete', ...EXCLUDES.flatMap((e) => ['--exclude', e]), `${src}/`, `${dst}/`], { encoding: 'utf8' });
  assert.equal(r.status, 0, `rsync failed: ${r.stderr}`);
}

// Odd seeds copy through the worker threads from the first file; even seeds copy their first files
// on the main thread, as a run with few changes does.
async function runMirror(src: string, dst: string, seed: number) {
  return mirror({ src, dst, excludes: EXCLUDES, checksum: false, dryRun: false, jobs: 2, deletionLimits: { allow: true }, inlineCopies: seed % 2 === 0 });
}

test(`home-lab mirror equals rsync -a --delete on ${SEEDS} random trees with messy destinations${isRoot ? '' : ' (not root: owners and devices not covered)'}`, async (t) => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const tmp = tempDir(t);
    const src = path.join(tmp, 'src');
    const viaRsync = path.join(tmp, 'rsync');
    const viaHomeLab = path.join(tmp, 'home-lab');
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(src);
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'sentinel'), 'must not change');
    generateTree(src, { seed, entries: 50 + (seed % 5) * 20 });
    messUp(src, viaRsync, seed, outside);
    messUp(src, viaHomeLab, seed, outside);
    const outsideBefore = snapshot(outside);

    rsync(src, viaRsync);
    const first = await runMirror(src, viaHomeLab, seed);
    assert.deepEqual(first.failed, [], `seed ${seed}: failures`);
    // The native walker listed every directory in the order the mirror visited them (odd names too).
    assert.equal(first.dirsListedOutOfOrder, 0, `seed ${seed}: directories listed outside the walk order`);

    const expected = snapshot(viaRsync);
    const actual = snapshot(viaHomeLab, ['.home-lab']);
    assert.deepEqual(diffSnapshots(expected, actual, 20, ['extra-with-junk', 'extra-with-junk/sub']), [], `seed ${seed}: trees differ`);
    assert.deepEqual(diffSnapshots(outsideBefore, snapshot(outside)), [], `seed ${seed}: something outside DST changed`);

    checkManifest(viaHomeLab, actual, seed);

    // A second run rewrites nothing: same inodes, same ctimes (not even a chmod or utimes).
    const second = await runMirror(src, viaHomeLab, seed);
    assert.equal(second.filesCopied, 0, `seed ${seed}: second run copied`);
    assert.equal(second.dirsListedOutOfOrder, 0, `seed ${seed}: second run listed outside the walk order`);
    assert.equal(second.otherCreated + second.filesDeleted + second.filesRehashed, 0, `seed ${seed}: second run changed`);
    const after = snapshot(viaHomeLab, ['.home-lab']);
    for (const [p, a] of actual) {
      const b = after.get(p);
      assert.ok(b, `seed ${seed}: ${p} vanished`);
      assert.equal(b.ino, a.ino, `seed ${seed}: ${p} was replaced on a no-op run`);
      assert.equal(b.ctimeNs, a.ctimeNs, `seed ${seed}: ${p} was touched on a no-op run`);
    }

    // A night later: files and directories gone, new and rewritten in SRC, a stray file and excluded
    // junk in both DSTs (directories whose names differ take the fast path with only those planned).
    nightChanges(src, [viaRsync, viaHomeLab], seed);
    rsync(src, viaRsync);
    const third = await runMirror(src, viaHomeLab, seed);
    assert.deepEqual(third.failed, [], `seed ${seed}: failures a night later`);
    const night = snapshot(viaHomeLab, ['.home-lab']);
    assert.deepEqual(diffSnapshots(snapshot(viaRsync), night, 20, ['extra-with-junk', 'extra-with-junk/sub']), [], `seed ${seed}: trees differ a night later`);
    checkManifest(viaHomeLab, night, seed);
  }
});

/** Every regular file the mirror keeps has a manifest row with its true hash and mtime, and no row more. */
function checkManifest(root: string, tree: ReturnType<typeof snapshot>, seed: number): void {
  const store = ManifestStore.open(root);
  try {
    const buffer = Buffer.alloc(1 << 20);
    let rows = 0;
    for (const row of store.iterate()) {
      rows++;
      const h = hashFileSync(joinPath(Buffer.from(root), row.path), buffer);
      assert.ok(h.ok, `seed ${seed}: row without file: ${row.path.toString()}`);
      assert.equal(h.hash, row.hash, `seed ${seed}: manifest hash`);
      assert.equal(h.mtimeNs, row.mtimeNs);
    }
    // Excluded files kept in DST are not part of the mirror, so not in its manifest.
    const files = [...tree].filter(([p, a]) => a.kind === 'file' && !/(^|\/)junk\.excluded$|\.tmp-excluded$/.test(p)).length;
    assert.equal(rows, files, `seed ${seed}: one row per mirrored regular file`);
  } finally {
    store.close();
  }
}

test('excluded directories at every depth (name, glob, dir-only, anchored, "**" patterns): home-lab equals rsync, and lists none of them', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  const excludes = ['cache/', '*.tmp-excluded', '/top/skip', 'deep/**/drop', 'node_modules'];
  const dirs = [
    'cache/x', 'a/cache/y', 'a/b/cache', 'a/b.tmp-excluded/c', 'top/skip/z', 'top/keep/skip', 'other/top/skip/w',
    'deep/1/2/drop/q', 'deep/drop', 'deep/1/keep', 'p/node_modules/m/n', 'p/q/r/s', 'a!/b', 'a b/c',
  ];
  for (const d of dirs) {
    fs.mkdirSync(path.join(src, d), { recursive: true });
    fs.writeFileSync(path.join(src, d, 'f'), d);
  }
  fs.writeFileSync(path.join(src, 'cache-file'), 'a file named like the dir-only pattern');
  fs.writeFileSync(path.join(src, 'p', 'q', 'cache'), 'a file "cache" is not excluded by "cache/"');
  // Times in the past (rsync keeps a directory's mtime only to the second when it falls in the
  // second rsync runs in), and every excluded directory an old atime: listing it would update that.
  const old = 946_684_800n * 1_000_000_000n;
  const past = 1_700_000_000_123_456_789n;
  const excludedDirs = ['cache', 'a/cache', 'a/b/cache', 'a/b.tmp-excluded', 'top/skip', 'deep/1/2/drop', 'p/node_modules'];
  const all = ['', ...dirs.flatMap((d) => d.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/')))];
  for (const d of new Set(all)) hlfs.utimensat(Buffer.from(path.join(src, d)), excludedDirs.includes(d) ? old : past, past, true);
  const viaRsync = path.join(tmp, 'rsync');
  const r = spawnSync('rsync', ['-a', '--delete', ...excludes.flatMap((e) => ['--exclude', e]), `${src}/`, `${viaRsync}/`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // rsync never reads them either (its own check of the test's premise).
  for (const d of excludedDirs) assert.equal(fs.statSync(path.join(src, d), { bigint: true }).atimeNs, old, `rsync read ${d}`);
  const viaHomeLab = path.join(tmp, 'home-lab');
  const result = await mirror({ src, dst: viaHomeLab, excludes, checksum: false, dryRun: false, jobs: 2, deletionLimits: { allow: true } });
  assert.deepEqual(result.failed, []);
  assert.equal(result.dirsListedOutOfOrder, 0);
  assert.deepEqual(diffSnapshots(snapshot(viaRsync), snapshot(viaHomeLab, ['.home-lab'])), []);
  for (const d of excludedDirs) assert.equal(fs.statSync(path.join(src, d), { bigint: true }).atimeNs, old, `home-lab read ${d}`);
});
