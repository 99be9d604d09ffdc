// Table tests for the no-op fast path's decision (src/engine/unchanged-dir.ts): every attribute the
// full path compares must send a directory down the full path when it differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unchangedDirectory, type UnchangedOptions } from '../src/engine/unchanged-dir.js';
import type { RawListing } from '../src/engine/walk.js';

interface Spec {
  name: string;
  mode: number;
  uid?: number;
  gid?: number;
  size?: bigint;
  mtime?: bigint;
  rdev?: bigint;
  errno?: number;
}

const FILE = 0o100644;
const DIR = 0o040755;
const LINK = 0o120777;
const CHR = 0o020644;
const FIFO = 0o010644;

/** A listing in the native scandir's layout: NUL-terminated names, 10 int64 per entry. */
function raw(specs: Spec[]): RawListing & { ok: true } {
  const sorted = [...specs].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const names = Buffer.concat(sorted.map((s) => Buffer.concat([Buffer.from(s.name), Buffer.from([0])])));
  const stats = new BigInt64Array(sorted.length * 10);
  sorted.forEach((s, i) => {
    stats.set([BigInt(s.mode), BigInt(s.uid ?? 0), BigInt(s.gid ?? 0), s.size ?? 100n, s.mtime ?? 1_700_000_000_123_456_789n, 5n, s.rdev ?? 0n, BigInt(s.errno ?? 0), BigInt(i + 10), 1n], i * 10);
  });
  return { ok: true, names, stats, self: new BigInt64Array([1n, 2n]) };
}

const base: Spec[] = [
  { name: 'a.txt', mode: FILE, size: 10n },
  { name: 'b.jpg', mode: FILE, size: 5_000_000_000n, mtime: -1_234_567_987_654_321n },
  { name: 'd', mode: DIR },
  { name: 'dev', mode: CHR, rdev: 0x0103n },
  { name: 'fifo', mode: FIFO },
  { name: 'link', mode: LINK, size: 6n },
  { name: 'zz', mode: DIR },
];

const sameLinks = () => [Buffer.from('target'), Buffer.from('target')] as [Buffer, Buffer];
const opts: UnchangedOptions = { owner: true, keep: null, readLinks: sameLinks };

function changed(name: string, over: Partial<Spec>): Spec[] {
  return base.map((s) => (s.name === name ? { ...s, ...over } : s));
}

test('an identical directory: sums of its regular files, its subdirectories in order', () => {
  const r = unchangedDirectory(raw(base), raw(base), opts);
  assert.ok(r);
  assert.equal(r.files, 2);
  assert.equal(r.sizeSum, 5_000_000_010);
  // The mtime words, summed: low unsigned, high signed (what SQLite's & and >> give).
  const words = (ns: bigint) => [Number(BigInt.asUintN(32, ns)), Number(ns >> 32n)];
  const [lo1, hi1] = words(1_700_000_000_123_456_789n);
  const [lo2, hi2] = words(-1_234_567_987_654_321n);
  assert.equal(r.mtimeLoSum, (lo1 as number) + (lo2 as number));
  assert.equal(r.mtimeHiSum, (hi1 as number) + (hi2 as number));
  assert.deepEqual(r.subdirs.map((d) => [d.src, d.dst, d.name.toString()]), [[2, 2, 'd'], [6, 6, 'zz']]);
});

test('each difference the full path would act on makes that entry "changed" (and only that one)', () => {
  const cases: [string, Spec[], Partial<UnchangedOptions>, string][] = [
    ['file size', changed('a.txt', { size: 11n }), {}, 'a.txt'],
    ['file mtime, low word', changed('a.txt', { mtime: 1_700_000_000_123_456_788n }), {}, 'a.txt'],
    ['file mtime, high word', changed('b.jpg', { mtime: -1_234_567_987_654_321n - (1n << 32n) }), {}, 'b.jpg'],
    ['file mode', changed('a.txt', { mode: 0o100600 }), {}, 'a.txt'],
    ['file owner', changed('a.txt', { uid: 1000 }), {}, 'a.txt'],
    ['file group', changed('a.txt', { gid: 1000 }), {}, 'a.txt'],
    ['a file where a dir is', changed('d', { mode: FILE }), {}, 'd'],
    ['device number', changed('dev', { rdev: 0x0104n }), {}, 'dev'],
    ['device mode', changed('dev', { mode: 0o020600 }), {}, 'dev'],
    ['fifo mtime', changed('fifo', { mtime: 1n }), {}, 'fifo'],
    ['symlink mtime', changed('link', { mtime: 1n }), {}, 'link'],
    ['symlink target', base, { readLinks: () => [Buffer.from('a'), Buffer.from('b')] }, 'link'],
    ['symlink unreadable', base, { readLinks: () => null }, 'link'],
  ];
  for (const [what, dst, over, name] of cases) {
    const r = unchangedDirectory(raw(base), raw(dst), { ...opts, ...over });
    assert.ok(r, what);
    assert.deepEqual(r.changed.map((c) => c.name.toString()), [name], what);
    const files = ['a.txt', 'b.jpg'].filter((f) => f !== name);
    assert.equal(r.files, files.length, `${what}: a changed file is not in the sums`);
  }
});

test('what only the full path can handle gives null', () => {
  const cases: [string, RawListing, RawListing, Partial<UnchangedOptions>][] = [
    ['a failed lstat of a name only the source has', raw([...base, { name: 'new', mode: FILE, errno: 13 }]), raw(base), {}],
    ['a failed lstat of a name only the destination has', raw(base), raw([...base, { name: 'old', mode: FILE, errno: 13 }]), {}],
    ['a temp file of a killed run in the destination', raw(base), raw([...base, { name: '.home-lab.tmp.1a', mode: FILE }]), { leftover: (n) => n.toString().startsWith('.home-lab.tmp.') }],
    ['a failed lstat in the source', raw(changed('a.txt', { errno: 2 })), raw(base), {}],
    ['a failed lstat in the destination', raw(base), raw(changed('a.txt', { errno: 2 })), {}],
    ['a kind change while excludes apply', raw(base), raw(changed('d', { mode: FILE })), { keep: () => true }],
    ['an unreadable source', { ok: false, code: 'EACCES', error: 'x' }, raw(base), {}],
  ];
  for (const [what, src, dst, over] of cases) assert.equal(unchangedDirectory(src, dst, { ...opts, ...over }), null, what);
});

test('what the full path ignores is ignored here too', () => {
  // Without owner preservation, owner and group do not matter.
  assert.deepEqual(unchangedDirectory(raw(base), raw(changed('a.txt', { uid: 1000, gid: 7 })), { ...opts, owner: false })?.changed, []);
  // A directory's own mode and mtime are checked when the walk visits it, not by its parent.
  for (const over of [{ mtime: 1n }, { mode: 0o040700 }, { uid: 7 }]) {
    const r = unchangedDirectory(raw(base), raw(changed('d', over)), opts);
    assert.deepEqual(r?.changed, [], JSON.stringify(over, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
  }
  // Symlink sizes are their target's length: equal targets are what counts (read only when needed).
  let reads = 0;
  const counting = () => (reads++, sameLinks());
  assert.ok(unchangedDirectory(raw(base), raw(base), { ...opts, readLinks: counting }));
  assert.equal(reads, 1);
});

test('excluded entries: never descended into, never counted, never changed', () => {
  const keep = (name: Buffer) => name.toString() !== 'zz' && name.toString() !== 'a.txt';
  const r = unchangedDirectory(raw(base), raw(base), { ...opts, keep });
  assert.ok(r);
  assert.deepEqual(r.subdirs.map((d) => d.src), [2]);
  assert.equal(r.files, 1);
  assert.equal(r.sizeSum, 5_000_000_000);
  assert.deepEqual(unchangedDirectory(raw(base), raw(changed('a.txt', { size: 1n })), { ...opts, keep })?.changed, []);
});

test('names on one side only: in "changed" in name order with -1 for the other side, the rest paired up', () => {
  const src: Spec[] = [...base.filter((s) => s.name !== 'fifo'), { name: 'added.txt', mode: FILE, size: 7n }, { name: 'newdir', mode: DIR }];
  const dst: Spec[] = [...base, { name: 'b.old', mode: FILE }, { name: 'gone', mode: DIR }];
  const r = unchangedDirectory(raw(src), raw(dst), opts);
  assert.ok(r);
  const show = (l: { name: Buffer; src: number; dst: number }[]) => l.map((c) => `${c.name.toString()}:${c.src}:${c.dst}`);
  // src: a.txt 0, added.txt 1, b.jpg 2, d 3, dev 4, link 5, newdir 6, zz 7
  // dst: a.txt 0, b.jpg 1, b.old 2, d 3, dev 4, fifo 5, gone 6, link 7, zz 8
  assert.deepEqual(show(r.changed), ['added.txt:1:-1', 'b.old:-1:2', 'fifo:-1:5', 'gone:-1:6', 'newdir:6:-1']);
  assert.deepEqual(show(r.subdirs), ['d:3:3', 'zz:7:8']);
  assert.equal(r.files, 2, 'a.txt and b.jpg, unchanged, in the sums');
  assert.equal(r.sizeSum, 5_000_000_010);
  // The paired entries are compared by their own indexes: a change on a shifted index is seen.
  const dstChanged = dst.map((s) => (s.name === 'link' ? { ...s, mtime: 2n } : s));
  assert.deepEqual(show(unchangedDirectory(raw(src), raw(dstChanged), opts)?.changed ?? []), ['added.txt:1:-1', 'b.old:-1:2', 'fifo:-1:5', 'gone:-1:6', 'link:5:7', 'newdir:6:-1']);
  // Excluded names on either side are left alone: not created, not deleted (rsync keeps them).
  const keep = (name: Buffer) => !['added.txt', 'gone'].includes(name.toString());
  assert.deepEqual(show(unchangedDirectory(raw(src), raw(dst), { ...opts, keep })?.changed ?? []), ['b.old:-1:2', 'fifo:-1:5', 'newdir:6:-1']);
  // Either side empty.
  assert.deepEqual(show(unchangedDirectory(raw([]), raw(base.slice(0, 2)), opts)?.changed ?? []), ['a.txt:-1:0', 'b.jpg:-1:1']);
  assert.deepEqual(show(unchangedDirectory(raw(base.slice(0, 2)), raw([]), opts)?.changed ?? []), ['a.txt:0:-1', 'b.jpg:1:-1']);
});
