// `home-lab restore --drill`: a random sample restored into a temp dir, every file re-read and
// checked, the result recorded on the disk, the temp dir removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, isRoot } from './helpers/tmp.js';
import { buildMirror, rot } from './helpers/mirror-fixture.js';
import { runRestoreCli } from './helpers/restore-cli.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { memoryLogger } from '../src/log.js';
import { runDrill } from '../src/restore/drill.js';
import { readDrillRecord, writeDrillRecord } from '../src/restore/drill-record.js';
import { seededRandom } from '../src/restore/sample.js';
import { acquireDiskLock } from '../src/backup/lock.js';

function drillOptions(target: string, tempParent: string, over: Partial<Parameters<typeof runDrill>[0]> = {}): Parameters<typeof runDrill>[0] {
  return { target, sampleFiles: 100, maxBytes: 1 << 30, tempParent, random: seededRandom(1), now: () => 1_700_000_000_000, preserveOwner: isRoot, logger: memoryLogger(), ...over };
}

test('a drill on a clean mirror passes, records the time, and leaves no temp dir', async (t) => {
  const f = buildMirror(tempDir(t), { extraFiles: 20 });
  const parent = tempDir(t);
  const r = await runDrill(drillOptions(f.mirror, parent, { sampleFiles: 10 }));
  assert.equal(r.passed, true, r.problems.join('\n'));
  assert.equal(r.files, 10);
  assert.equal(r.rowsConsidered, f.files.length);
  assert.equal(r.cleanedUp, true);
  assert.deepEqual(fs.readdirSync(parent), []);
  const rec = readDrillRecord(f.disk);
  assert.ok(rec.ok && rec.record);
  assert.deepEqual(rec.record, { version: 1, lastRunAtMs: 1_700_000_000_000, lastResult: 'passed', lastPassedAtMs: 1_700_000_000_000, files: 10, bytes: r.bytes, problems: [] });
  assert.equal(fs.existsSync(path.join(f.disk, '.home-lab/lock')), false, 'the lock was released');
});

test('a drill over every file finds a damaged one, fails, and keeps the last pass time', async (t) => {
  const f = buildMirror(tempDir(t));
  writeDrillRecord(f.disk, { atMs: 1_600_000_000_000, passed: true, files: 3, bytes: 3, problems: [] });
  rot(path.join(f.mirror, 'photos/2024/a.jpg'), 5);
  const r = await runDrill(drillOptions(f.disk, tempDir(t)));
  assert.equal(r.passed, false);
  assert.equal(r.problems.length, 1, r.problems.join('\n'));
  assert.match(r.problems[0] as string, /^bare\/photos\/2024\/a\.jpg: content differs from the manifest/);
  const rec = readDrillRecord(f.disk);
  assert.ok(rec.ok && rec.record);
  assert.equal(rec.record.lastResult, 'failed');
  assert.equal(rec.record.lastPassedAtMs, 1_600_000_000_000);
  assert.equal(rec.record.lastRunAtMs, 1_700_000_000_000);
});

test('a file missing from the mirror fails the drill', async (t) => {
  const f = buildMirror(tempDir(t));
  fs.rmSync(path.join(f.mirror, 'top.txt'));
  const r = await runDrill(drillOptions(f.mirror, tempDir(t)));
  assert.equal(r.passed, false);
  assert.ok(r.problems.some((p) => p.startsWith('top.txt: not in the backup')), r.problems.join('\n'));
});

test('the sample respects --sample and --max-bytes and is repeatable with a seed', async (t) => {
  const f = buildMirror(tempDir(t), { extraFiles: 30 });
  const a = await runDrill(drillOptions(f.mirror, tempDir(t), { sampleFiles: 5, random: seededRandom(7) }));
  const events: string[] = [];
  const b = await runDrill(drillOptions(f.mirror, tempDir(t), { sampleFiles: 5, random: seededRandom(7), onEvent: (e) => e.kind === 'restored' && e.type === 'file' && events.push(e.path.toString()) }));
  assert.equal(a.files, 5);
  assert.equal(b.bytes, a.bytes);
  assert.equal(events.length, 5);
  // 200,000-byte a.jpg never fits a 1,000-byte budget.
  const small = await runDrill(drillOptions(f.mirror, tempDir(t), { maxBytes: 1000 }));
  assert.equal(small.passed, true, small.problems.join('\n'));
  assert.ok(small.bytes <= 1000);
  assert.equal(small.files, f.files.length - 1);
});

test('an empty manifest fails the drill: nothing was proven', async (t) => {
  const f = buildMirror(tempDir(t));
  fs.mkdirSync(path.join(f.disk, 'other'));
  const r = await runDrill(drillOptions(path.join(f.disk, 'other'), tempDir(t)));
  assert.equal(r.passed, false);
  assert.match(r.problems.join('\n'), /lists no files here/);
});

test('a drill while another run holds the disk is busy', async (t) => {
  const f = buildMirror(tempDir(t));
  const lock = acquireDiskLock({ diskRoot: f.disk, logger: memoryLogger(), command: 'backup' });
  t.after(() => lock.release());
  const r = await runRestoreCli(['--drill', '--target', f.mirror]);
  assert.equal(r.code, ExitCode.busy);
  assert.ok(r.err.some((l) => l.includes('(home-lab backup)')), r.err.join('\n'));
});

test('restore --drill through the CLI: exit codes, seed, record, json', async (t) => {
  const f = buildMirror(tempDir(t), { extraFiles: 5 });
  const parent = tempDir(t);
  const ok = await runRestoreCli(['--drill', '--target', f.mirror, '--sample', '4', '--seed', '3', '--to', parent]);
  assert.equal(ok.code, ExitCode.ok, ok.err.join('\n'));
  assert.match(ok.out[0] as string, /^drill passed: 4 files \(.*\) restored and every one matched the manifest \(seed 3\)\.$/);
  assert.match(ok.out[1] as string, /recorded in .*\.home-lab\/drill\.json; temp directory removed\./);
  assert.deepEqual(fs.readdirSync(parent), []);
  rot(path.join(f.mirror, 'top.txt'));
  const bad = await runRestoreCli(['--drill', '--target', f.mirror, '--sample', '1000', '--json']);
  assert.equal(bad.code, ExitCode.findings);
  const json = JSON.parse(bad.out.join('\n'));
  assert.equal(json.drill, 'failed');
  assert.equal(json.record.lastResult, 'failed');
  assert.ok(typeof json.record.lastPassedAtMs === 'number');
  const usage = await runRestoreCli(['--drill', 'top.txt', '--target', f.mirror]);
  assert.equal(usage.code, ExitCode.usage);
  const size = await runRestoreCli(['--drill', '--target', f.mirror, '--max-bytes', '12X']);
  assert.equal(size.code, ExitCode.usage);
});

test('readDrillRecord: never run, garbage, and a round trip', (t) => {
  const disk = tempDir(t);
  assert.deepEqual(readDrillRecord(disk), { ok: true, record: null });
  fs.mkdirSync(path.join(disk, '.home-lab'));
  fs.writeFileSync(path.join(disk, '.home-lab/drill.json'), '{not json');
  const bad = readDrillRecord(disk);
  assert.equal(bad.ok, false);
  writeDrillRecord(disk, { atMs: 5, passed: false, files: 0, bytes: 0, problems: Array.from({ length: 20 }, (_, i) => `p${i}`) });
  const r = readDrillRecord(disk);
  assert.ok(r.ok && r.record);
  assert.equal(r.record.lastPassedAtMs, null);
  assert.equal(r.record.problems.length, 10);
});
