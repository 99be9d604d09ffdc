// `home-lab status`: a fresh machine ("never run"), after a success, after a failure, with an
// overdue disk, with a run that died, and with a backup disk mounted (live manifest numbers).
// The command runs in-process through commander with a recording Cli.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { Command } from 'commander';
import { memoryLogger } from '../src/log.js';
import type { Cli } from '../src/cli/cli.js';
import type { ExitCodeValue } from '../src/cli/exit-codes.js';
import { register } from '../src/cli/commands/status.js';
import { announce, announceStart } from '../src/backup/announce.js';
import { buildStatus, formatAge, renderStatus, type StatusReport } from '../src/backup/status.js';
import { emptyState, recordOutcome, saveState } from '../src/backup/state.js';
import { notifyConfigSchema, monitorConfigSchema } from '../src/config/notify-schema.js';
import { ManifestStore } from '../src/manifest/store.js';
import { okOutcome, partialOutcome } from './helpers/outcome.js';
import { tempDir } from './helpers/tmp.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A machine: its own HOME, XDG dirs, and optionally a config file. */
function machine(t: TestContext) {
  const root = tempDir(t);
  const env = { HOME: root, XDG_CONFIG_HOME: path.join(root, 'config'), XDG_STATE_HOME: path.join(root, 'state') };
  const saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, XDG_STATE_HOME: process.env.XDG_STATE_HOME };
  Object.assign(process.env, env);
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const stateDir = path.join(root, 'state', 'home-lab');
  return { root, env, stateDir };
}

async function status(args: string[]): Promise<{ out: string; err: string; code: ExitCodeValue }> {
  const out: string[] = [];
  const err: string[] = [];
  let code: ExitCodeValue = 0;
  const cli: Cli = { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, logger: () => memoryLogger(), setExitCode: (c) => (code = c) };
  const program = new Command().exitOverride();
  register(program, cli);
  await program.parseAsync(['status', ...args], { from: 'user' });
  return { out: out.join('\n'), err: err.join('\n'), code };
}

async function statusJson(args: string[] = []): Promise<StatusReport> {
  return JSON.parse((await status(['--json', ...args])).out) as StatusReport;
}

const announceDeps = { fetch: globalThis.fetch, now: Date.now, logger: memoryLogger(), env: {} };
const quietConfig = (stateDir: string) => ({ stateDir, notify: notifyConfigSchema.parse({}), monitor: monitorConfigSchema.parse({}) });

test('fresh machine, no config, no state: "never run"', async (t) => {
  const m = machine(t);
  const text = await status([]);
  assert.equal(text.code, 0);
  assert.match(text.out, /^Never run: no backup has run on this machine yet \(no state at .*state\/home-lab\/state\.json\)\./);
  assert.match(text.out, /! no backup has run on this machine yet\. Run `home-lab backup`/);
  const json = await statusJson();
  assert.equal(json.neverRun, true);
  assert.equal(json.ok, false);
  assert.equal(json.stateFile, path.join(m.stateDir, 'state.json'));
  assert.deepEqual(json.disks, []);
});

test('after a success: last run, per-disk ages, nothing to attend to', async (t) => {
  const m = machine(t);
  const now = Date.now();
  const outcome = okOutcome({ startedAtMs: now - 2 * HOUR - 754_000, finishedAtMs: now - 2 * HOUR });
  await announce(outcome, quietConfig(m.stateDir), announceDeps);
  const text = await status(['--no-live']);
  assert.match(text.out, /^Last run: .* \(2 h ago\): OK on daily, took 12m 34s$/m);
  assert.match(text.out, /^Disk daily \(\/mnt\/backup-daily\)$/m);
  assert.match(text.out, /^ {2}last success {2}.* \(2 h ago\)$/m);
  assert.match(text.out, /^ {2}scrub {9}42\.0 % of 1000 files verified in the last 100 days; oldest check .*; 7 never verified$/m);
  assert.match(text.out, /^ {2}free {10}500\.0 GiB \(at its last run\)$/m);
  assert.match(text.out, /^OK: nothing needs attention\.$/m);
  const json = await statusJson();
  assert.equal(json.ok, true);
  assert.equal(json.disks[0]!.lastSuccessAtMs, outcome.finishedAtMs);
});

test('after a failure: the error and the missing success are flagged', async (t) => {
  const m = machine(t);
  const now = Date.now();
  await announce(okOutcome({ startedAtMs: now - 30 * HOUR, finishedAtMs: now - 29 * HOUR }), quietConfig(m.stateDir), announceDeps);
  await announce(partialOutcome({ startedAtMs: now - 3 * HOUR, finishedAtMs: now - 2 * HOUR }), quietConfig(m.stateDir), announceDeps);
  const text = await status([]);
  assert.match(text.out, /^Last run: .*: PARTIAL on daily, took 1h 00m — 14 files could not be copied$/m);
  assert.match(text.out, /^ {2}last success {2}.* \(29 h ago\)$/m);
  assert.match(text.out, /^Needs attention \(2\):$/m);
  assert.match(text.out, /! no successful backup in the last 26 h \(the last one ended 29 h ago\)\./);
  assert.match(text.out, /! the last run \(2 h ago, disk daily\) ended partial: 14 files could not be copied/);
  const json = await statusJson();
  assert.equal(json.ok, false);
  assert.equal(json.disks[0]!.lastStatus, 'partial');
});

test('an overdue disk (config with rotation days): the drawer disk is flagged, a never-used one too', async (t) => {
  const m = machine(t);
  const now = Date.now();
  const configFile = path.join(m.root, 'config.yaml');
  fs.mkdirSync(path.join(m.root, 'bare'));
  fs.writeFileSync(
    configFile,
    [
      `stateDir: ${m.stateDir}`,
      'sources:',
      `  - name: bare`,
      `    path: ${path.join(m.root, 'bare')}`,
      'disks:',
      ...['daily', 'monthly', 'spare'].flatMap((d) => [`  - name: ${d}`, `    mountPoint: /mnt/${d}`, '    directory: { requireMountPoint: false }']),
      'monitor:',
      '  rotationDays: { daily: 2, monthly: 35, spare: 90 }',
    ].join('\n'),
  );
  let state = recordOutcome(emptyState(), okOutcome({ disk: { name: 'monthly', mountPoint: '/mnt/monthly', freeBytes: 1 }, startedAtMs: now - 41 * DAY, finishedAtMs: now - 40 * DAY }), null);
  state = recordOutcome(state, okOutcome({ startedAtMs: now - 2 * HOUR, finishedAtMs: now - HOUR }), null);
  assert.deepEqual(saveState(m.stateDir, state), { ok: true });

  const text = await status(['--config', configFile]);
  assert.match(text.out, /^ {2}rotation {6}every 35 days: OVERDUE$/m);
  assert.match(text.out, /^ {2}rotation {6}every 2 days: on time$/m);
  assert.match(text.out, /! disk monthly: last success 40 days ago, longer than its rotation period of 35 days: swap it in/);
  assert.match(text.out, /! disk spare has never had a successful backup \(rotation period 90 days\)/);
  assert.match(text.out, /^Disk spare\n {2}never used$/m);
  const json = await statusJson(['--config', configFile]);
  assert.deepEqual(json.disks.map((d) => [d.name, d.overdue]), [['daily', false], ['monthly', true], ['spare', true]]);
});

test('a run that died: marked running, its process gone', async (t) => {
  const m = machine(t);
  await announceStart(quietConfig(m.stateDir), announceDeps, { startedAtMs: Date.now() - HOUR });
  let json = await statusJson();
  assert.equal(json.running?.alive, true, 'this test process is that run');
  assert.match((await status([])).out, /^Running: a backup started .*\(pid \d+\)\.$/m);

  const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
  const file = path.join(m.stateDir, 'state.json');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(`"pid": ${process.pid}`, `"pid": ${gone}`));
  json = await statusJson();
  assert.equal(json.running?.alive, false);
  assert.match(json.warnings.join('\n'), /a backup started 60 min ago never finished: its process \(pid \d+\) is gone, it died/);
});

test('a mounted backup disk: free space and coverage are read from it now', async (t) => {
  const m = machine(t);
  const disk = path.join(m.root, 'disk');
  fs.mkdirSync(disk);
  const now = Date.now();
  const store = ManifestStore.open(disk, { create: true });
  for (let i = 0; i < 4; i++) store.upsert({ path: Buffer.from(`f${i}`), sizeBytes: 1, mtimeNs: 0n, hash: '0'.repeat(16), hashedAtMs: now });
  store.setVerified(Buffer.from('f0'), now - DAY, 'ok');
  store.setVerified(Buffer.from('f1'), now - 200 * DAY, 'ok');
  store.close();
  await announce(okOutcome({ disk: { name: 'daily', mountPoint: disk, freeBytes: 1 }, startedAtMs: now - 2 * HOUR, finishedAtMs: now - HOUR }), quietConfig(m.stateDir), announceDeps);

  const json = await statusJson();
  const d = json.disks[0]!;
  assert.equal(d.live, true);
  assert.deepEqual(d.coverage, { rows: 4, verifiedShare100d: 0.25, neverVerified: 2, oldestVerifiedAtMs: now - 200 * DAY });
  assert.ok(d.freeBytes !== null && d.freeBytes > 1, 'free bytes from statfs, not the stored 1');
  assert.match((await status([])).out, /^Disk daily \(.*\/disk\), mounted$/m);
  assert.equal((await statusJson(['--no-live'])).disks[0]!.live, false);
});

test('an unreadable state file is a clear error, exit code fatal', async (t) => {
  const m = machine(t);
  fs.mkdirSync(m.stateDir, { recursive: true });
  fs.writeFileSync(path.join(m.stateDir, 'state.json'), 'not json');
  const r = await status([]);
  assert.equal(r.code, 1);
  assert.match(r.err, /the run state .*state\.json is not valid JSON: move it aside/);
});

test('buildStatus and formatAge, pure', () => {
  assert.deepEqual([0, 59_000, 60_000, 119 * 60_000, 3 * HOUR, 47 * HOUR, 3 * DAY, -1].map(formatAge), [
    'just now', 'just now', '1 min ago', '119 min ago', '3 h ago', '47 h ago', '3 days ago', 'in the future (clock changed?)',
  ]);
  const now = Date.UTC(2024, 5, 1);
  const fatalNoDisk = recordOutcome(emptyState(), okOutcome({ status: 'fatal', disk: null, errors: ['no backup disk could be mounted: daily: UUID not present'], startedAtMs: now - HOUR, finishedAtMs: now - HOUR }), null);
  const report = buildStatus({ state: fatalNoDisk, stateFile: '/s', nowMs: now, configuredDisks: ['daily'], rotationDays: {}, pidAlive: () => false });
  assert.equal(report.neverRun, false);
  assert.deepEqual(report.warnings, [
    'no backup has ever succeeded.',
    'the last run (60 min ago, no disk) ended fatal: no backup disk could be mounted: daily: UUID not present',
  ]);
  const lines = renderStatus(report, { timeZone: 'UTC' });
  assert.equal(lines[0], 'Last run: 2024-05-31 23:00:00 (60 min ago): FATAL on no disk, took 0s — no backup disk could be mounted: daily: UUID not present');
  const corrupt = buildStatus({ state: recordOutcome(emptyState(), okOutcome({ corruptFound: 3, startedAtMs: now, finishedAtMs: now }), null), stateFile: '/s', nowMs: now, configuredDisks: [], rotationDays: {}, pidAlive: () => true });
  assert.deepEqual(corrupt.warnings, ['disk daily: its last run found 3 corrupt backup file(s): run `home-lab scrub` on it.']);
});
