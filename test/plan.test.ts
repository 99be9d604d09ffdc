// Table tests for the pure parts of the engine: compare (quick check, attributes) and plan (merge).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDirectory, planOne } from '../src/engine/plan.js';
import type { Entry, EntryKind } from '../src/engine/entry.js';

function e(name: string, kind: EntryKind, over: Partial<Entry> = {}): Entry {
  return {
    name: Buffer.from(name), kind, perm: 0o644, uid: 0, gid: 0, sizeBytes: 10, mtimeNs: 1_000_000_000_123n, atimeNs: 0n, rdev: 0n,
    linkTarget: kind === 'symlink' ? Buffer.from('target') : null, ino: 1n, dev: 1n, ...over,
  };
}

const quick = { checksum: false, owner: true };
const sum = { checksum: true, owner: true };

test('planOne: one row per situation', () => {
  const cases: [string, Entry, Entry | null, typeof quick, string][] = [
    ['new file', e('a', 'file'), null, quick, 'copy'],
    ['same size and mtime', e('a', 'file'), e('a', 'file'), quick, 'unchanged'],
    ['size differs', e('a', 'file'), e('a', 'file', { sizeBytes: 11 }), quick, 'copy'],
    ['mtime differs by 1 ns', e('a', 'file'), e('a', 'file', { mtimeNs: 1_000_000_000_124n }), quick, 'copy'],
    ['mode differs only', e('a', 'file'), e('a', 'file', { perm: 0o600 }), quick, 'attrs'],
    ['owner differs only', e('a', 'file'), e('a', 'file', { uid: 1000 }), quick, 'attrs'],
    ['owner differs, not preserved', e('a', 'file'), e('a', 'file', { uid: 1000 }), { checksum: false, owner: false }, 'unchanged'],
    ['checksum: same size', e('a', 'file'), e('a', 'file', { mtimeNs: 5n }), sum, 'checksum'],
    ['checksum: size differs', e('a', 'file'), e('a', 'file', { sizeBytes: 3 }), sum, 'copy'],
    ['dir where a file is', e('a', 'file'), e('a', 'dir'), quick, 'copy'],
    ['symlink where a file is', e('a', 'file'), e('a', 'symlink'), quick, 'copy'],
    ['new dir', e('a', 'dir'), null, quick, 'mkdir'],
    ['dir over a file', e('a', 'dir'), e('a', 'file'), quick, 'mkdir'],
    ['dir over a symlink', e('a', 'dir'), e('a', 'symlink'), quick, 'mkdir'],
    ['dir on both sides', e('a', 'dir'), e('a', 'dir', { perm: 0o700 }), quick, 'descend'],
    ['same symlink', e('a', 'symlink'), e('a', 'symlink'), quick, 'unchanged'],
    ['symlink target differs', e('a', 'symlink'), e('a', 'symlink', { linkTarget: Buffer.from('other') }), quick, 'create'],
    ['symlink mtime differs', e('a', 'symlink'), e('a', 'symlink', { mtimeNs: 7n }), quick, 'attrs'],
    ['symlink mode is ignored', e('a', 'symlink'), e('a', 'symlink', { perm: 0o777 }), quick, 'unchanged'],
    ['fifo where a file is', e('a', 'fifo'), e('a', 'file'), quick, 'create'],
    ['same fifo', e('a', 'fifo'), e('a', 'fifo'), quick, 'unchanged'],
    ['device number differs', e('a', 'char', { rdev: 259n }), e('a', 'char', { rdev: 260n }), quick, 'create'],
    ['char vs block', e('a', 'char', { rdev: 1n }), e('a', 'block', { rdev: 1n }), quick, 'create'],
  ];
  for (const [what, src, dst, options, want] of cases) assert.equal(planOne(src, dst, options).kind, want, what);
});

test('planDirectory merges sorted listings by bytes, extras last-deleted', () => {
  const src = [e('a', 'file'), e('c', 'dir'), e('d', 'file')];
  const dst = [e('b', 'file'), e('c', 'dir'), e('d', 'file', { sizeBytes: 1 }), e('z', 'dir')];
  const got = planDirectory(src, dst, quick).map((a) => `${a.kind}:${(a.kind === 'extra' ? a.dst : a.src).name.toString()}`);
  assert.deepEqual(got, ['copy:a', 'extra:b', 'descend:c', 'copy:d', 'extra:z']);
});

test('planDirectory orders non-UTF-8 names by bytes', () => {
  const hi = Buffer.from([0xff]);
  const src = [e('a', 'file'), { ...e('x', 'file'), name: hi }];
  const got = planDirectory(src, [], quick).map((a) => (a.kind === 'extra' ? a.dst : a.src).name);
  assert.deepEqual(got, [Buffer.from('a'), hi]);
});
