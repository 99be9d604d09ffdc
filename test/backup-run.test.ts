// The nightly run on directory disks (no root, no podman needed), with the real engine: what lands on
// the disk, the witness, per-disk excludes, refusals that change nothing, dry run, and an app's data
// directory stopped-and-copied (through the demo's stand-in systemctl) and excluded from the live copy.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runBackup, LAST_SUCCESS_FILE, type BackupDeps } from '../src/backup/run.js';
import { WITNESS_FILE } from '../src/backup/witness.js';
import { runCommand } from '../src/host/command.js';
import { memoryLogger } from '../src/log.js';
import { ManifestStore } from '../src/manifest/store.js';
import { DIRECTORY_DISKS, makeHomelab, snapshot, standInSystemctl } from './integration/homelab.js';

const deps = (extra: Partial<Omit<BackupDeps, 'logger'>> = {}): BackupDeps & { logger: ReturnType<typeof memoryLogger> } => ({
  run: runCommand,
  now: Date.now,
  ...extra,
  logger: memoryLogger(),
});

test('a run on directory disks mirrors every source, verifies, reads the witness back, records the success; a rerun copies nothing', async (t) => {
  const lab = makeHomelab(t);
  const config = lab.config(DIRECTORY_DISKS);
  const o = await runBackup(config, { dryRun: false }, deps());
  assert.equal(o.status, 'ok', o.errors.join('\n'));
  assert.equal(o.disk?.name, 'daily');
  assert.deepEqual(o.steps.map((s) => s.name), ['sources', 'disk daily', 'discover services', 'source bare', 'source protected', 'witness']);
  const daily = lab.disk('daily');
  assert.deepEqual(snapshot(path.join(daily, 'bare')), snapshot(path.join(lab.home, 'bare')));
  assert.deepEqual(snapshot(path.join(daily, 'protected')), snapshot(path.join(lab.home, 'protected')));
  assert.ok(fs.existsSync(path.join(daily, 'bare', WITNESS_FILE)));
  assert.deepEqual(snapshot(lab.disk('monthly')), {});
  // Every copied file is in the manifest; scrub.percent 100 verified them all.
  const store = ManifestStore.open(daily);
  assert.equal(store.count().files, 7);
  assert.equal([...store.iterate()].filter((r) => r.verifyStatus === 'ok').length, 7);
  store.close();
  assert.equal(o.steps.reduce((n, s) => n + s.filesVerified, 0), 7);
  assert.equal(o.coverage?.rows, 7);
  assert.equal(JSON.parse(fs.readFileSync(path.join(daily, LAST_SUCCESS_FILE), 'utf8')).disk, 'daily');

  const again = await runBackup(config, { dryRun: false }, deps());
  assert.equal(again.status, 'ok', again.errors.join('\n'));
  // Only the witness changed.
  assert.equal(again.steps.reduce((n, s) => n + s.filesCopied, 0), 1);
});

test('per-disk excludes: the monthly disk skips /photos/; --disk forces it', async (t) => {
  const lab = makeHomelab(t);
  const o = await runBackup(lab.config(DIRECTORY_DISKS), { dryRun: false, disk: 'monthly' }, deps());
  assert.equal(o.status, 'ok', o.errors.join('\n'));
  assert.equal(o.disk?.name, 'monthly');
  const monthly = snapshot(lab.disk('monthly'));
  assert.ok(monthly['protected/documents/letter.txt']);
  assert.deepEqual(Object.keys(monthly).filter((k) => k.includes('photos')), []);
  assert.deepEqual(snapshot(lab.disk('daily')), {});
});

test('a source that must be a mount point and is not: refused, nothing changed (no witness, disk untouched)', async (t) => {
  const lab = makeHomelab(t);
  const config = lab.config(DIRECTORY_DISKS.replace('  - name: protected\n', '  - name: protected\n    requireMountPoint: true\n'));
  const before = snapshot(lab.home);
  const o = await runBackup(config, { dryRun: false }, deps());
  assert.equal(o.status, 'fatal');
  assert.match(o.errors.join('\n'), /source protected: .*\/home\/protected is not a mount point \(its disk is not mounted\?\): refusing to run, nothing was changed/);
  assert.deepEqual(snapshot(lab.home), before);
  assert.deepEqual(snapshot(lab.disk('daily')), {});
  assert.equal(fs.existsSync(path.join(lab.disk('daily'), '.home-lab')), false);
  assert.equal(o.disk, null);
});

test('a missing source: fatal before any disk is touched', async (t) => {
  const lab = makeHomelab(t);
  fs.rmSync(path.join(lab.home, 'bare'), { recursive: true });
  const o = await runBackup(lab.config(DIRECTORY_DISKS), { dryRun: false }, deps());
  assert.equal(o.status, 'fatal');
  assert.match(o.errors[0] ?? '', /source bare: .*home\/bare does not exist: nothing was changed/);
  assert.deepEqual(snapshot(lab.disk('daily')), {});
});

test('a directory disk that must be a mount point and is not is refused; the next disk is used; none left: every reason', async (t) => {
  const lab = makeHomelab(t);
  const strict = DIRECTORY_DISKS.replace("    mountPoint: ./disks/daily\n    directory: { requireMountPoint: false }", '    mountPoint: ./disks/daily\n    directory: {}');
  const o = await runBackup(lab.config(strict), { dryRun: false }, deps());
  assert.equal(o.status, 'ok', o.errors.join('\n'));
  assert.equal(o.disk?.name, 'monthly');
  assert.match(o.steps[1]?.notes.join('\n') ?? '', /skipped disk daily: .*disks\/daily is not a mount point \(nothing is mounted there\): refusing to back up into a directory of the parent filesystem/);
  assert.deepEqual(snapshot(lab.disk('daily')), {});

  const none = await runBackup(lab.config(strict), { dryRun: false, disk: 'daily' }, deps());
  assert.equal(none.status, 'fatal');
  assert.match(none.errors.join('\n'), /no backup disk could be used: disk daily: .*is not a mount point/);
  fs.rmSync(lab.disk('monthly'), { recursive: true });
  const missing = await runBackup(lab.config(strict), { dryRun: false }, deps());
  assert.match(missing.errors.join('\n'), /disk daily: .*not a mount point.*; disk monthly: mount point .*disks\/monthly does not exist \(create it: mkdir -p /);
});

test('the witness: missing on the disk fails the run; a stale one from an earlier run fails it too', async (t) => {
  const lab = makeHomelab(t);
  const excluded = DIRECTORY_DISKS.replace("    directory: { requireMountPoint: false }\n  - name: monthly", "    directory: { requireMountPoint: false }\n    excludes: ['/.home-lab-witness']\n  - name: monthly");
  const missing = await runBackup(lab.config(excluded), { dryRun: false }, deps());
  assert.equal(missing.status, 'fatal');
  assert.match(missing.errors.join('\n'), /witness: the witness .*disks\/daily\/bare\/\.home-lab-witness could not be read back from the disk \(ENOENT\)/);
  assert.equal(fs.existsSync(path.join(lab.disk('daily'), LAST_SUCCESS_FILE)), false);

  const ok = await runBackup(lab.config(DIRECTORY_DISKS), { dryRun: false }, deps());
  assert.equal(ok.status, 'ok', ok.errors.join('\n'));
  const stale = await runBackup(lab.config(excluded), { dryRun: false }, deps({ now: () => Date.now() + 1000 }));
  assert.equal(stale.status, 'fatal');
  assert.match(stale.errors.join('\n'), /the witness on the disk .* is stale: written by the run of .*, not this run's .*: this run's mirror did not reach the disk end to end/);
});

test("an app's data directory: its unit stopped while it is copied, started after; the live copy excludes it and never deletes it", async (t) => {
  const lab = makeHomelab(t);
  const systemctl = standInSystemctl(lab);
  const config = lab.config(
    DIRECTORY_DISKS.replace(
      'services:\n  discover: false\n',
      `services:\n  discover: false\n  systemctl: ${systemctl}\n  alwaysStop:\n    - unit: notes.service\n      volumes: [protected/apps/notes/data]\n`,
    ),
  );
  const d = deps();
  const o = await runBackup(config, { dryRun: false }, { ...d, systemdPollMs: 20 });
  assert.equal(o.status, 'ok', o.errors.join('\n'));
  assert.deepEqual(o.steps.map((s) => s.name), ['sources', 'disk daily', 'discover services', 'service notes.service', 'source bare', 'source protected', 'witness']);
  const service = o.steps[3]!;
  assert.equal(service.filesCopied, 2);
  assert.equal(service.filesVerified, 2);
  assert.deepEqual(service.notes, ['notes.service stopped and started again']);
  // The live copy of protected copied the other files only: the volume is neither copied twice...
  assert.equal(o.steps[5]?.filesCopied, 2);
  assert.deepEqual(snapshot(path.join(lab.disk('daily'), 'protected')), snapshot(path.join(lab.home, 'protected')));
  const log = fs.readFileSync(path.join(lab.dir, 'run', 'services.log'), 'utf8').replace(/^\S+ /gm, '');
  assert.match(log, /^systemctl --user is-active notes.service\nsystemctl --user stop notes.service\n(systemctl --user is-active notes.service\n)+systemctl --user start notes.service\n/);
  const copying = d.logger.lines.map((l) => l.message).filter((m) => /^(stopping|starting|copying)/.test(m));
  assert.match(copying[0] ?? '', /^stopping notes.service/);
  assert.match(copying[1] ?? '', /^copying .*apps\/notes\/data -> .*disks\/daily\/protected\/apps\/notes\/data$/);
  assert.match(copying[2] ?? '', /^starting notes.service/);
  assert.match(copying[4] ?? '', /^copying .*home\/protected -> .*daily\/protected \(excluding \/apps\/notes\/data\/\)$/);

  // ... nor deleted by it: a file removed from the volume goes with the volume's own mirror.
  fs.rmSync(path.join(lab.home, 'protected/apps/notes/data/notes/0001.txt'));
  const again = await runBackup(config, { dryRun: false }, { ...deps(), systemdPollMs: 20 });
  assert.equal(again.status, 'ok', again.errors.join('\n'));
  assert.equal(again.steps[3]?.filesDeleted, 1);
  assert.equal(again.steps[5]?.filesDeleted, 0);
  assert.deepEqual(snapshot(path.join(lab.disk('daily'), 'protected')), snapshot(path.join(lab.home, 'protected')));
});

test('--dry-run: plans every step, stops nothing, writes nothing', async (t) => {
  const lab = makeHomelab(t);
  const systemctl = standInSystemctl(lab);
  const config = lab.config(
    DIRECTORY_DISKS.replace('services:\n  discover: false\n', `services:\n  discover: false\n  systemctl: ${systemctl}\n  alwaysStop: [{ unit: notes.service, volumes: [protected/apps/notes/data] }]\n`),
  );
  const before = snapshot(lab.home);
  const o = await runBackup(config, { dryRun: true }, deps());
  assert.equal(o.status, 'ok', o.errors.join('\n'));
  assert.equal(o.dryRun, true);
  assert.equal(o.steps.find((s) => s.name === 'service notes.service')?.filesCopied, 2);
  assert.equal(o.steps.find((s) => s.name === 'source protected')?.filesCopied, 2);
  assert.match(o.steps.find((s) => s.name === 'service notes.service')?.notes.join('\n') ?? '', /would stop notes.service while copying protected\/apps\/notes\/data/);
  assert.deepEqual(snapshot(lab.home), before);
  assert.deepEqual(fs.readdirSync(lab.disk('daily')), []);
  assert.equal(fs.existsSync(path.join(lab.dir, 'run')), false, 'the stand-in systemctl was never called');
});
