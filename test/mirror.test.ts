// The mirror's behaviour at its edges: bad roots, failures on single files (the run goes on, deletions
// are skipped, exit code "partial"), dry runs, --checksum, killed-run leftovers, and the CLI's output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { mirror } from '../src/engine/mirror.js';
import type { MirrorEvent, MirrorOptions } from '../src/engine/types.js';
import { FatalError } from '../src/errors.js';
import { ManifestStore } from '../src/manifest/store.js';
import { hlfs } from '../src/native/hlfs.js';
import { tempDir, isRoot } from './helpers/tmp.js';
import { homeLab, cliPath } from './helpers/cli.js';
import { hashBytes } from '../src/engine/hash.js';

function options(src: string, dst: string, over: Partial<MirrorOptions> = {}): MirrorOptions {
  return { src, dst, excludes: [], checksum: false, dryRun: false, jobs: 2, ...over };
}

function write(root: string, rel: string, content: string, mtimeSec = 1_600_000_000): void {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  const ns = BigInt(mtimeSec) * 1_000_000_000n;
  hlfs.utimensat(Buffer.from(p), ns, ns, true);
}

test('a missing source, a source that is a file, a destination that is a file: fatal, nothing touched', async (t) => {
  const tmp = tempDir(t);
  write(tmp, 'file', 'x');
  await assert.rejects(mirror(options(path.join(tmp, 'nope'), path.join(tmp, 'd1'))), (e: Error) => e instanceof FatalError && /does not exist/.test(e.message));
  await assert.rejects(mirror(options(path.join(tmp, 'file'), path.join(tmp, 'd2'))), /is not a directory/);
  fs.mkdirSync(path.join(tmp, 'src'));
  await assert.rejects(mirror(options(path.join(tmp, 'src'), path.join(tmp, 'file'))), /exists and is not a directory/);
  await assert.rejects(mirror(options(path.join(tmp, 'src'), path.join(tmp, 'no/parent'))), /parent directory does not exist/);
  assert.deepEqual(fs.readdirSync(tmp).sort(), ['file', 'src']);
  const cli = homeLab(['mirror', path.join(tmp, 'nope'), path.join(tmp, 'd3')]);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /does not exist/);
});

test('trailing slashes do not matter: always the contents of SRC into DST', async (t) => {
  const tmp = tempDir(t);
  write(tmp, 'src/a', 'x');
  await mirror(options(path.join(tmp, 'src') + '/', path.join(tmp, 'dst') + '//'));
  assert.deepEqual(fs.readdirSync(path.join(tmp, 'dst')).sort(), ['.home-lab', 'a']);
});

test('an unreadable file: reported with its path, the run goes on, nothing deleted, exit code partial', { skip: isRoot ? false : 'needs root to drop privileges with setpriv' }, async (t) => {
  const tmp = tempDir(t);
  fs.chmodSync(tmp, 0o755);
  write(tmp, 'src/ok1', 'a');
  write(tmp, 'src/secret', 'b');
  write(tmp, 'src/ok2', 'c');
  fs.chmodSync(path.join(tmp, 'src/secret'), 0o000);
  fs.mkdirSync(path.join(tmp, 'dst'));
  write(tmp, 'dst/extra', 'keep me while something failed');
  spawnSync('chown', ['-R', '65534:65534', path.join(tmp, 'src'), path.join(tmp, 'dst')]);
  fs.chmodSync(path.join(tmp, 'src/secret'), 0o000);
  // Root ignores permission bits: run as nobody so EACCES is real.
  const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliPath, 'mirror', '--json', path.join(tmp, 'src'), path.join(tmp, 'dst')], { encoding: 'utf8' });
  assert.equal(run.status, 3, run.stderr);
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.filesCopied, 2);
  assert.equal(summary.failed.length, 1);
  assert.equal(summary.failed[0].path, 'secret');
  assert.match(summary.failed[0].error, /EACCES/);
  assert.match(summary.deletionsSkipped, /not deleted/);
  assert.ok(fs.existsSync(path.join(tmp, 'dst/extra')), 'extras survive a run with failures');
  assert.match(run.stderr, /secret: EACCES/);
});

test('a file that vanishes or changes between the walk and its copy is reported; others are copied', async (t) => {
  const tmp = tempDir(t);
  write(tmp, 'src/a/gone', 'vanishes');
  write(tmp, 'src/a/grows', 'grows');
  write(tmp, 'src/a/ok', 'fine');
  fs.mkdirSync(path.join(tmp, 'src/a/z'));
  write(tmp, 'dst/extra', 'x');
  // Copies are batched and run later than the walk: when the walk reaches a/z, change the files
  // queued before it, as a user or an app would mid-run.
  const onEvent = (ev: MirrorEvent) => {
    if (ev.kind === 'item' && ev.action === 'mkdir' && ev.path.toString() === 'a/z') {
      fs.unlinkSync(path.join(tmp, 'src/a/gone'));
      fs.appendFileSync(path.join(tmp, 'src/a/grows'), 'more bytes');
    }
  };
  const r = await mirror(options(path.join(tmp, 'src'), path.join(tmp, 'dst'), { onEvent }));
  const failed = Object.fromEntries(r.failed.map((f) => [f.path.toString(), f.error]));
  assert.match(failed['a/gone'] ?? '', /ENOENT/);
  assert.match(failed['a/grows'] ?? '', /changed/);
  assert.equal(fs.readFileSync(path.join(tmp, 'dst/a/ok'), 'utf8'), 'fine');
  assert.ok(!fs.existsSync(path.join(tmp, 'dst/a/gone')));
  assert.ok(!fs.existsSync(path.join(tmp, 'dst/a/grows')), 'no half or mismatched copy under the real name');
  assert.ok(fs.existsSync(path.join(tmp, 'dst/extra')));
  assert.deepEqual(fs.readdirSync(path.join(tmp, 'dst/a')).sort(), ['ok', 'z'], 'no temp files left');
  // The next run converges.
  const again = await mirror(options(path.join(tmp, 'src'), path.join(tmp, 'dst')));
  assert.deepEqual(again.failed, []);
  assert.equal(fs.readFileSync(path.join(tmp, 'dst/a/grows'), 'utf8'), 'growsmore bytes');
  assert.ok(!fs.existsSync(path.join(tmp, 'dst/extra')));
});

test('a read-only destination fails with a clear error before anything is written', { skip: isRoot ? false : 'needs root for a read-only bind mount' }, async (t) => {
  const tmp = tempDir(t);
  write(tmp, 'src/a', 'x');
  fs.mkdirSync(path.join(tmp, 'ro'));
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', path.join(tmp, 'ro')]).status, 0);
  try {
    await assert.rejects(mirror(options(path.join(tmp, 'src'), path.join(tmp, 'ro'))), (e: Error) => e instanceof FatalError && /read-only filesystem/.test(e.message));
  } finally {
    spawnSync('umount', [path.join(tmp, 'ro')]);
  }
});

test('--dry-run changes nothing and says what it would do', async (t) => {
  const tmp = tempDir(t);
  write(tmp, 'src/new', 'n');
  write(tmp, 'src/d/inner', 'i');
  write(tmp, 'dst/old', 'o');
  const before = fs.readdirSync(path.join(tmp, 'dst'));
  const r = homeLab(['mirror', '--dry-run', path.join(tmp, 'src'), path.join(tmp, 'dst')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, />f\s+new/);
  assert.match(r.stdout, /cd\s+d/);
  assert.match(r.stdout, />f\s+d\/inner/);
  assert.match(r.stdout, /\*deleting\s+old/);
  assert.deepEqual(fs.readdirSync(path.join(tmp, 'dst')), before);
  const fresh = homeLab(['mirror', '-n', path.join(tmp, 'src'), path.join(tmp, 'fresh')]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.ok(!fs.existsSync(path.join(tmp, 'fresh')), 'a dry run does not even create DST');
});

test('--checksum copies a file whose content changed with size and mtime kept; quick check does not', async (t) => {
  const tmp = tempDir(t);
  write(tmp, 'src/f', 'AAAA');
  await mirror(options(path.join(tmp, 'src'), path.join(tmp, 'dst')));
  write(tmp, 'src/f', 'BBBB'); // same size, same mtime
  const quick = await mirror(options(path.join(tmp, 'src'), path.join(tmp, 'dst')));
  assert.equal(quick.filesCopied, 0);
  assert.equal(fs.readFileSync(path.join(tmp, 'dst/f'), 'utf8'), 'AAAA');
  const sum = await mirror(options(path.join(tmp, 'src'), path.join(tmp, 'dst'), { checksum: true }));
  assert.equal(sum.filesCopied, 1);
  assert.equal(fs.readFileSync(path.join(tmp, 'dst/f'), 'utf8'), 'BBBB');
  const store = ManifestStore.open(path.join(tmp, 'dst'));
  t.after(() => store.close());
  assert.equal(store.get(Buffer.from('f'))?.hash, hashBytes(Buffer.from('BBBB')));
});

test('leftover temp files of a killed run are removed; a stale manifest row is rehashed', async (t) => {
  const tmp = tempDir(t);
  write(tmp, 'src/a', 'alpha');
  await mirror(options(path.join(tmp, 'src'), path.join(tmp, 'dst')));
  fs.writeFileSync(path.join(tmp, 'dst/.home-lab.tmp.0123456789ab'), 'half');
  const store = ManifestStore.open(path.join(tmp, 'dst'));
  store.removeFile(Buffer.from('a')); // as if the run was killed before the manifest committed
  store.close();
  const r = await mirror(options(path.join(tmp, 'src'), path.join(tmp, 'dst')));
  assert.equal(r.filesCopied, 0);
  assert.equal(r.filesRehashed, 1);
  assert.equal(r.filesDeleted, 0, 'a leftover temp file is not a user deletion');
  assert.deepEqual(fs.readdirSync(path.join(tmp, 'dst')).sort(), ['.home-lab', 'a']);
  const again = ManifestStore.open(path.join(tmp, 'dst'));
  t.after(() => again.close());
  assert.ok(again.get(Buffer.from('a')));
});

test('-i itemizes with escaped names; --json summarises; exit code 0', async (t) => {
  const tmp = tempDir(t);
  write(tmp, 'src/new\nline', 'x');
  fs.writeFileSync(Buffer.from(path.join(tmp, 'src') + '/' + 'bad\xff', 'latin1'), 'y');
  const r = homeLab(['mirror', '-i', path.join(tmp, 'src'), path.join(tmp, 'dst')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, />f\s+new\\x0aline/);
  assert.match(r.stdout, />f\s+bad\\xff/);
  const j = homeLab(['mirror', '--json', path.join(tmp, 'src'), path.join(tmp, 'dst')]);
  const summary = JSON.parse(j.stdout);
  assert.equal(summary.filesUnchanged, 2);
  assert.deepEqual(summary.failed, []);
  assert.ok(fs.existsSync(Buffer.from(path.join(tmp, 'dst') + '/bad\xff', 'latin1')), 'non-UTF-8 name kept byte for byte');
});

test('a bad flag is a usage error (exit 2)', () => {
  const r = homeLab(['mirror', '--jobs', 'many', 'a', 'b']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /whole number/);
});

test('--trash: deleted and overwritten files are moved into the trash under their path, not unlinked', async (t) => {
  const tmp = tempDir(t);
  write(tmp, 'src/keep', 'same');
  write(tmp, 'src/d/changed', 'new content', 1_700_000_000);
  await mirror(options(path.join(tmp, 'src'), path.join(tmp, 'dst')));
  write(tmp, 'dst/d/extra', 'extra');
  write(tmp, 'src/d/changed', 'newer content', 1_700_000_100);
  const before = fs.readFileSync(path.join(tmp, 'dst/d/changed'), 'utf8');
  const trash = path.join(tmp, 'dst/.home-lab/trash/2026-11-27');
  const r = await mirror(options(path.join(tmp, 'src'), path.join(tmp, 'dst'), { trashDir: trash }));
  assert.equal(r.filesCopied, 1);
  assert.equal(r.filesDeleted, 1);
  assert.equal(fs.readFileSync(path.join(trash, 'd/extra'), 'utf8'), 'extra');
  assert.equal(fs.readFileSync(path.join(trash, 'd/changed'), 'utf8'), before);
  assert.equal(fs.readFileSync(path.join(tmp, 'dst/d/changed'), 'utf8'), 'newer content');
  assert.ok(!fs.existsSync(path.join(tmp, 'dst/d/extra')));
});

test('--trash never moves through a symlink planted in the trash', async (t) => {
  const tmp = tempDir(t);
  write(tmp, 'src/d/keep', 'k');
  await mirror(options(path.join(tmp, 'src'), path.join(tmp, 'dst')));
  write(tmp, 'dst/d/extra', 'extra');
  fs.mkdirSync(path.join(tmp, 'outside'));
  const trash = path.join(tmp, 'trash');
  fs.mkdirSync(trash);
  fs.symlinkSync(path.join(tmp, 'outside'), path.join(trash, 'd'));
  const r = await mirror(options(path.join(tmp, 'src'), path.join(tmp, 'dst'), { trashDir: trash }));
  assert.deepEqual(fs.readdirSync(path.join(tmp, 'outside')), [], 'nothing landed behind the link');
  assert.equal(r.failed.length, 1);
  assert.match(r.failed[0]?.error ?? '', /ENOTDIR/);
  assert.ok(fs.existsSync(path.join(tmp, 'dst/d/extra')), 'not deleted either: kept until the trash is sound');
});

test('an unchanged directory is trusted only while its manifest rows agree: a missing, stale or orphan row is mended', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  for (const name of ['one', 'two', 'three', 'four', 'five']) write(tmp, `src/photos/2024/${name}.jpg`, `${name} `.repeat(50));
  write(tmp, 'src/photos/2024/skip.tmp-excluded', 'excluded: never in the manifest');
  write(tmp, 'src/photos/notes.txt', 'n');
  const run = () => mirror(options(src, dst, { excludes: ['*.tmp-excluded'] }));
  await run();
  // Excluded files are not copied, but one that is in both trees (kept in DST) leaves the directory
  // "unchanged": the fast path must not count it against the manifest.
  write(tmp, 'dst/photos/2024/skip.tmp-excluded', 'excluded: never in the manifest');
  hlfs.utimensat(Buffer.from(path.join(dst, 'photos/2024')), 1_600_000_000_000_000_000n, 1_600_000_000_000_000_000n, true);
  hlfs.utimensat(Buffer.from(path.join(src, 'photos/2024')), 1_600_000_000_000_000_000n, 1_600_000_000_000_000_000n, true);
  const dir = Buffer.from('photos/2024');
  const edits: [string, (db: ManifestStore['database']) => void, number][] = [
    ['no change', () => {}, 0],
    ['a missing row', (db) => db.prepare('DELETE FROM files WHERE dir = ? AND name = ?').run(dir, Buffer.from('two.jpg')), 1],
    ['a stale mtime', (db) => db.prepare('UPDATE files SET mtime_ns = mtime_ns + 1 WHERE dir = ? AND name = ?').run(dir, Buffer.from('three.jpg')), 1],
    ['a wrong size', (db) => db.prepare('UPDATE files SET size = size + 1 WHERE dir = ? AND name = ?').run(dir, Buffer.from('four.jpg')), 1],
    ['a wrong hash only (scrub finds that, not the mirror)', (db) => db.prepare("UPDATE files SET hash = '0000000000000000' WHERE dir = ? AND name = ?").run(dir, Buffer.from('five.jpg')), 0],
    ['an orphan row', (db) => db.prepare("INSERT INTO files (dir, name, size, mtime_ns, hash, hashed_at) VALUES (?, ?, 1, 1, '00', 1)").run(dir, Buffer.from('gone.jpg')), 0],
  ];
  // The same, with one file of the directory changed in SRC too (only that entry is planned then).
  let edited = 0;
  const withChange = edits.map(([what, edit, rehashed]): (typeof edits)[number] => [
    `${what}, and a changed file`,
    (db) => {
      edit(db);
      write(tmp, 'src/photos/2024/one.jpg', `one, edit ${++edited}`, 1_600_000_000 + edited);
    },
    rehashed,
  ]);
  edits.push(...withChange);
  for (const [what, edit, rehashed] of edits) {
    const store = ManifestStore.open(dst);
    edit(store.database);
    store.close();
    const r = await run();
    const copied = what.endsWith('a changed file') ? 1 : 0;
    assert.equal(r.filesRehashed, rehashed, what);
    assert.equal(r.filesCopied, copied, what);
    assert.equal(r.filesUnchanged, 6 - copied, what);
    const after = ManifestStore.open(dst);
    const rows = after.database.prepare('SELECT name, size, mtime_ns FROM files WHERE dir = ? ORDER BY name').safeIntegers(true).all(dir) as { name: Buffer; size: bigint; mtime_ns: bigint }[];
    after.close();
    assert.deepEqual(rows.map((x) => x.name.toString()), ['five.jpg', 'four.jpg', 'one.jpg', 'three.jpg', 'two.jpg'], what);
    for (const row of rows) {
      const st = fs.statSync(path.join(dst, 'photos/2024', row.name.toString()), { bigint: true });
      assert.equal(row.size, st.size, `${what}: ${row.name.toString()} size`);
      assert.equal(row.mtime_ns, st.mtimeNs, `${what}: ${row.name.toString()} mtime`);
    }
  }
});

test('an excluded directory is never read (it may be a dead network mount): its atime stays, as with rsync', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  write(src, 'keep/a', 'a');
  write(src, 'keep/deeper/b', 'b');
  write(src, 'mnt/nas/photo.jpg', 'big');
  write(src, 'keep/cache/x', 'x');
  // readdir of a directory whose atime is older than its mtime updates the atime (relatime).
  const old = 946_684_800n * 1_000_000_000n;
  const stamp = (rel: string) => hlfs.utimensat(Buffer.from(path.join(src, rel)), old, 1_700_000_000n * 1_000_000_000n, true);
  for (const rel of ['mnt', 'mnt/nas', 'keep/cache', 'keep/deeper']) stamp(rel);
  const atime = (rel: string) => fs.statSync(path.join(src, rel), { bigint: true }).atimeNs;
  const r = await mirror(options(src, path.join(tmp, 'dst'), { excludes: ['/mnt', 'cache/'] }));
  assert.deepEqual(r.failed, []);
  assert.equal(r.dirsListedOutOfOrder, 0);
  assert.ok(fs.existsSync(path.join(tmp, 'dst', 'keep', 'deeper', 'b')));
  assert.ok(!fs.existsSync(path.join(tmp, 'dst', 'mnt')) && !fs.existsSync(path.join(tmp, 'dst', 'keep', 'cache')));
  assert.equal(atime('mnt'), old, 'mnt was read');
  assert.equal(atime('mnt/nas'), old, 'mnt/nas was read');
  assert.equal(atime('keep/cache'), old, 'keep/cache was read');
  assert.notEqual(atime('keep/deeper'), old, 'a directory mirrored is read (the check itself works on this filesystem)');
});
