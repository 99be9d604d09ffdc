// verify's listing of the backup disk on libuv's pool (native/namesums.c via src/scrub/disk-names.ts):
// the same directories and the same name fingerprints as walking the tree in JavaScript, the same
// skips, and a directory it cannot list reported and its subtree left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { diskNameSums } from '../src/scrub/disk-names.js';
import { walkTree } from '../src/manifest/tree.js';
import { addName, emptyNameSet, type NameSet } from '../src/scrub/name-set.js';
import { tempDir, isRoot } from './helpers/tmp.js';
import { homeLabAsync } from './helpers/faults.js';

const key = (dir: Buffer) => dir.toString('latin1');

/** What the JavaScript walk finds: every listed directory's regular files, fingerprinted. */
function walkedSums(root: string): Map<string, NameSet> {
  const out = new Map<string, NameSet>();
  for (const listing of walkTree(root)) {
    const set = emptyNameSet();
    for (const e of listing.entries) if (e.type === 'file') addName(set, e.name);
    out.set(key(listing.dir), set);
  }
  return out;
}

test('diskNameSums: the directories and name fingerprints walkTree gives, with its skips', async (t) => {
  const root = tempDir(t);
  const at = (...parts: (string | Buffer)[]) => Buffer.concat(parts.flatMap((p, i) => (i ? [Buffer.from('/'), Buffer.from(p)] : [Buffer.from(p)])));
  fs.mkdirSync(path.join(root, 'a/b/c'), { recursive: true });
  fs.mkdirSync(path.join(root, 'empty'));
  fs.mkdirSync(path.join(root, '.home-lab'));
  fs.writeFileSync(path.join(root, '.home-lab/manifest.db'), 'not counted');
  fs.mkdirSync(path.join(root, 'a/.home-lab'));
  fs.writeFileSync(path.join(root, 'a/.home-lab/x'), 'counted: only the root one is home-lab own');
  fs.mkdirSync(path.join(root, 'a/.home-lab.tmp.dir'));
  fs.writeFileSync(path.join(root, 'a/.home-lab.tmp.dir/inside'), 'skipped with its directory');
  fs.writeFileSync(path.join(root, 'a/.home-lab.tmp.123-4'), 'a copy in flight');
  fs.writeFileSync(path.join(root, 'top.txt'), 'x');
  fs.writeFileSync(path.join(root, 'a/one'), '1');
  fs.writeFileSync(path.join(root, 'a/b/line\nbreak'), '2');
  fs.writeFileSync(at(root, 'a/b', Buffer.from([0x66, 0xff, 0xfe, 0x80])), 'not UTF-8');
  fs.writeFileSync(path.join(root, 'a/b/c', 'n'.repeat(255)), 'longest name');
  fs.symlinkSync(path.join(root, 'a'), path.join(root, 'link-to-a'));
  fs.symlinkSync('top.txt', path.join(root, 'a/link-to-file'));
  assert.equal(spawnSync('mkfifo', [path.join(root, 'a/fifo')]).status, 0);

  const native = await diskNameSums(root);
  assert.ok(native.every((d) => d.error === null), JSON.stringify(native.filter((d) => d.error !== null)));
  const got = new Map(native.map((d) => [key(d.dir), d.names]));
  assert.equal(got.size, native.length, 'each directory once');
  const want = walkedSums(root);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [dir, names] of want) assert.deepEqual(got.get(dir), names, `directory ${JSON.stringify(dir)}`);
  // Spot checks of what the skips mean.
  assert.equal(got.get('')?.count, 1, 'top.txt only: .home-lab skipped, the symlink is not a file');
  assert.equal(got.get('a')?.count, 1, 'a/one only: temp file, symlink and fifo are not counted');
  assert.ok(got.has('a/.home-lab') && !got.has('a/.home-lab.tmp.dir') && !got.has('link-to-a'));
  // A trailing slash names the same root.
  const slashed = await diskNameSums(root + '/');
  assert.deepEqual(new Map(slashed.map((d) => [key(d.dir), d.names])), got);
});

test('diskNameSums: a root that is not there is one failed listing', async (t) => {
  const missing = path.join(tempDir(t), 'gone');
  assert.deepEqual(await diskNameSums(missing), [{ dir: Buffer.alloc(0), names: emptyNameSet(), error: 'ENOENT (readdir)' }]);
});

const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
const skip = !isRoot ? 'needs root to hand the tree to nobody' : !hasSetpriv ? 'setpriv (util-linux) is not installed' : false;

test('verify as a user who cannot list a directory: it says which, checks the rest, finds the unknown file', { skip }, async (t) => {
  const tmp = tempDir(t);
  fs.chmodSync(tmp, 0o755);
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  fs.mkdirSync(path.join(src, 'open'), { recursive: true });
  fs.mkdirSync(path.join(src, 'closed/deeper'), { recursive: true });
  fs.writeFileSync(path.join(src, 'open/a.txt'), 'a');
  fs.writeFileSync(path.join(src, 'closed/deeper/b.txt'), 'b');
  const mirror = await homeLabAsync(['mirror', '--no-progress', src + '/', dst]);
  assert.equal(mirror.code, 0, mirror.stderr);
  spawnSync('chown', ['-R', '65534:65534', dst]);
  fs.writeFileSync(path.join(dst, 'open/stray.txt'), 'never hashed');
  fs.chownSync(path.join(dst, 'open/stray.txt'), 65534, 65534);
  fs.chownSync(path.join(dst, 'closed'), 0, 0);
  fs.chmodSync(path.join(dst, 'closed'), 0o700);
  const run = await homeLabAsync(['verify', '--no-progress', dst], { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] });
  const out = run.stdout + run.stderr;
  assert.match(out, /cannot list closed under TARGET: EACCES \(readdir\)/);
  assert.doesNotMatch(out, /cannot list closed\/deeper/, 'nothing under a directory it cannot list is visited');
  assert.match(out, /open\/stray\.txt/);
  assert.notEqual(run.code, 0, 'findings: not a clean exit');
});
