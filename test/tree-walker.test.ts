// The native walker (native/walker.c) and its JS side (src/engine/tree-walker.ts): the walk order,
// both sides listed, skipped subtrees, how far ahead it may run, and closing it mid-walk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hlfs, type WalkerHandle } from '../src/native/hlfs.js';
import { compareWalkOrder, TreeWalker, walkTake, type WalkedDir } from '../src/engine/tree-walker.js';
import { joinPath } from '../src/engine/bytes.js';
import { tempDir } from './helpers/tmp.js';

const b = (s: string | number[]): Buffer => (typeof s === 'string' ? Buffer.from(s, 'latin1') : Buffer.from(s));

test('compareWalkOrder: depth first, names by bytes, "/" before every other byte', () => {
  const cases: [string, string, number][] = [
    ['', '', 0],
    ['', 'a', -1],
    ['a', 'a/b', -1],
    ['a/b', 'a!x', -1], // a's subtree comes before the sibling "a!x", though '!' < '/' as bytes
    ['a/zzz', 'a b', -1],
    ['a b', 'a!', -1],
    ['a/b/c', 'a/b', 1],
    ['a/b', 'a/b', 0],
    ['z', '\xff', -1],
    ['\xff/a', '\xff\x01', -1],
  ];
  for (const [x, y, want] of cases) {
    assert.equal(compareWalkOrder(b(x), b(y)), want, `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
    assert.equal(compareWalkOrder(b(y), b(x)), want === 0 ? 0 : -want, `${JSON.stringify(y)} vs ${JSON.stringify(x)}`);
  }
});

/** A tree of directories with odd names, a symlink to a directory (never entered) and some files. */
function oddTree(root: string): string[] {
  const dirs = ['a', 'a!x', 'a b', 'a/z', 'a/y', 'a/y/q', 'a/y/q/deep', 'c', '\xff', '\xff\x01', 'c/-', 'c/.hidden'];
  for (const d of dirs) fs.mkdirSync(joinPath(b(root), b(d)), { recursive: true });
  for (const f of ['f', 'a/f', 'a/y/q/f', '\xff/f']) fs.writeFileSync(joinPath(b(root), b(f)), 'x');
  fs.symlinkSync('a', path.join(root, 'link-to-a'));
  return dirs;
}

/** The walk order by a plain JS depth-first walk: what the mirror's stack does. */
function referenceOrder(root: string): string[] {
  const out: string[] = [];
  const visit = (rel: Buffer): void => {
    out.push(rel.toString('latin1'));
    const abs = rel.length === 0 ? b(root) : joinPath(b(root), rel);
    const names = (fs.readdirSync(abs, { encoding: 'buffer' }) as Buffer[]).sort(Buffer.compare);
    for (const name of names) {
      const child = rel.length === 0 ? name : joinPath(rel, name);
      if (fs.lstatSync(joinPath(b(root), child)).isDirectory()) visit(child);
    }
  };
  visit(Buffer.alloc(0));
  return out;
}

async function drain(handle: WalkerHandle): Promise<WalkedDir[]> {
  const all: WalkedDir[] = [];
  for (;;) {
    const got = walkTake(handle, 3);
    if (got === null) return all;
    if (got.length === 0) await hlfs.walkWait(handle, 2);
    all.push(...got);
  }
}

test('the walker lists every SRC directory in the mirror\'s order, and the same path under DST (an error where it is missing)', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  oddTree(src);
  fs.mkdirSync(path.join(dst, 'a', 'y'), { recursive: true });
  fs.writeFileSync(path.join(dst, 'a', 'y', 'only-in-dst'), 'y');
  fs.writeFileSync(path.join(dst, 'c'), 'a file where SRC has a directory');
  const handle = hlfs.walkOpen(b(src), b(dst), 3, 1000, false);
  const all = await drain(handle);
  hlfs.walkClose(handle);
  assert.deepEqual(all.map(([rel]) => rel.toString('latin1')), referenceOrder(src));
  const byRel = new Map(all.map((d) => [d[0].toString('latin1'), d]));
  const names = (side: WalkedDir[1] | null): string[] => {
    assert.ok(side?.ok === true, `a listing, not ${side === null ? 'null' : side.ok ? '' : side.error}`);
    return side.names.toString('latin1').split('\0').slice(0, -1);
  };
  assert.deepEqual(names(byRel.get('')?.[1] ?? null), ['a', 'a b', 'a!x', 'c', 'f', 'link-to-a', '\xff', '\xff\x01']);
  assert.deepEqual(names(byRel.get('a/y')?.[2] ?? null), ['only-in-dst']);
  assert.deepEqual(byRel.get('a/z')?.[2], { ok: false, code: 'ENOENT', error: 'ENOENT: cannot read directory' });
  assert.deepEqual(byRel.get('c')?.[2], { ok: false, code: 'ENOTDIR', error: 'ENOTDIR: cannot read directory' });
  assert.ok(!byRel.has('link-to-a'), 'a symlink to a directory is not entered');
});

test('the walker runs at most maxDirs directories ahead of what was taken, and never stalls below a wait\'s count', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  for (let i = 0; i < 20; i++) fs.mkdirSync(path.join(src, `d${String(i).padStart(2, '0')}`), { recursive: true });
  const handle = hlfs.walkOpen(b(src), null, 2, 1_000_000, false);
  t.after(() => hlfs.walkClose(handle));
  await sleep(100);
  const first = walkTake(handle, 100);
  assert.ok(first !== null && first.length <= 2 && first.length >= 1, `at most 2 listed ahead, got ${first?.length}`);
  assert.ok(first.every(([, , dst]) => dst === null), 'no DST root: DST never listed');
  // A wait for more than the walker may hold still resolves, and so does one with 1 entry allowed.
  const rest = await drain(handle);
  assert.equal(first.length + rest.length, 21);
  const tight = hlfs.walkOpen(b(src), null, 64, 1, false);
  t.after(() => hlfs.walkClose(tight));
  assert.equal((await drain(tight)).length, 21);
});

test('TreeWalker: directories the mirror does not visit are dropped and their subtrees skipped; listing out of order falls back', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  oddTree(src);
  fs.mkdirSync(dst);
  const walker = new TreeWalker(b(src), b(dst));
  t.after(() => walker.close());
  // The mirror's visit with "a" excluded: root, "a b", "a!x", "c", ..., never under "a".
  const visit = referenceOrder(src).filter((rel) => rel !== 'a' && !rel.startsWith('a/'));
  for (const rel of visit) {
    const [s, d] = await walker.listing(b(rel), rel === '');
    assert.ok(s.ok, `${rel}: SRC listed`);
    assert.ok(d.ok, `${rel}: DST listed, or empty for a created directory`);
    if (rel !== '') assert.equal(d.names.length, 0, `${rel}: created, so its DST side is empty`);
  }
  assert.equal(walker.fallbacks, 0);
  // Asking again for a directory already passed is served directly (and counted).
  const [again] = await walker.listing(b('a b'), false);
  assert.ok(again.ok);
  assert.equal(walker.fallbacks, 1);
});

test('closing a walker mid-walk stops it; closing twice is harmless; a closed walker refuses work', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  for (let i = 0; i < 200; i++) fs.mkdirSync(path.join(src, `d${i}`, 'x'), { recursive: true });
  const handle = hlfs.walkOpen(b(src), b(src), 4, 100, false);
  const pending = hlfs.walkWait(handle, 4);
  await pending;
  hlfs.walkClose(handle);
  hlfs.walkClose(handle);
  assert.throws(() => walkTake(handle, 1), /closed/);
  assert.throws(() => hlfs.walkOpen(b('/nonexistent\0'), null, 1, 1, false), /NUL/);
  // A walker left open does not keep the process alive (the test runner would hang).
  hlfs.walkOpen(b(src), null, 4, 100, false);
});

test('a source root that cannot be listed is one failed listing, then the end of the walk', async (t) => {
  const tmp = tempDir(t);
  const handle = hlfs.walkOpen(b(path.join(tmp, 'missing')), b(tmp), 4, 100, false);
  const all = await drain(handle);
  hlfs.walkClose(handle);
  assert.equal(all.length, 1);
  assert.deepEqual(all[0]?.[1], { ok: false, code: 'ENOENT', error: 'ENOENT: cannot read directory' });
  assert.equal(all[0]?.[2], null, 'DST is not listed when SRC failed');
});

test('gated: the walker lists only the subdirectories named by walkDone, never the others, and goes on when its directory is dropped', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  oddTree(src);
  const handle = hlfs.walkOpen(b(src), null, 64, 100_000, true);
  t.after(() => hlfs.walkClose(handle));
  const take = async (): Promise<WalkedDir> => {
    for (;;) {
      const got = walkTake(handle, 1);
      assert.notEqual(got, null, 'the walk ended early');
      if (got && got.length === 1) return got[0] as WalkedDir;
      await hlfs.walkWait(handle, 1);
    }
  };
  const root = await take();
  assert.equal(root[0].length, 0);
  assert.equal(root[3], true, 'the root has subdirectories: the walk waits for walkDone');
  // Nothing under the root is listed before the decision.
  await sleep(50);
  assert.deepEqual(walkTake(handle, 10), []);
  // Visit "a" and "c" only ("a b", "a!x", 0xff, 0xff 0x01 are excluded: never listed).
  hlfs.walkDone(handle, b(''), Buffer.from('a\0c\0'));
  const a = await take();
  assert.equal(a[0].toString(), 'a');
  assert.equal(a[3], true);
  // Drop "a" (the mirror gave up on it): the walk goes on with "c" without a decision for "a".
  hlfs.walkSkip(handle, b('a'));
  const c = await take();
  assert.equal(c[0].toString(), 'c');
  hlfs.walkDone(handle, b('c'), Buffer.from('-\0'));
  const dash = await take();
  assert.equal(dash[0].toString(), 'c/-');
  assert.equal(dash[3], false, 'no subdirectories: nothing to wait for');
  assert.equal(await drain(handle).then((rest) => rest.length), 0, 'c/.hidden was not named: never listed');
  assert.throws(() => hlfs.walkDone(handle, b('c'), Buffer.from('x')), /NUL-terminated/);
});

test('gated TreeWalker with a mirror-like visit: every visited directory comes in order, none listed directly', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  oddTree(src);
  fs.mkdirSync(dst);
  const excluded = (rel: string) => rel === 'a/y' || rel.startsWith('a/y/') || rel === 'a b';
  const asked: string[] = [];
  const walker = new TreeWalker(b(src), b(dst), (parent, name) => {
    const rel = parent.length === 0 ? name.toString('latin1') : `${parent.toString('latin1')}/${name.toString('latin1')}`;
    asked.push(rel);
    return !excluded(rel);
  });
  t.after(() => walker.close());
  const visit = referenceOrder(src).filter((rel) => !excluded(rel));
  for (const rel of visit) {
    const [s] = await walker.listing(b(rel), false);
    assert.ok(s.ok, rel);
  }
  assert.equal(walker.fallbacks, 0);
  assert.ok(asked.includes('a/y') && asked.includes('a b'), 'the excluded directories were asked about');
  assert.ok(!asked.some((rel) => rel.startsWith('a/y/')), 'nothing under an excluded directory was listed');
});

test('TreeWalker holds at most 64 listings however slowly the mirror asks (the walker, 64 more)', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  for (let i = 0; i < 400; i++) fs.mkdirSync(path.join(src, `d${String(i).padStart(3, '0')}`), { recursive: true });
  const walker = new TreeWalker(b(src), b(src));
  t.after(() => walker.close());
  const order = referenceOrder(src);
  for (const rel of order.slice(0, 8)) {
    await sleep(20); // the walker fills its look-ahead meanwhile
    await walker.listing(b(rel), true);
    assert.ok(walker.buffered <= 64, `${walker.buffered} listings held after ${rel}`);
  }
  for (const rel of order.slice(8)) await walker.listing(b(rel), true);
  assert.equal(walker.fallbacks, 0);
});
