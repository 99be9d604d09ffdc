// The nightly run with real podman: the app's container is found by discovery, stopped while its
// writable volume is copied and started again afterwards, also when the copy fails, when the start
// fails, and when the backup process gets SIGTERM mid-copy. test/shims/systemctl stands in for
// `systemctl --user` (systemd --user cannot run here): it stops/starts the labelled containers and
// logs each call; the copy appends its own line to the same log, with the container's state.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { runBackup, type BackupDeps } from '../../src/backup/run.js';
import { mirror } from '../../src/engine/mirror.js';
import type { MirrorOptions } from '../../src/engine/types.js';
import { runCommand } from '../../src/host/command.js';
import { memoryLogger } from '../../src/log.js';
import { DIRECTORY_DISKS, makeHomelab, snapshot, type Homelab } from './homelab.js';
import { podmanUnavailable, setupPodman, type PodmanEnv } from './podman-env.js';

const skip = podmanUnavailable();
const SYSTEMCTL = path.resolve('test/shims/systemctl');

interface Setup {
  lab: Homelab;
  pm: PodmanEnv;
  log: string;
  configYaml: string;
  lines(): string[];
  /** The engine, logging each copy and the container's state at its start into the shim's log. */
  observe(fail?: (o: MirrorOptions) => Error | null): BackupDeps['mirror'];
}

function setup(t: TestContext): Setup {
  const pm = setupPodman(t);
  const lab = makeHomelab(t);
  const log = path.join(lab.dir, 'calls.log');
  process.env.SYSTEMCTL_SHIM_LOG = log;
  delete process.env.SYSTEMCTL_SHIM_FAIL_START;
  pm.runContainer({
    name: 'hl-notes',
    unit: 'notes.service',
    rw: [path.join(lab.home, 'protected/apps/notes/data')],
    ro: [path.join(lab.home, 'protected/documents')],
  });
  const configYaml = DIRECTORY_DISKS.replace('services:\n  discover: false\n', `services:\n  discover: true\n  systemctl: ${SYSTEMCTL}\n`);
  return {
    lab,
    pm,
    log,
    configYaml,
    lines: () => fs.readFileSync(log, 'utf8').trim().split('\n'),
    observe: (fail) => async (o) => {
      fs.appendFileSync(log, `copy ${path.relative(lab.dir, o.dst)} (container ${pm.state('hl-notes')})\n`);
      const error = fail?.(o);
      if (error) throw error;
      return mirror(o);
    },
  };
}

/** The log with repeated is-active polls folded into one line. */
function folded(lines: string[]): string[] {
  return lines.filter((l, i) => !(l.startsWith('systemctl is-active') && lines[i - 1] === l));
}

const deps = (extra: Partial<BackupDeps>): BackupDeps => ({ run: runCommand, logger: memoryLogger(), now: Date.now, systemdPollMs: 50, ...extra });

test('real podman + systemctl shim (stands in for systemd --user): the container is stopped while its rw volume is copied, running afterwards; the ro mount is left alone', { skip: skip ?? false }, async (t) => {
  const s = setup(t);
  const o = await runBackup(s.lab.config(s.configYaml), { dryRun: false }, deps({ mirror: s.observe() }));
  assert.equal(o.status, 'ok', o.errors.join('\n'));
  assert.deepEqual(folded(s.lines()), [
    'systemctl is-active notes.service',
    'systemctl stop notes.service',
    'systemctl is-active notes.service',
    'copy disks/daily/protected/apps/notes/data (container exited)',
    'systemctl start notes.service',
    'systemctl is-active notes.service',
    'copy disks/daily/bare (container running)',
    'copy disks/daily/protected (container running)',
  ]);
  assert.equal(s.pm.state('hl-notes'), 'running');
  const service = o.steps.find((x) => x.name === 'service notes.service');
  assert.equal(service?.filesCopied, 2);
  assert.match(o.steps.find((x) => x.name === 'discover services')?.notes.join('\n') ?? '', /1 running container, 1 stop group/);
  assert.deepEqual(snapshot(path.join(s.lab.disk('daily'), 'protected')), snapshot(path.join(s.lab.home, 'protected')));
});

test('real podman: when the copy fails (an exception, or a blocked destination), the service is started again and the run is partial', { skip: skip ?? false }, async (t) => {
  const s = setup(t);
  const thrown = await runBackup(s.lab.config(s.configYaml), { dryRun: false }, deps({ mirror: s.observe((o) => (o.dst.endsWith('data') ? new Error('disk on fire') : null)) }));
  assert.equal(thrown.status, 'partial');
  assert.match(thrown.errors.join('\n'), /service notes.service: protected\/apps\/notes\/data: the copy stopped: disk on fire/);
  assert.deepEqual(folded(s.lines()).slice(3, 5), ['copy disks/daily/protected/apps/notes/data (container exited)', 'systemctl start notes.service']);
  assert.equal(s.pm.state('hl-notes'), 'running');

  // A real fault: the volume's place on the disk is a file, not a directory.
  fs.rmSync(path.join(s.lab.disk('daily'), 'protected'), { recursive: true, force: true });
  fs.mkdirSync(path.join(s.lab.disk('daily'), 'protected'));
  fs.writeFileSync(path.join(s.lab.disk('daily'), 'protected', 'apps'), 'in the way');
  fs.writeFileSync(s.log, '');
  const blocked = await runBackup(s.lab.config(s.configYaml), { dryRun: false }, deps({ mirror: s.observe() }));
  assert.equal(blocked.status, 'partial');
  assert.match(blocked.errors.join('\n'), /service notes.service: .*disks\/daily\/protected\/apps on the disk is not a directory: not written through/);
  assert.ok(s.lines().includes('systemctl start notes.service'), s.lines().join('\n'));
  assert.equal(s.pm.state('hl-notes'), 'running');
});

test('real podman: a service that does not start again is an error of the run', { skip: skip ?? false }, async (t) => {
  const s = setup(t);
  process.env.SYSTEMCTL_SHIM_FAIL_START = 'notes.service';
  t.after(() => delete process.env.SYSTEMCTL_SHIM_FAIL_START);
  const o = await runBackup(s.lab.config(s.configYaml), { dryRun: false }, deps({ mirror: s.observe() }));
  assert.equal(o.status, 'partial');
  assert.match(o.errors[0] ?? '', /service notes.service: notes.service DID NOT START AGAIN: `\S*systemctl --user start notes.service` failed: .*journalctl --user -u notes.service/);
});

test('real podman: SIGTERM to the backup process mid-copy restarts the service, then the process exits non-zero', { skip: skip ?? false }, async (t) => {
  const s = setup(t);
  const configFile = path.join(s.lab.dir, 'config.yaml');
  fs.writeFileSync(configFile, s.configYaml);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/backup-child.ts', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.includes('COPYING\n')) resolve();
    });
    child.on('exit', () => reject(new Error(`the backup exited before copying:\n${stdout}\n${stderr}`)));
  });
  assert.equal(s.pm.state('hl-notes'), 'exited', 'stopped while its volume is being copied');
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 1, `${stdout}\n${stderr}`);
  assert.equal(s.pm.state('hl-notes'), 'running');
  assert.match(stderr, /received SIGTERM: stopping; services are started again and the disk released before exiting/);
  assert.match(stdout, /home-lab backup: FATAL/);
  assert.match(stdout, /interrupted by SIGTERM: the run stopped early; every service it had stopped was started again/);
  assert.match(stdout, /notes.service stopped and started again/);
  const calls = folded(s.lines().filter((l) => l.startsWith('systemctl')));
  assert.deepEqual(calls, ['systemctl is-active notes.service', 'systemctl stop notes.service', 'systemctl is-active notes.service', 'systemctl start notes.service', 'systemctl is-active notes.service']);
});
