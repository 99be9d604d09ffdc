// Hostile input against restore and the drill: crafted paths on the command line and in the
// manifest, symlinks in the backup and in the restore target, names that try to forge output lines.
// Every test counts its cases; the escape count must stay 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, isRoot } from './helpers/tmp.js';
import { buildMirror } from './helpers/mirror-fixture.js';
import { runRestoreCli } from './helpers/restore-cli.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { joinPath } from '../src/engine/bytes.js';
import { hlfs } from '../src/native/hlfs.js';
import { memoryLogger } from '../src/log.js';
import { ManifestStore } from '../src/manifest/store.js';
import { restorePaths } from '../src/restore/restore.js';
import { runDrill } from '../src/restore/drill.js';
import { seededRandom } from '../src/restore/sample.js';

const b = (s: string) => Buffer.from(s);

/** Every path under root with its size, mtime, inode or link target: to prove nothing changed (never reads files: that would move atimes). */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (p: Buffer) => {
    const st = fs.lstatSync(p);
    const kind = st.isSymbolicLink() ? `l:${fs.readlinkSync(p)}` : st.isFile() ? `f:${st.size}:${st.mtimeMs}:${st.ino}` : st.isDirectory() ? 'd' : 'o';
    out.push(`${p.toString('hex')} ${kind} ${st.mode}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(p, { encoding: 'buffer' }).sort(Buffer.compare)) walk(joinPath(p, n));
  };
  walk(b(root));
  return out;
}

/** A file whose atime is older than its mtime: any read (relatime) moves the atime. */
function sentinel(file: string): () => boolean {
  fs.writeFileSync(file, 'secret outside the disk');
  hlfs.utimensat(b(file), 1_000_000_000_000_000_000n, 1_500_000_000_000_000_000n, true);
  return () => fs.lstatSync(file, { bigint: true }).atimeNs !== 1_000_000_000_000_000_000n;
}

test('hostile command-line paths are refused before anything is read or written', async (t) => {
  const world = tempDir(t);
  const f = buildMirror(path.join(world, 'disk'));
  fs.mkdirSync(f.disk, { recursive: true });
  const wasRead = sentinel(path.join(world, 'secret'));
  const to = path.join(world, 'out');
  fs.mkdirSync(to);
  const before = snapshot(world);
  const hostile = ['../secret', '../../secret', 'photos/../../secret', 'photos/../../../secret', '/etc/passwd', '//etc/passwd', '..', 'a/..', 'top.txt\0../secret'];
  for (const p of hostile) {
    const r = await runRestoreCli([p, '--target', f.mirror, '--to', to]);
    assert.equal(r.code, ExitCode.usage, p);
    assert.ok(r.err.some((l) => /cannot restore .*: (contains a '\.\.' component|absolute path|contains a NUL byte)/.test(l)), `${JSON.stringify(p)}: ${r.err.join('\n')}`);
  }
  assert.deepEqual(snapshot(world), before, 'nothing changed anywhere');
  assert.equal(wasRead(), false, 'the file outside was never read');
  t.diagnostic(`hostile command-line paths tried: ${hostile.length}, escapes: 0`);
});

test('restorePaths itself refuses crafted paths (defence in depth below the CLI)', (t) => {
  const world = tempDir(t);
  const f = buildMirror(path.join(world, 'disk'));
  const wasRead = sentinel(path.join(world, 'secret'));
  const to = path.join(world, 'out');
  const crafted = ['../secret', 'bare/../../secret', '/etc/passwd', 'x\0y'].map(b);
  const r = restorePaths({ sourceRoot: b(f.mirror), paths: crafted, to: b(to), check: null, preserveOwner: false });
  assert.equal(r.failed.length, crafted.length);
  assert.ok(r.failed.every((x) => x.error.startsWith('refused: ')));
  assert.equal(r.filesRestored, 0);
  assert.deepEqual(fs.readdirSync(to), []);
  assert.equal(wasRead(), false);
});

test('a manifest with crafted rows never makes the drill read or write outside the disk', async (t) => {
  const world = tempDir(t);
  const f = buildMirror(path.join(world, 'disk'));
  const wasRead = sentinel(path.join(world, 'secret'));
  const store = ManifestStore.open(f.disk);
  const crafted = ['../secret', 'bare/../../secret', '/etc/passwd', `${world}/secret`, 'bare/photos/../../../secret'];
  for (const p of crafted) store.upsert({ path: b(p), sizeBytes: 23, mtimeNs: 1n, hash: '0000000000000000', hashedAtMs: 1 });
  // A NUL inside a row's name, stored raw.
  store.database.prepare('INSERT INTO files (dir, name, size, mtime_ns, hash, hashed_at) VALUES (?, ?, 1, 1, ?, 1)').run(b('bare'), Buffer.from('top.txt\0../../secret'), '0000000000000000');
  store.close();
  const parent = path.join(world, 'tmp');
  fs.mkdirSync(parent);
  const before = snapshot(world).filter((l) => !l.startsWith(b(path.join(f.disk, '.home-lab')).toString('hex')));
  for (const target of [f.disk, f.mirror]) {
    const restored: string[] = [];
    const r = await runDrill({
      target, sampleFiles: 1000, maxBytes: 1 << 30, tempParent: parent, random: seededRandom(1), now: () => 1, preserveOwner: isRoot, logger: memoryLogger(),
      onEvent: (e) => void (e.kind === 'restored' && restored.push(e.path.toString())),
    });
    assert.equal(r.passed, false, 'crafted rows fail the drill');
    assert.equal(r.unsafeRows, crafted.length + 1, r.problems.join('\n'));
    assert.ok(r.problems.filter((p) => p.startsWith('unsafe path in the manifest, never read: ')).length === crafted.length + 1);
    assert.ok(!restored.some((p) => p.includes('secret')), restored.join(', '));
    assert.equal(r.files, f.files.length, 'the genuine rows were all restored and verified');
  }
  assert.deepEqual(fs.readdirSync(parent), [], 'temp dirs removed');
  const after = snapshot(world).filter((l) => !l.startsWith(b(path.join(f.disk, '.home-lab')).toString('hex')));
  assert.deepEqual(after, before, 'nothing outside .home-lab changed (drill.json and the lock live there)');
  assert.equal(wasRead(), false, 'the file outside was never read');
  t.diagnostic(`crafted manifest rows tried: ${crafted.length + 1} x 2 targets, escapes: 0`);
});

test('symlinks in the backup are never followed: restored as links, never read through', async (t) => {
  const world = tempDir(t);
  const f = buildMirror(path.join(world, 'disk'));
  fs.mkdirSync(path.join(world, 'outside'));
  const wasRead = sentinel(path.join(world, 'outside/secret'));
  fs.symlinkSync(path.join(world, 'outside'), path.join(f.mirror, 'evil-dir'));
  fs.symlinkSync(path.join(world, 'outside/secret'), path.join(f.mirror, 'evil-file'));
  const to = path.join(world, 'out');
  const through = await runRestoreCli(['evil-dir/secret', '--target', f.mirror, '--to', to]);
  assert.equal(through.code, ExitCode.partial);
  assert.ok(through.err.some((l) => l.includes('evil-dir is a symlink in the backup') && l.includes('never followed')), through.err.join('\n'));
  const links = await runRestoreCli(['evil-dir', 'evil-file', '.', '--target', f.mirror, '--to', path.join(world, 'out2')]);
  assert.equal(links.code, ExitCode.ok, links.err.join('\n'));
  for (const name of ['evil-dir', 'evil-file']) assert.ok(fs.lstatSync(path.join(world, 'out2', name)).isSymbolicLink(), name);
  assert.equal(wasRead(), false);
  // A symlink planted in the trash in place of the mirror's directory.
  fs.mkdirSync(path.join(f.disk, '.home-lab/trash/2024-06-30'), { recursive: true });
  fs.symlinkSync(path.join(world, 'outside'), path.join(f.disk, '.home-lab/trash/2024-06-30/bare'));
  const trash = await runRestoreCli(['secret', '--from-trash', '2024-06-30', '--target', f.mirror, '--to', path.join(world, 'out3')]);
  assert.equal(trash.code, ExitCode.fatal);
  assert.ok(trash.err.some((l) => l.includes('has a symlink at') && l.includes('never followed')), trash.err.join('\n'));
  assert.equal(wasRead(), false);
  assert.equal(fs.existsSync(path.join(world, 'out3/secret')), false);
});

test('symlinks in the restore target are never written through', async (t) => {
  const world = tempDir(t);
  const f = buildMirror(path.join(world, 'disk'));
  const outside = path.join(world, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'victim'), 'do not overwrite');
  const to = path.join(world, 'out');
  fs.mkdirSync(to);
  fs.symlinkSync(outside, path.join(to, 'photos')); // a parent on the way
  fs.symlinkSync(outside, path.join(to, 'docs')); // a directory being restored
  fs.symlinkSync(path.join(outside, 'victim'), path.join(to, 'top.txt')); // the file itself
  const before = snapshot(outside);
  const r = await runRestoreCli(['photos/2024/a.jpg', 'docs', 'top.txt', '--target', f.mirror, '--to', to]);
  assert.equal(r.code, ExitCode.partial);
  assert.equal(r.err.filter((l) => l.includes('not written through')).length, 2, r.err.join('\n'));
  assert.deepEqual(snapshot(outside), before, 'nothing written outside the target');
  assert.equal(fs.lstatSync(path.join(to, 'top.txt')).isFile(), true, 'the link itself was replaced by the file');
  assert.equal(fs.readFileSync(path.join(outside, 'victim'), 'utf8'), 'do not overwrite');
});

test('a restore target inside the backup, over it, or in .home-lab is refused', async (t) => {
  const f = buildMirror(tempDir(t));
  const cases: [string[], RegExp][] = [
    [['top.txt', '--target', f.mirror, '--to', path.join(f.mirror, 'restored')], /is inside the backup/],
    [['top.txt', '--target', f.mirror, '--to', f.mirror], /is inside the backup/],
    [['bare', '--target', f.disk, '--to', f.disk], /is inside the backup/],
    [['.', '--target', f.mirror, '--to', path.dirname(f.disk)], /would write over the backup itself/],
    [['top.txt', '--target', f.mirror, '--to', path.join(f.disk, '.home-lab/x')], /is inside the backup/],
  ];
  for (const [args, pattern] of cases) {
    const before = snapshot(f.disk);
    const r = await runRestoreCli(args);
    assert.equal(r.code, ExitCode.usage, args.join(' '));
    assert.ok(r.err.some((l) => pattern.test(l)), `${args.join(' ')}: ${r.err.join('\n')}`);
    // The refused target may have been created (empty) before the check; nothing else changes.
    assert.deepEqual(snapshot(f.disk).filter((l) => !/ d \d+$/.test(l)), before.filter((l) => !/ d \d+$/.test(l)));
  }
});

test('names with newlines and control characters are escaped in every line restore prints', async (t) => {
  const f = buildMirror(tempDir(t));
  const evil = 'evil\nerror: forged line\x1b[2J\x07\u202e\u0085';
  fs.writeFileSync(path.join(f.mirror, 'docs', evil), 'x');
  const to = tempDir(t);
  fs.mkdirSync(path.join(to, 'docs'), { recursive: true });
  fs.mkdirSync(path.join(to, 'docs', evil)); // a directory in the way: a failure line with the name
  const runs = [
    await runRestoreCli(['docs', `missing\n${evil}`, '--target', f.mirror, '--to', to, '-v']),
    await runRestoreCli(['docs', '--target', f.mirror, '--to', tempDir(t), '--json']),
    await runRestoreCli(['--drill', '--target', f.mirror, '-v']),
  ];
  fs.appendFileSync(path.join(f.mirror, 'docs', evil), 'z'); // not in the manifest: listed as unverified with -v
  runs.push(await runRestoreCli(['docs', '--target', f.mirror, '--to', tempDir(t), '-v']));
  let lines = 0;
  for (const r of runs) {
    for (const line of [...r.out, ...r.err]) {
      lines++;
      // eslint-disable-next-line no-control-regex -- finding raw control characters is the point
      assert.ok(!/[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(line), `raw control character in: ${JSON.stringify(line)}`);
      assert.ok(!line.startsWith('error: forged line'), 'no forged line');
    }
  }
  const all = runs.flatMap((r) => [...r.out, ...r.err]).join('\n');
  assert.ok(all.includes('evil\\x0aerror: forged line\\x1b[2J\\x07\\xe2\\x80\\xae\\xc2\\x85'), 'the name is shown escaped');
  assert.ok(all.includes('new\\x0aline\\x1b[31m\\xff\\xfe.txt'), 'the fixture odd name is shown escaped');
  t.diagnostic(`output lines checked: ${lines}`);
});
