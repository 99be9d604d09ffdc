// Trash I/O on real trees: moving entries in, pruning days out, never following a symlink.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, isRoot } from './helpers/tmp.js';
import { mountTmpfs } from './helpers/mount.js';
import { memoryLogger } from '../src/log.js';
import { TrashMover } from '../src/trash/move.js';
import { pruneTrash } from '../src/trash/prune.js';
import { removeTreeSync, treeSizeSync } from '../src/trash/remove-tree.js';
import { trashDayOf } from '../src/trash/layout.js';

const DAY_MS = 86_400_000;
const b = (s: string) => Buffer.from(s);

function write(file: string, content = 'x'): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

test('TrashMover renames entries into <disk>/.home-lab/trash/<date>/<path>', (t) => {
  const disk = tempDir(t);
  write(path.join(disk, 'bare/photos/a.jpg'), 'A1');
  fs.mkdirSync(path.join(disk, 'bare/old/deep'), { recursive: true });
  write(path.join(disk, 'bare/old/deep/f'), 'F');
  const ino = fs.statSync(path.join(disk, 'bare/photos/a.jpg')).ino;
  const mover = new TrashMover(disk, '2024-06-30');

  const r1 = mover.move(b(path.join(disk, 'bare/photos/a.jpg')), b('bare/photos/a.jpg'));
  assert.ok(r1.ok);
  const want = path.join(disk, '.home-lab/trash/2024-06-30/bare/photos/a.jpg');
  assert.equal(r1.trashPath.toString(), want);
  assert.equal(fs.statSync(want).ino, ino, 'a rename, not a copy');
  assert.equal(fs.existsSync(path.join(disk, 'bare/photos/a.jpg')), false);

  // A whole directory moves at once.
  const r2 = mover.move(b(path.join(disk, 'bare/old')), b('bare/old'));
  assert.ok(r2.ok);
  assert.equal(fs.readFileSync(path.join(disk, '.home-lab/trash/2024-06-30/bare/old/deep/f'), 'utf8'), 'F');

  // The same name trashed again the same day keeps both versions.
  write(path.join(disk, 'bare/photos/a.jpg'), 'A2');
  const r3 = mover.move(b(path.join(disk, 'bare/photos/a.jpg')), b('bare/photos/a.jpg'));
  assert.ok(r3.ok);
  assert.equal(r3.trashPath.toString(), want + '.~1~');
  assert.equal(fs.readFileSync(want, 'utf8'), 'A1');
  assert.equal(fs.readFileSync(want + '.~1~', 'utf8'), 'A2');
});

test('TrashMover: a file where a directory is needed gets a numbered directory beside it', (t) => {
  const disk = tempDir(t);
  write(path.join(disk, 'm/a'), 'file a');
  const mover = new TrashMover(disk, '2024-06-30');
  assert.ok(mover.move(b(path.join(disk, 'm/a')), b('m/a')).ok);
  write(path.join(disk, 'm/a/b'), 'b inside dir a');
  const r = new TrashMover(disk, '2024-06-30').move(b(path.join(disk, 'm/a/b')), b('m/a/b'));
  assert.ok(r.ok);
  assert.equal(r.trashPath.toString(), path.join(disk, '.home-lab/trash/2024-06-30/m/a.~1~/b'));
  assert.equal(fs.readFileSync(path.join(disk, '.home-lab/trash/2024-06-30/m/a'), 'utf8'), 'file a');
});

test('TrashMover never writes through a symlink planted in the trash', (t) => {
  const disk = tempDir(t);
  const outside = tempDir(t);
  fs.mkdirSync(path.join(disk, '.home-lab/trash/2024-06-30'), { recursive: true });
  fs.symlinkSync(outside, path.join(disk, '.home-lab/trash/2024-06-30/m'));
  write(path.join(disk, 'm/secret'), 's');
  const r = new TrashMover(disk, '2024-06-30').move(b(path.join(disk, 'm/secret')), b('m/secret'));
  assert.ok(r.ok);
  assert.deepEqual(fs.readdirSync(outside), [], 'nothing landed outside the disk');
  assert.equal(r.trashPath.toString(), path.join(disk, '.home-lab/trash/2024-06-30/m.~1~/secret'));
});

test('TrashMover refuses unsafe relative paths as values, and keeps 255-byte names within NAME_MAX', (t) => {
  const disk = tempDir(t);
  const mover = new TrashMover(disk, '2024-06-30');
  for (const bad of ['../x', '/etc/passwd', 'a/../../x']) {
    const r = mover.move(b(path.join(disk, 'x')), b(bad));
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.code, 'EINVAL');
  }
  const long = 'n'.repeat(255);
  for (let i = 0; i < 2; i++) {
    write(path.join(disk, 'd', long), String(i));
    assert.ok(mover.move(b(path.join(disk, 'd', long)), b(`d/${long}`)).ok, `move ${i}`);
  }
  const names = fs.readdirSync(path.join(disk, '.home-lab/trash/2024-06-30/d'));
  assert.equal(names.length, 2);
  assert.ok(names.every((n) => Buffer.byteLength(n) <= 255));
});

test('TrashMover across filesystems reports EXDEV (never copies)', { skip: isRoot ? false : 'needs root to mount a tmpfs' }, (t) => {
  const disk = tempDir(t);
  const other = mountTmpfs(t, '1m');
  write(path.join(other, 'f'), 'f');
  const r = new TrashMover(disk, '2024-06-30').move(b(path.join(other, 'f')), b('f'));
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.code, 'EXDEV');
    assert.match(r.error, /same filesystem/);
  }
  assert.equal(fs.readFileSync(path.join(other, 'f'), 'utf8'), 'f');
});

test('removeTreeSync removes links, not their targets, and read-only directories', (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  write(path.join(outside, 'keep'), 'keep');
  write(path.join(dir, 't/a/b'), 'b');
  fs.symlinkSync(outside, path.join(dir, 't/link-to-outside'));
  fs.symlinkSync('/', path.join(dir, 't/a/root'));
  fs.writeFileSync(path.join(dir, 't/a/' + '\n\x1b'), 'odd');
  fs.chmodSync(path.join(dir, 't/a'), 0o555);
  assert.ok(treeSizeSync(b(path.join(dir, 't'))) > 0);
  const r = removeTreeSync(b(path.join(dir, 't')));
  assert.ok(r.ok, !r.ok ? r.error : '');
  assert.equal(fs.existsSync(path.join(dir, 't')), false);
  assert.equal(fs.readFileSync(path.join(outside, 'keep'), 'utf8'), 'keep');
  assert.ok(removeTreeSync(b(path.join(dir, 'missing'))).ok);
});

test('pruneTrash removes days older than keepDays, oldest first, and leaves everything else alone', (t) => {
  const disk = tempDir(t);
  const outside = tempDir(t);
  write(path.join(outside, 'precious'), 'p');
  const now = new Date(2024, 5, 30, 3).getTime();
  const trash = path.join(disk, '.home-lab/trash');
  for (const age of [0, 1, 30, 31, 45]) write(path.join(trash, trashDayOf(now - age * DAY_MS), 'bare/f'), 'x');
  // A day holding a link to outside, and a day that is itself a link to outside.
  fs.symlinkSync(outside, path.join(trash, trashDayOf(now - 45 * DAY_MS), 'bare/link'));
  fs.symlinkSync(outside, path.join(trash, '2020-01-01'));
  write(path.join(trash, 'notes.txt'), 'owner notes');
  fs.mkdirSync(path.join(trash, '2024-99-99'));

  const logger = memoryLogger();
  const r = pruneTrash({ diskRoot: disk, nowMs: now, keepDays: 30, logger, space: () => ({ freeBytes: 1e12, totalBytes: 2e12 }) });
  assert.deepEqual(r.pruned.map((p) => [p.date, p.reason]), [
    ['2020-01-01', 'expired'],
    [trashDayOf(now - 45 * DAY_MS), 'expired'],
    [trashDayOf(now - 31 * DAY_MS), 'expired'],
  ]);
  assert.deepEqual(fs.readdirSync(trash).sort(), ['2024-05-31', '2024-06-29', '2024-06-30', '2024-99-99', 'notes.txt']);
  assert.equal(fs.readFileSync(path.join(outside, 'precious'), 'utf8'), 'p', 'links were removed, not followed');
  assert.deepEqual(r.ignored.sort(), ['2024-99-99', 'notes.txt']);
  assert.ok(logger.lines.some((l) => l.level === 'info' && l.message.includes('removed 2024-05-30 (older than 30 days')));
  assert.equal(r.stillShortBytes, 0);
});

test('pruneTrash removes more days, oldest first, when the disk is short of space', (t) => {
  const disk = tempDir(t);
  const now = new Date(2024, 5, 30, 3).getTime();
  const trash = path.join(disk, '.home-lab/trash');
  for (const date of ['2024-06-28', '2024-06-29', '2024-06-30']) write(path.join(trash, date, 'f'), 'y'.repeat(64 * 1024));
  // Simulated statfs: 100 KiB free plus 64 KiB per day removed (the real statfs case runs below as root).
  const space = () => ({ freeBytes: 100 * 1024 + (3 - fs.readdirSync(trash).length) * 64 * 1024, totalBytes: 10 * 1024 * 1024 });
  const logger = memoryLogger();
  const r = pruneTrash({ diskRoot: disk, nowMs: now, keepDays: 30, minFreeBytes: 200 * 1024, logger, space });
  assert.deepEqual(r.pruned.map((p) => [p.date, p.reason]), [['2024-06-28', 'space'], ['2024-06-29', 'space']]);
  assert.deepEqual(fs.readdirSync(trash), ['2024-06-30']);
  assert.ok(logger.lines.some((l) => l.message.includes('removed 2024-06-28 (early:')));
});

test('pruneTrash on a real, nearly full tmpfs frees space and says when it is still short', { skip: isRoot ? false : 'needs root to mount a tmpfs' }, (t) => {
  const disk = mountTmpfs(t, '2m');
  const now = new Date(2024, 5, 30, 3).getTime();
  const trash = path.join(disk, '.home-lab/trash');
  for (const date of ['2024-06-27', '2024-06-28', '2024-06-29']) write(path.join(trash, date, 'f'), 'z'.repeat(512 * 1024));
  write(path.join(disk, 'data'), 'd'.repeat(400 * 1024));
  // Default minimum: 5 % of 2 MiB. Free is ~0.5 MiB: nothing to do.
  let r = pruneTrash({ diskRoot: disk, nowMs: now, keepDays: 30, logger: memoryLogger() });
  assert.deepEqual(r.pruned, []);
  // Ask for 1 MiB free: the two oldest days go.
  r = pruneTrash({ diskRoot: disk, nowMs: now, keepDays: 30, minFreeBytes: 1024 * 1024, logger: memoryLogger() });
  assert.deepEqual(r.pruned.map((p) => p.date), ['2024-06-27', '2024-06-28']);
  assert.ok(r.freeBytes >= 1024 * 1024);
  // Ask for more than the disk can give: all trash goes, and the shortfall is reported.
  const logger = memoryLogger();
  r = pruneTrash({ diskRoot: disk, nowMs: now, keepDays: 30, minFreeBytes: 4 * 1024 * 1024, logger });
  assert.deepEqual(r.pruned.map((p) => p.date), ['2024-06-29']);
  assert.ok(r.stillShortBytes > 0);
  assert.ok(logger.lines.some((l) => l.level === 'warn' && l.message.includes('still short of space')));
  assert.equal(fs.readFileSync(path.join(disk, 'data'), 'utf8').length, 400 * 1024);
});
