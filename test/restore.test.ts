// Restore from a mirror and from a trash day: every attribute kept, every file checked against the
// manifest, damage flagged (exit code "findings") while the file is still restored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, isRoot } from './helpers/tmp.js';
import { buildMirror, describeTree, rot, writeManifest, ODD_NAME } from './helpers/mirror-fixture.js';
import { runRestoreCli } from './helpers/restore-cli.js';
import { joinPath } from '../src/engine/bytes.js';
import { hlfs } from '../src/native/hlfs.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { memoryLogger } from '../src/log.js';
import { runRestore } from '../src/restore/run.js';
import { checkAgainstRow } from '../src/restore/verify.js';
import { reservoirSample, seededRandom, withinBudget } from '../src/restore/sample.js';
import { locateMirror } from '../src/restore/locate.js';

const b = (s: string) => Buffer.from(s);

function subtree(all: Map<string, string>, prefixHex: string): Map<string, string> {
  return new Map([...all].filter(([k]) => k === prefixHex || k.startsWith(prefixHex + '2f')));
}

test('checkAgainstRow: table', () => {
  const row = { hash: 'aaaaaaaaaaaaaaaa', sizeBytes: 5, mtimeNs: 10n };
  const same = { hash: 'aaaaaaaaaaaaaaaa', sizeBytes: 5, mtimeNs: 10n };
  const rotten = { hash: 'bbbbbbbbbbbbbbbb', sizeBytes: 5, mtimeNs: 10n };
  const newer = { hash: 'bbbbbbbbbbbbbbbb', sizeBytes: 6, mtimeNs: 11n };
  const cases: [string, ReturnType<typeof checkAgainstRow>['status'], RegExp | null][] = [];
  const add = (name: string, r: ReturnType<typeof checkAgainstRow>, status: string, why: RegExp | null) => {
    assert.equal(r.status, status, name);
    if (why && r.status !== 'verified') assert.match(r.why, why, name);
    cases.push([name, r.status, why]);
  };
  add('mirror, match', checkAgainstRow(row, same, 'mirror'), 'verified', null);
  add('mirror, no row', checkAgainstRow(undefined, same, 'mirror'), 'unverified', /not in the manifest/);
  add('mirror, rot', checkAgainstRow(row, rotten, 'mirror'), 'mismatch', /same size and mtime: the backup copy is damaged/);
  add('mirror, other version', checkAgainstRow(row, newer, 'mirror'), 'mismatch', /stale/);
  add('mirror, same content new mtime', checkAgainstRow(row, { ...same, mtimeNs: 99n }, 'mirror'), 'verified', null);
  add('trash, same version', checkAgainstRow(row, same, 'trash'), 'verified', null);
  add('trash, same version rotten', checkAgainstRow(row, rotten, 'trash'), 'mismatch', /damaged/);
  add('trash, older version', checkAgainstRow(row, newer, 'trash'), 'unverified', /current version/);
  add('trash, no row', checkAgainstRow(undefined, same, 'trash'), 'unverified', /not in the manifest/);
  assert.equal(cases.length, 9);
});

test('reservoirSample and withinBudget: uniform-ish, bounded, reproducible', () => {
  const items = Array.from({ length: 1000 }, (_, i) => ({ i, sizeBytes: i }));
  const a = reservoirSample(items, 10, seededRandom(42));
  const again = reservoirSample(items, 10, seededRandom(42));
  assert.deepEqual(a, again);
  assert.equal(a.length, 10);
  assert.ok(a.every((x, k) => k === 0 || x.i > (a[k - 1] as { i: number }).i), 'kept in the order met');
  assert.equal(reservoirSample(items.slice(0, 3), 10, Math.random).length, 3);
  // Every item is reachable: over many seeds, the last item gets picked sometimes.
  let lastPicked = 0;
  for (let seed = 0; seed < 300; seed++) if (reservoirSample(items, 10, seededRandom(seed)).some((x) => x.i === 999)) lastPicked++;
  assert.ok(lastPicked > 0 && lastPicked < 30, `last item picked ${lastPicked} times in 300 (expected ~3)`);
  assert.deepEqual(withinBudget([{ sizeBytes: 5 }, { sizeBytes: 10 }, { sizeBytes: 3 }], 9), [{ sizeBytes: 5 }, { sizeBytes: 3 }]);
});

test('locateMirror finds the disk root above the mirror and the manifest prefix', (t) => {
  const disk = tempDir(t);
  const f = buildMirror(disk);
  const loc = locateMirror(path.join(f.mirror, '.'));
  assert.equal(loc.diskRoot?.toString(), fs.realpathSync(disk));
  assert.equal(loc.prefix.toString(), 'bare');
  assert.equal(loc.hasManifest, true);
  const atDisk = locateMirror(disk);
  assert.equal(atDisk.prefix.length, 0);
  const bare = tempDir(t);
  assert.equal(locateMirror(bare).diskRoot, null);
});

test('restore of the whole mirror keeps every attribute and verifies every file', async (t) => {
  const f = buildMirror(tempDir(t));
  const to = path.join(tempDir(t), 'out');
  const r = await runRestoreCli(['.', '--target', f.mirror, '--to', to]);
  assert.equal(r.code, ExitCode.ok, r.err.join('\n'));
  assert.deepEqual(describeTree(to), describeTree(f.mirror));
  assert.match(r.out.join('\n'), new RegExp(`restored ${f.files.length} files .* ${f.files.length} verified against the manifest, 0 unverified, 0 MISMATCHED, 0 failed`));
});

test('restore of single files and directories lands at DIR/PATH with parents from the backup', async (t) => {
  const f = buildMirror(tempDir(t));
  const to = tempDir(t);
  const r = await runRestoreCli(['photos/2024/a.jpg', 'docs/', 'photos/link-rel', '--target', f.mirror, '--to', to, '-v']);
  assert.equal(r.code, ExitCode.ok, r.err.join('\n'));
  const want = describeTree(f.mirror);
  const got = describeTree(to);
  for (const key of ['photos/2024/a.jpg', 'photos/link-rel', 'docs/setuid-tool', 'docs/ro/readonly.txt', 'docs/link-abs', 'docs/fifo', 'docs/ro', 'docs', 'photos/2024', 'photos']) {
    const hex = b(key).toString('hex');
    assert.equal(got.get(hex), want.get(hex), key);
  }
  assert.equal(got.has(b('photos/2024/b.jpg').toString('hex')), false, 'only what was asked for');
  assert.deepEqual(subtree(got, b('docs').toString('hex')), subtree(want, b('docs').toString('hex')));
  assert.equal(fs.readlinkSync(path.join(to, 'docs/link-abs')), '/etc/passwd', 'a link is restored as a link');
  assert.ok(r.out.some((l) => l === 'restored file    photos/2024/a.jpg'), r.out.join('\n'));
});

test('a damaged backup file is restored, flagged, and the exit code says findings', async (t) => {
  const f = buildMirror(tempDir(t));
  rot(path.join(f.mirror, 'photos/2024/a.jpg'), 100_000);
  const to = tempDir(t);
  const r = await runRestoreCli(['photos', '--target', f.mirror, '--to', to]);
  assert.equal(r.code, ExitCode.findings);
  assert.ok(r.err.some((l) => l.startsWith('error: MISMATCH photos/2024/a.jpg: content differs from the manifest')), r.err.join('\n'));
  assert.ok(fs.readFileSync(path.join(to, 'photos/2024/a.jpg')).equals(fs.readFileSync(path.join(f.mirror, 'photos/2024/a.jpg'))));
  assert.match(r.out.join('\n'), /1 MISMATCHED/);
});

test('a path missing from the backup fails (partial) while the others are restored', async (t) => {
  const f = buildMirror(tempDir(t));
  const to = tempDir(t);
  const r = await runRestoreCli(['nope/never', 'top.txt', '--target', f.mirror, '--to', to]);
  assert.equal(r.code, ExitCode.partial);
  assert.ok(r.err.some((l) => l.startsWith('error: nope/never: not in the backup')), r.err.join('\n'));
  assert.equal(fs.readFileSync(path.join(to, 'top.txt'), 'utf8'), 'top level\n');
});

test('without a manifest files are restored unverified, with a warning', async (t) => {
  const src = tempDir(t);
  fs.writeFileSync(path.join(src, 'f'), 'x');
  const to = tempDir(t);
  const r = await runRestoreCli(['f', '--target', src, '--to', to]);
  assert.equal(r.code, ExitCode.ok);
  assert.ok(r.err.some((l) => l.includes('no manifest at or above')));
  assert.match(r.out.join('\n'), /0 verified against the manifest, 1 unverified/);
});

test('restore of "." at a disk root skips .home-lab; the mirror root itself is a target', async (t) => {
  const f = buildMirror(tempDir(t));
  const to = tempDir(t);
  const r = await runRestoreCli(['.', '--target', f.disk, '--to', to]);
  assert.equal(r.code, ExitCode.ok, r.err.join('\n'));
  assert.deepEqual(fs.readdirSync(to), ['bare']);
  assert.deepEqual(describeTree(path.join(to, 'bare')), describeTree(f.mirror));
});

test('--from-trash restores the trashed version; the manifest cannot vouch for it', async (t) => {
  const f = buildMirror(tempDir(t));
  const day = path.join(f.disk, '.home-lab/trash/2024-06-30/bare/photos/2024');
  fs.mkdirSync(day, { recursive: true });
  fs.writeFileSync(path.join(day, 'a.jpg'), 'the old a.jpg');
  fs.writeFileSync(path.join(day, 'deleted.jpg'), 'deleted');
  const to = tempDir(t);
  const r = await runRestoreCli(['photos/2024', '--from-trash', '2024-06-30', '--target', f.mirror, '--to', to]);
  assert.equal(r.code, ExitCode.ok, r.err.join('\n'));
  assert.equal(fs.readFileSync(path.join(to, 'photos/2024/a.jpg'), 'utf8'), 'the old a.jpg');
  assert.equal(fs.readFileSync(path.join(to, 'photos/2024/deleted.jpg'), 'utf8'), 'deleted');
  assert.match(r.out.join('\n'), /restored 2 files .* from the trash of 2024-06-30 .* 0 verified against the manifest, 2 unverified/);
  const missing = await runRestoreCli(['x', '--from-trash', '2024-06-29', '--target', f.mirror, '--to', to]);
  assert.equal(missing.code, ExitCode.usage);
  assert.ok(missing.err.some((l) => l.includes('no trash for 2024-06-29 on this disk (days kept: 2024-06-30)')));
  const bad = await runRestoreCli(['x', '--from-trash', 'yesterday', '--target', f.mirror, '--to', to]);
  assert.equal(bad.code, ExitCode.usage);
});

test('a trash day holding the same version as the manifest is verified', (t) => {
  const disk = tempDir(t);
  fs.mkdirSync(path.join(disk, 'm'));
  fs.writeFileSync(path.join(disk, 'm/f'), 'same');
  writeManifest(disk, '', [b('m/f')]);
  const day = path.join(disk, '.home-lab/trash/2024-06-30/m');
  fs.mkdirSync(day, { recursive: true });
  fs.copyFileSync(path.join(disk, 'm/f'), path.join(day, 'f'));
  const st = fs.statSync(path.join(disk, 'm/f'), { bigint: true });
  hlfs.utimensat(b(path.join(day, 'f')), st.atimeNs, st.mtimeNs, true);
  const r = runRestore({ target: path.join(disk, 'm'), paths: ['f'], to: tempDir(t), fromTrash: '2024-06-30', preserveOwner: isRoot, logger: memoryLogger() });
  assert.equal(r.filesRestored, 1);
  assert.equal(r.filesVerified, 1);
});

test('restore over existing entries replaces files and links, merges into directories', async (t) => {
  const f = buildMirror(tempDir(t));
  const to = tempDir(t);
  fs.mkdirSync(path.join(to, 'photos/2024'), { recursive: true });
  fs.writeFileSync(path.join(to, 'photos/2024/a.jpg'), 'stale');
  fs.writeFileSync(path.join(to, 'photos/2024/mine.txt'), 'keep me');
  fs.symlinkSync('/nowhere', path.join(to, 'top.txt'));
  fs.mkdirSync(path.join(to, 'photos/2024/b.jpg'));
  const r = await runRestoreCli(['photos', 'top.txt', '--target', f.mirror, '--to', to]);
  assert.equal(r.code, ExitCode.partial);
  assert.ok(fs.readFileSync(path.join(to, 'photos/2024/a.jpg')).equals(fs.readFileSync(path.join(f.mirror, 'photos/2024/a.jpg'))));
  assert.equal(fs.readFileSync(path.join(to, 'photos/2024/mine.txt'), 'utf8'), 'keep me');
  assert.equal(fs.lstatSync(path.join(to, 'top.txt')).isFile(), true);
  assert.ok(r.err.some((l) => l.startsWith('error: photos/2024/b.jpg: not restored: EISDIR (a directory is in the way in the target)')), r.err.join('\n'));
});

test('usage errors: no --to, no target, both targets, no paths', async (t) => {
  const f = buildMirror(tempDir(t));
  for (const args of [['top.txt', '--target', f.mirror], ['top.txt', '--to', '/tmp/x'], ['top.txt', '--target', f.mirror, '--disk', 'd', '--to', '/tmp/x'], ['--target', f.mirror, '--to', tempDir(t)]]) {
    const r = await runRestoreCli(args);
    assert.equal(r.code, ExitCode.usage, args.join(' '));
  }
});

test('--disk NAME resolves the configured disk and refuses an unmounted one', async (t) => {
  const f = buildMirror(tempDir(t));
  const empty = tempDir(t);
  const cfg = path.join(tempDir(t), 'config.yaml');
  fs.writeFileSync(cfg, [
    'sources:', '  - name: bare', `    path: ${tempDir(t)}`,
    'disks:', '  - name: daily', `    mountPoint: ${f.disk}`, '    directory: { requireMountPoint: false }',
    '  - name: monthly', `    mountPoint: ${empty}`, '    directory: { requireMountPoint: false }', '',
  ].join('\n'));
  const to = tempDir(t);
  const r = await runRestoreCli(['bare/top.txt', '--disk', 'daily', '--config', cfg, '--to', to]);
  assert.equal(r.code, ExitCode.ok, r.err.join('\n'));
  assert.equal(fs.readFileSync(path.join(to, 'bare/top.txt'), 'utf8'), 'top level\n');
  const off = await runRestoreCli(['bare/top.txt', '--disk', 'monthly', '--config', cfg, '--to', to]);
  assert.equal(off.code, ExitCode.fatal);
  assert.ok(off.err.some((l) => l.includes('disk "monthly" is not mounted')), off.err.join('\n'));
  const none = await runRestoreCli(['bare/top.txt', '--disk', 'weekly', '--config', cfg, '--to', to]);
  assert.equal(none.code, ExitCode.usage);
});

test('odd names survive the restore byte for byte', async (t) => {
  const f = buildMirror(tempDir(t));
  const to = tempDir(t);
  const r = await runRestoreCli(['docs', '--target', f.mirror, '--to', to]);
  assert.equal(r.code, ExitCode.ok, r.err.join('\n'));
  const names = fs.readdirSync(path.join(to, 'docs'), { encoding: 'buffer' });
  assert.ok(names.some((n) => n.equals(ODD_NAME)));
  assert.equal(fs.readFileSync(joinPath(b(path.join(to, 'docs')), ODD_NAME), 'utf8'), 'odd name\n');
});
