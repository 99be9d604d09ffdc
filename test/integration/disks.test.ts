// Backup disks for real (as root): loop-mounted ext4 images found by UUID (udev does not run here, so
// there is no /dev/disk/by-uuid: the adapter asks `blkid -U`, or uses a by-uuid directory the test
// makes), mounted, used, unmounted; the second disk used when the first is absent; a mount point
// backed by the wrong device, or by nothing, refused. `cryptsetup open` needs device-mapper, which
// this sandbox lacks: test/shims/cryptsetup checks the arguments and maps NAME to the image instead.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { runBackup, type BackupDeps } from '../../src/backup/run.js';
import { runCommand } from '../../src/host/command.js';
import { mountOf } from '../../src/host/mounts.js';
import { memoryLogger } from '../../src/log.js';
import { isRoot } from '../helpers/tmp.js';
import { makeHomelab, snapshot } from './homelab.js';

function unavailable(): string | null {
  if (!isRoot) return 'needs root (losetup, mount)';
  for (const tool of ['losetup', 'mkfs.ext4', 'blkid', 'mount']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (.ci/run installs e2fsprogs and util-linux)`;
  }
  return null;
}
const skip = unavailable();
const SHIMS = path.resolve('test/shims');

interface Disks {
  dir: string;
  /** A fresh ext4 image with this UUID on a loop device. */
  image(uuid: string): string;
  mountPoint(name: string): string;
  mount(device: string, at: string): void;
}

/** Loop devices, images and mount points, all undone in one after-hook (unmount before detach before rm). */
function disks(t: TestContext): Disks {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'home-lab-disks-'));
  const loops: string[] = [];
  const points: string[] = [];
  t.after(() => {
    for (const p of points) while (mountOf(p)) if (spawnSync('umount', [p]).status !== 0) break;
    for (const l of loops) spawnSync('losetup', ['-d', l]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    image(uuid) {
      const file = path.join(dir, `${uuid}.img`);
      fs.writeFileSync(file, '');
      fs.truncateSync(file, 8 * 1024 * 1024);
      execFileSync('mkfs.ext4', ['-q', '-F', '-U', uuid, '-O', '^has_journal', file]);
      const loop = execFileSync('losetup', ['--find', '--show', file], { encoding: 'utf8' }).trim();
      loops.push(loop);
      return loop;
    },
    mountPoint(name) {
      const p = path.join(dir, 'mnt', name);
      fs.mkdirSync(p, { recursive: true });
      points.push(p);
      return p;
    },
    mount(device, at) {
      execFileSync('mount', [device, at]);
    },
  };
}

const SOURCES = `
home: ./home
stateDir: ./state
sources:
  - name: bare
  - name: protected
services: { discover: false }
scrub: { percent: 100 }
`;

const deps = (extra: Partial<BackupDeps> = {}): BackupDeps & { logger: ReturnType<typeof memoryLogger> } => ({ run: runCommand, now: Date.now, ...extra, logger: memoryLogger() });

test('ext4 by UUID: the absent first disk is skipped, the second is found (blkid), mounted, backed up and unmounted', { skip: skip ?? false }, async (t) => {
  const d = disks(t);
  const lab = makeHomelab(t);
  const absent = randomUUID();
  const present = randomUUID();
  const loop = d.image(present);
  const daily = d.mountPoint('daily');
  const monthly = d.mountPoint('monthly');
  const config = lab.config(`${SOURCES}
disks:
  - { name: daily, mountPoint: ${daily}, filesystem: { uuid: ${absent} } }
  - { name: monthly, mountPoint: ${monthly}, filesystem: { uuid: ${present} }, excludes: ['/photos/'] }
`);
  const o = await runBackup(config, { dryRun: false }, deps());
  assert.equal(o.status, 'ok', o.errors.join('\n'));
  assert.equal(o.disk?.name, 'monthly');
  const diskStep = o.steps.find((s) => s.name === 'disk monthly');
  assert.match(diskStep?.notes.join('\n') ?? '', new RegExp(`skipped disk daily: not present: no device with UUID ${absent}`));
  assert.match(diskStep?.notes.join('\n') ?? '', new RegExp(`using ${monthly} \\(mounted, (/dev/disk/by-uuid/${present}|${loop})\\)`));
  assert.match(diskStep?.notes.join('\n') ?? '', /unmounted /);
  assert.equal(mountOf(monthly), undefined, 'unmounted after the run');
  assert.ok(typeof o.disk?.freeBytes === 'number' && o.disk.freeBytes > 0);

  // What is on the disk: the sources, without the disk's excludes.
  d.mount(loop, monthly);
  const onDisk = snapshot(path.join(monthly, 'protected'));
  assert.ok(onDisk['documents/letter.txt']);
  assert.deepEqual(Object.keys(onDisk).filter((k) => k.startsWith('photos')), []);
  assert.deepEqual(snapshot(path.join(monthly, 'bare')), snapshot(path.join(lab.home, 'bare')));
  assert.ok(fs.existsSync(path.join(monthly, '.home-lab', 'manifest.db')));
});

test('a mount point already mounted from the right device is used and left mounted; from another device, or from nothing, it is refused', { skip: skip ?? false }, async (t) => {
  const d = disks(t);
  const lab = makeHomelab(t);
  const right = randomUUID();
  const wrong = randomUUID();
  const rightLoop = d.image(right);
  const wrongLoop = d.image(wrong);
  const mp = d.mountPoint('backup');
  const cfg = (disk: string) => lab.config(`${SOURCES}\ndisks:\n  - ${disk}\n`);

  d.mount(rightLoop, mp);
  const used = await runBackup(cfg(`{ name: d, mountPoint: ${mp}, filesystem: { uuid: ${right} } }`), { dryRun: false }, deps());
  assert.equal(used.status, 'ok', used.errors.join('\n'));
  assert.match(used.steps[1]?.notes.join('\n') ?? '', /already-mounted/);
  assert.ok(mountOf(mp), 'left mounted: this run did not mount it');
  // A directory disk with a UUID checks the device too.
  const dirUsed = await runBackup(cfg(`{ name: d, mountPoint: ${mp}, directory: { uuid: ${right} } }`), { dryRun: false }, deps());
  assert.equal(dirUsed.status, 'ok', dirUsed.errors.join('\n'));
  execFileSync('umount', [mp]);

  d.mount(wrongLoop, mp);
  fs.rmSync(path.join(mp, 'lost+found'), { recursive: true });
  const before = snapshot(mp);
  const refused = await runBackup(cfg(`{ name: d, mountPoint: ${mp}, filesystem: { uuid: ${right} } }`), { dryRun: false }, deps());
  assert.equal(refused.status, 'fatal');
  // blkid -U may not see the right disk's loop device for ~2 s after it was set up (stale view of a
  // re-used loop device): then the refusal says no device has the UUID. Either way: refused.
  assert.match(
    refused.errors.join('\n'),
    new RegExp(`disk d: ${mp} is mounted from ${wrongLoop} \\(7:\\d+\\), (not from UUID ${right} .*|but no device has UUID ${right}): refusing to write into it`),
  );
  assert.deepEqual(snapshot(mp), before, 'nothing written into the wrong disk');
  assert.ok(mountOf(mp), 'and it was not unmounted either');
  execFileSync('umount', [mp]);

  const nothing = await runBackup(cfg(`{ name: d, mountPoint: ${mp}, directory: {} }`), { dryRun: false }, deps());
  assert.equal(nothing.status, 'fatal');
  assert.match(nothing.errors.join('\n'), /is not a mount point \(nothing is mounted there\): refusing to back up into a directory of the parent filesystem/);
  assert.deepEqual(fs.readdirSync(mp), []);
});

test('LUKS by UUID (cryptsetup shim: no device-mapper here): opened with the key file, mounted, used, unmounted and closed; a wrong key is reported', { skip: skip ?? false }, async (t) => {
  const d = disks(t);
  const lab = makeHomelab(t);
  const uuid = randomUUID();
  const loop = d.image(uuid);
  const mp = d.mountPoint('vault');
  const byUuid = path.join(d.dir, 'by-uuid');
  const mapper = path.join(d.dir, 'mapper');
  fs.mkdirSync(byUuid);
  fs.mkdirSync(mapper);
  fs.symlinkSync(loop, path.join(byUuid, uuid));
  const keyFile = path.join(d.dir, 'vault.key');
  fs.writeFileSync(keyFile, 'correct horse battery staple', { mode: 0o600 });
  const log = path.join(d.dir, 'cryptsetup.log');
  const saved = { PATH: process.env.PATH };
  Object.assign(process.env, { PATH: `${SHIMS}:${process.env.PATH}`, CRYPTSETUP_SHIM_MAPPER_DIR: mapper, CRYPTSETUP_SHIM_LOG: log, CRYPTSETUP_SHIM_KEY: 'correct horse battery staple' });
  t.after(() => {
    process.env.PATH = saved.PATH;
    for (const k of ['CRYPTSETUP_SHIM_MAPPER_DIR', 'CRYPTSETUP_SHIM_LOG', 'CRYPTSETUP_SHIM_KEY']) delete process.env[k];
  });
  const config = lab.config(`${SOURCES}\ndisks:\n  - { name: vault, mountPoint: ${mp}, luks: { uuid: ${uuid}, keyFile: ${keyFile} } }\n`);
  const diskHost = { byUuidDir: byUuid, mapperDir: mapper };

  const o = await runBackup(config, { dryRun: false }, deps({ diskHost }));
  assert.equal(o.status, 'ok', o.errors.join('\n'));
  assert.deepEqual(fs.readFileSync(log, 'utf8').trim().split('\n'), [
    `cryptsetup open ${byUuid}/${uuid} home-lab-vault --key-file ${keyFile}`,
    'cryptsetup close home-lab-vault',
  ]);
  assert.match(o.steps[1]?.notes.join('\n') ?? '', new RegExp(`using ${mp} \\(opened-and-mounted, ${mapper}/home-lab-vault\\)`));
  assert.equal(mountOf(mp), undefined);
  assert.deepEqual(fs.readdirSync(mapper), [], 'closed');

  // Opened and mounted before the run (by hand, or a run that could not close it): used as it is.
  execFileSync('cryptsetup', ['open', path.join(byUuid, uuid), 'home-lab-vault', '--key-file', keyFile]);
  d.mount(path.join(mapper, 'home-lab-vault'), mp);
  fs.writeFileSync(log, '');
  const again = await runBackup(config, { dryRun: false }, deps({ diskHost }));
  assert.equal(again.status, 'ok', again.errors.join('\n'));
  assert.match(again.steps[1]?.notes.join('\n') ?? '', /already-mounted/);
  assert.equal(fs.readFileSync(log, 'utf8'), '', 'no cryptsetup call');
  assert.deepEqual(snapshot(path.join(mp, 'protected')), snapshot(path.join(lab.home, 'protected')));
  execFileSync('umount', [mp]);
  execFileSync('cryptsetup', ['close', 'home-lab-vault']);

  process.env.CRYPTSETUP_SHIM_KEY = 'another key';
  const wrong = await runBackup(config, { dryRun: false }, deps({ diskHost }));
  assert.equal(wrong.status, 'fatal');
  assert.match(wrong.errors.join('\n'), new RegExp(`disk vault: \`cryptsetup open ${byUuid}/${uuid} home-lab-vault --key-file ${keyFile}\` failed: No key available with this passphrase.`));
  assert.equal(mountOf(mp), undefined);
  assert.deepEqual(fs.readdirSync(mapper), []);
  assert.doesNotMatch(JSON.stringify(wrong), /correct horse/, 'the key never appears in the outcome');
});
