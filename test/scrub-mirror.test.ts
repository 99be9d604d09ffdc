// Scrub and verify on trees made by the real mirror engine (not hand-built fixtures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fastTempDir as tempDir, flipByte, rowsOf, writeTree, type FileSpec } from './helpers/manifest-fixture.js';
import { mirror } from '../src/engine/mirror.js';
import { runScrub } from '../src/scrub/run.js';
import { outcomeOf } from '../src/scrub/report.js';
import { parsePercent, type Percent } from '../src/scrub/select.js';

const DAY = 86_400_000;
const ALL = parsePercent('100') as Percent;

function mirrorOnce(src: string, dst: string, checksum = false) {
  return mirror({ src, dst, excludes: [], checksum, dryRun: false, jobs: 2 });
}

const spec: FileSpec[] = [
  ['photos/2024/beach.jpg', Buffer.alloc(300_000, 7)],
  ['photos/2024/cat.jpg', 'meow'.repeat(5000)],
  ['docs/taxes.pdf', 'pdf bytes'],
  ['docs/notes with space.txt', 'notes'],
  [Buffer.from([0x6f, 0x64, 0x64, 0xff, 0x0a]), 'odd name'],
];

test('end to end: mirror, rot in the backup found by scrub, repaired with --source, verify clean, next mirror copies nothing', async (t) => {
  const dir = tempDir(t);
  const src = path.join(dir, 'src');
  const dst = path.join(dir, 'dst');
  writeTree(src, spec);
  const first = await mirrorOnce(src, dst);
  assert.equal(first.failed.length, 0);
  assert.equal(rowsOf(dst).length, spec.length);

  let now = Date.now();
  const clean = await runScrub({ target: dst, mode: 'scrub', percent: ALL, now: () => now });
  assert.equal(outcomeOf(clean), 'ok', JSON.stringify(clean.findings.map((f) => f.detail)));
  assert.equal(clean.filesChecked, spec.length);

  flipByte(path.join(dst, 'photos/2024/beach.jpg'), 150_000);
  now += DAY;
  // Without a source: found, not repaired (and a quick-check mirror would not notice it).
  const found = await runScrub({ target: dst, mode: 'verify', now: () => now });
  assert.equal(outcomeOf(found), 'findings');
  assert.deepEqual(found.findings.map((f) => [f.kind, f.path.toString()]), [['corrupt', 'photos/2024/beach.jpg']]);

  now += DAY;
  const fixed = await runScrub({ target: dst, mode: 'verify', now: () => now, sources: [{ root: src, prefix: '' }] });
  assert.equal(outcomeOf(fixed), 'repaired');
  assert.deepEqual(fs.readFileSync(path.join(dst, 'photos/2024/beach.jpg')), fs.readFileSync(path.join(src, 'photos/2024/beach.jpg')));

  now += DAY;
  const after = await runScrub({ target: dst, mode: 'verify', now: () => now });
  assert.equal(outcomeOf(after), 'ok');
  const inode = fs.statSync(path.join(dst, 'photos/2024/beach.jpg')).ino;
  const again = await mirrorOnce(src, dst);
  assert.equal(again.filesCopied, 0, 'the repaired copy has the source attributes: nothing to copy');
  assert.equal(again.failed.length, 0);
  assert.equal(fs.statSync(path.join(dst, 'photos/2024/beach.jpg')).ino, inode);
});

test('source rot: reported, the backup keeps the good bytes, and the next mirror (also --checksum) leaves it alone', async (t) => {
  const dir = tempDir(t);
  const src = path.join(dir, 'src');
  const dst = path.join(dir, 'dst');
  writeTree(src, spec);
  await mirrorOnce(src, dst);
  const victim = 'docs/taxes.pdf';
  const good = fs.readFileSync(path.join(dst, victim));
  const inode = fs.statSync(path.join(dst, victim)).ino;
  flipByte(path.join(src, victim), 2);

  let now = Date.now();
  const r = await runScrub({ target: dst, mode: 'scrub', percent: ALL, now: () => now, sources: [{ root: src, prefix: '' }] });
  assert.equal(outcomeOf(r), 'findings');
  assert.deepEqual(r.findings.map((f) => [f.kind, f.path.toString()]), [['source-rot', victim]]);
  assert.match(r.findings[0]?.detail ?? '', /backup holds the last good copy/);

  const quick = await mirrorOnce(src, dst);
  assert.equal(quick.filesCopied, 0, 'quick check: same size and mtime, nothing copied');
  assert.deepEqual(fs.readFileSync(path.join(dst, victim)), good);
  assert.equal(rowsOf(dst).find((row) => row.path.toString() === victim)?.verifyStatus, 'source-rot', 'the finding stands');

  const notices: string[] = [];
  const checksum = await mirror({
    src, dst, excludes: [], checksum: true, dryRun: false, jobs: 2,
    onEvent: (e) => {
      if (e.kind === 'notice') notices.push(e.message);
    },
  });
  assert.equal(checksum.filesCopied, 0, '--checksum must not copy the rotten source over the last good copy');
  assert.deepEqual(fs.readFileSync(path.join(dst, victim)), good);
  assert.equal(fs.statSync(path.join(dst, victim)).ino, inode);
  assert.ok(notices.some((n) => n.includes(victim)), notices.join('\n'));

  now += DAY;
  const still = await runScrub({ target: dst, mode: 'verify', now: () => now, sources: [{ root: src, prefix: '' }] });
  assert.equal(still.counts.sourceRot, 1, 'reported again while the source stays rotten');
  assert.equal(still.counts.repaired, 0);
});
