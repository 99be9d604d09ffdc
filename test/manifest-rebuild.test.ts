import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fastTempDir as tempDir, manifestFor, rowsOf, writeTree, type FileSpec } from './helpers/manifest-fixture.js';
import { checkManifest, rebuildManifest } from '../src/manifest/rebuild.js';
import { manifestPath, ManifestStore } from '../src/manifest/store.js';
import { FatalError } from '../src/errors.js';
import { runScrub } from '../src/scrub/run.js';
import { outcomeOf } from '../src/scrub/report.js';

const spec: FileSpec[] = [
  ['top', 'top file'],
  ['a/one', 'one'],
  ['a/b/two', 'two two'],
  [Buffer.from([0x6e, 0xff, 0x0a]), 'odd name'],
  ['empty', ''],
];

function garbage(n: number): Buffer {
  let x = 12345;
  return Buffer.from(Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 0xff));
}

function snapshot(root: string) {
  return rowsOf(root)
    .map((r) => [r.path.toString('hex'), r.sizeBytes, r.mtimeNs, r.hash])
    .sort();
}

test('rebuild rehashes a tree without a manifest into the same rows a mirror would have written', async (t) => {
  const dir = tempDir(t);
  const reference = path.join(dir, 'reference');
  const target = path.join(dir, 'target');
  writeTree(reference, spec);
  writeTree(target, spec);
  manifestFor(reference, spec.map(([p]) => p));
  // What the manifest does not cover: home-lab's own dir and a copy in flight.
  fs.writeFileSync(path.join(target, 'a', '.home-lab.tmp.0123abcd'), 'half a copy');
  fs.symlinkSync('top', path.join(target, 'link'));
  assert.equal(checkManifest(target).state, 'missing');
  const r = await rebuildManifest({ target, force: false, now: () => 1_760_000_000_000 });
  assert.equal(r.files, spec.length);
  assert.deepEqual(r.failed, []);
  assert.deepEqual(r.movedAside, []);
  assert.deepEqual(snapshot(target), snapshot(reference));
  assert.ok(rowsOf(target).every((row) => row.verifiedAtMs === null && row.hashedAtMs === 1_760_000_000_000));
  assert.deepEqual(fs.readdirSync(path.join(target, '.home-lab')), ['manifest.db'], 'no scratch left, no -wal beside it');
  const v = await runScrub({ target, mode: 'verify' });
  assert.equal(outcomeOf(v), 'ok', JSON.stringify(v.findings.map((f) => [f.path.toString(), f.detail])));
});

test('rebuild refuses to replace a healthy manifest', async (t) => {
  const target = path.join(tempDir(t), 'target');
  writeTree(target, spec);
  manifestFor(target, ['top']);
  const before = fs.readFileSync(manifestPath(target));
  await assert.rejects(rebuildManifest({ target, force: true }), (e: unknown) => e instanceof FatalError && e.kind === 'refused' && /healthy/.test(e.message));
  assert.deepEqual(fs.readFileSync(manifestPath(target)), before);
  assert.equal(rowsOf(target).length, 1);
});

test('a garbage manifest: named and refused without --force; moved aside (never deleted) with it', async (t) => {
  const target = path.join(tempDir(t), 'target');
  writeTree(target, spec);
  fs.mkdirSync(path.join(target, '.home-lab'));
  const bad = garbage(16384);
  fs.writeFileSync(manifestPath(target), bad);
  const health = checkManifest(target);
  assert.equal(health.state, 'corrupt');
  // scrub, verify and export name the file.
  await assert.rejects(runScrub({ target, mode: 'scrub' }), (e: unknown) => e instanceof Error && e.message.includes(manifestPath(target)));
  assert.throws(() => ManifestStore.open(target), (e: unknown) => e instanceof Error && e.message.includes(manifestPath(target)));
  await assert.rejects(
    rebuildManifest({ target, force: false }),
    (e: unknown) => e instanceof FatalError && e.kind === 'refused' && e.message.includes(manifestPath(target)) && /--force/.test(e.message),
  );
  assert.deepEqual(fs.readFileSync(manifestPath(target)), bad, 'untouched without --force');
  const now = Date.UTC(2025, 0, 2, 3, 4, 5);
  const r = await rebuildManifest({ target, force: true, now: () => now });
  const aside = `${manifestPath(target)}.corrupt-20250102T030405Z`;
  assert.deepEqual(r.movedAside, [aside]);
  assert.deepEqual(fs.readFileSync(aside), bad);
  assert.equal(checkManifest(target).state, 'healthy');
  assert.equal(rowsOf(target).length, spec.length);
});

test('a manifest truncated mid-file is corrupt too', async (t) => {
  const target = path.join(tempDir(t), 'target');
  const many: FileSpec[] = Array.from({ length: 3000 }, (_, i) => [`d${i % 10}/file-with-a-longish-name-${i}`, String(i)]);
  writeTree(target, many);
  manifestFor(target, many.map(([p]) => p));
  const file = manifestPath(target);
  fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
  assert.equal(checkManifest(target).state, 'corrupt');
  await assert.rejects(runScrub({ target, mode: 'verify' }), (e: unknown) => e instanceof Error && e.message.includes(file) && /corrupt/.test(e.message));
});

test('rebuild of a TARGET that is not there is a fatal error naming it', async (t) => {
  const target = path.join(tempDir(t), 'not-mounted');
  await assert.rejects(rebuildManifest({ target, force: false }), (e: unknown) => e instanceof FatalError && e.kind === 'fatal' && e.message.includes(target));
});
