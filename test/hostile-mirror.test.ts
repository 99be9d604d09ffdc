// Hostile input against the real CLI: symlinks in the destination pointing outside it, odd names in
// every line the mirror prints, and a manifest with crafted paths handed to verify and scrub.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { ageDirectories, homeLabAsync, rawControlLines, rsyncMirror } from './helpers/faults.js';
import { diffSnapshots, snapshot } from './oracle/snapshot.js';
import { hlfs } from '../src/native/hlfs.js';
import { ManifestStore } from '../src/manifest/store.js';
import { joinPath } from '../src/engine/bytes.js';

const b = (s: string) => Buffer.from(s);

/** A file whose atime is older than its mtime: a read (relatime) moves the atime. */
function sentinel(file: string): () => boolean {
  fs.writeFileSync(file, 'outside');
  hlfs.utimensat(b(file), 1_000_000_000_000_000_000n, 1_500_000_000_000_000_000n, true);
  return () => fs.lstatSync(file, { bigint: true }).atimeNs !== 1_000_000_000_000_000_000n;
}

test('symlinks in the destination pointing outside are replaced, never followed or written through', async (t) => {
  const tmp = tempDir(t);
  const [src, dst, outside, ref] = ['src', 'dst', 'outside', 'ref'].map((n) => path.join(tmp, n)) as [string, string, string, string];
  fs.mkdirSync(path.join(src, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(src, 'file'), 'from src');
  fs.writeFileSync(path.join(src, 'dir/child'), 'child');
  fs.writeFileSync(path.join(src, 'gone-later'), 'x');
  ageDirectories(src);
  fs.mkdirSync(path.join(outside, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'target'), 'must not change');
  fs.writeFileSync(path.join(outside, 'sub/child'), 'must not change');
  fs.mkdirSync(dst);
  fs.symlinkSync(path.join(outside, 'target'), path.join(dst, 'file')); // where SRC has a file
  fs.symlinkSync(path.join(outside, 'sub'), path.join(dst, 'dir')); // where SRC has a directory
  fs.symlinkSync(outside, path.join(dst, 'extra-link')); // an extra to delete
  fs.symlinkSync(path.join(outside, 'sub'), path.join(dst, 'dangling-dir')); // extra pointing at a dir with files
  const before = snapshot(outside);
  const run = await homeLabAsync(['mirror', '--no-progress', '--allow-deletions', src, dst]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(diffSnapshots(before, snapshot(outside)), [], 'something outside DST changed');
  rsyncMirror(src, ref);
  assert.deepEqual(diffSnapshots(snapshot(ref), snapshot(dst, ['.home-lab'])), []);
  t.diagnostic('destination symlinks tried: 4, writes outside: 0');
});

test('odd names are escaped in every line mirror prints (-i, --dry-run, summary)', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  const names = ['a\nforged line', 'esc\x1b[2Jclear', 'bell\x07', 'del\x7f', '..', '...', '..hidden', 'rtl\u202eexe.txt'].filter((n) => n !== '..');
  fs.mkdirSync(path.join(src, 'd\nir'), { recursive: true });
  for (const n of names) fs.writeFileSync(path.join(src, 'd\nir', n), n);
  fs.writeFileSync(Buffer.concat([b(src + '/'), Buffer.from([0xff, 0x0a, 0x1b])]), 'bytes');
  fs.mkdirSync(dst);
  fs.writeFileSync(path.join(dst, 'extra\nline'), 'to delete');
  let lines = 0;
  for (const args of [['--dry-run', '-i'], ['-i'], ['-i', '-c']]) {
    const run = await homeLabAsync(['mirror', '--no-progress', ...args, src, dst]);
    assert.equal(run.code, 0, run.stderr);
    const out = run.stdout + run.stderr;
    lines += out.split('\n').length;
    assert.deepEqual(rawControlLines(out), [], `raw control characters with ${args.join(' ')}`);
    assert.doesNotMatch(out, /^forged line/m);
    assert.doesNotMatch(out, /\u202e/);
  }
  t.diagnostic(`odd names: ${names.length + 3}, output lines checked: ${lines}`);
});

test('verify and scrub never read or write outside the target for crafted manifest rows', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'real'), 'real file');
  const first = await homeLabAsync(['mirror', '--no-progress', src, dst]);
  assert.equal(first.code, 0, first.stderr);
  const wasRead = sentinel(path.join(tmp, 'secret'));
  fs.mkdirSync(path.join(src, '..', 'srcside'), { recursive: true });
  const crafted = ['../secret', 'a/../../secret', `${tmp}/secret`, '/etc/passwd', '..', 'real/../../secret'];
  const store = ManifestStore.open(dst);
  for (const p of crafted) store.upsert({ path: b(p), sizeBytes: 7, mtimeNs: 1_500_000_000_000_000_000n, hash: '0000000000000000', hashedAtMs: 1 });
  store.database.prepare('INSERT INTO files (dir, name, size, mtime_ns, hash, hashed_at) VALUES (?, ?, 7, 1, ?, 1)').run(Buffer.alloc(0), b('real\0../secret'), '0000000000000000');
  store.close();
  // Names only: reading the files would move the sentinel's atime.
  const listing = () => {
    const out: string[] = [];
    const walk = (dir: Buffer) => {
      for (const n of fs.readdirSync(dir, { encoding: 'buffer' })) {
        const p = joinPath(dir, n);
        out.push(p.subarray(tmp.length + 1).toString('hex'));
        if (fs.lstatSync(p).isDirectory()) walk(p);
      }
    };
    walk(b(tmp));
    return out.sort();
  };
  const before = listing();
  const secretBefore = fs.lstatSync(path.join(tmp, 'secret'), { bigint: true });
  const runs = [
    await homeLabAsync(['verify', '--no-progress', dst]),
    await homeLabAsync(['scrub', '--no-progress', '--percent', '100', dst]),
    await homeLabAsync(['scrub', '--no-progress', '--percent', '100', '--source', src, dst]),
    await homeLabAsync(['verify', '--no-progress', '--json', '--source', src, dst]),
  ];
  for (const r of runs) {
    assert.equal(r.code, 5, `findings expected: ${r.stderr}${r.stdout.slice(0, 500)}`);
    assert.deepEqual(rawControlLines(r.stdout + r.stderr), []);
  }
  assert.match(runs[0]?.stdout ?? '', /unsafe/i);
  assert.equal(wasRead(), false, 'a file outside the target was read');
  const outsideTarget = (hex: string) => !Buffer.from(hex, 'hex').toString().startsWith('dst');
  assert.deepEqual(listing().filter(outsideTarget), before.filter(outsideTarget), 'entries appeared or vanished outside the target');
  const secretAfter = fs.lstatSync(path.join(tmp, 'secret'), { bigint: true });
  assert.deepEqual([secretAfter.size, secretAfter.mtimeNs, secretAfter.ino], [secretBefore.size, secretBefore.mtimeNs, secretBefore.ino], 'the file outside was written');
  t.diagnostic(`crafted manifest rows: ${crafted.length + 1} x 4 runs (verify, scrub, scrub --source, verify --source), escapes: 0`);
});
