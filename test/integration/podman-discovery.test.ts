// Real podman (runc, cgroupfs, a private storage): discovery of units and writable bind mounts, stop
// groups, and the systemd adapter driven through test/shims/systemctl, which stands in for
// `systemctl --user` (systemd --user cannot run here) by stopping and starting the labelled containers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { planServices } from '../../src/backup/services.js';
import { runCommand } from '../../src/host/command.js';
import { discoverContainers } from '../../src/host/podman.js';
import { createSystemd } from '../../src/host/systemd.js';
import { tempDir } from '../helpers/tmp.js';
import { podmanUnavailable, setupPodman } from './podman-env.js';

const skip = podmanUnavailable();
const SHIMS = path.resolve('test/shims');

test('podman discovery: a labelled container with one rw and one ro bind mount yields its unit and only the rw mount', { skip: skip ?? false }, async (t) => {
  const pm = setupPodman(t);
  const home = tempDir(t);
  for (const d of ['protected/app/data', 'protected/app/conf', 'bare/plain']) fs.mkdirSync(path.join(home, d), { recursive: true });
  // The rw mount is given through a symlink: discovery reports the canonical path.
  fs.symlinkSync(path.join(home, 'protected/app/data'), path.join(home, 'data-link'));
  pm.runContainer({ name: 'hl-app', unit: 'app.service', rw: [path.join(home, 'data-link')], ro: [path.join(home, 'protected/app/conf')] });
  pm.runContainer({ name: 'hl-unlabelled', rw: [path.join(home, 'bare/plain')] });

  const found = await discoverContainers(runCommand);
  assert.ok(found.ok, found.ok ? '' : found.error);
  const app = found.containers.find((c) => c.name === 'hl-app');
  assert.ok(app);
  assert.equal(app.unit, 'app.service');
  assert.deepEqual(app.rwBinds.map((m) => m.path), [path.join(home, 'protected/app/data')]);
  assert.equal(found.containers.find((c) => c.name === 'hl-unlabelled')?.unit, null);

  const plan = planServices({
    containers: found.containers,
    manual: [],
    neverStop: [],
    sources: [{ name: 'bare', path: path.join(home, 'bare') }, { name: 'protected', path: path.join(home, 'protected') }],
  });
  assert.deepEqual(plan.groups, [
    { units: ['app.service'], containers: ['hl-app'], volumes: [{ path: path.join(home, 'protected/app/data'), source: 'protected', rel: 'app/data' }] },
  ]);
  assert.ok(plan.notes.some((n) => n.includes('hl-unlabelled') && n.includes('no PODMAN_SYSTEMD_UNIT label')), plan.notes.join('\n'));
});

test('podman discovery: containers of one pod, and units sharing a volume, form one stop group', { skip: skip ?? false }, async (t) => {
  const pm = setupPodman(t);
  const home = tempDir(t);
  for (const d of ['src/db', 'src/web', 'src/shared/inner', 'src/alone']) fs.mkdirSync(path.join(home, d), { recursive: true });
  pm.podman('pod', 'create', '--infra=false', '--name', 'hl-pod');
  pm.runContainer({ name: 'hl-db', unit: 'db.service', pod: 'hl-pod', rw: [path.join(home, 'src/db')] });
  pm.runContainer({ name: 'hl-web', unit: 'web.service', pod: 'hl-pod', rw: [path.join(home, 'src/web')] });
  pm.runContainer({ name: 'hl-a', unit: 'a.service', rw: [path.join(home, 'src/shared')] });
  pm.runContainer({ name: 'hl-b', unit: 'b.service', rw: [path.join(home, 'src/shared/inner')] });
  pm.runContainer({ name: 'hl-alone', unit: 'alone.service', rw: [path.join(home, 'src/alone')] });

  const found = await discoverContainers(runCommand);
  assert.ok(found.ok, found.ok ? '' : found.error);
  const plan = planServices({ containers: found.containers, manual: [], neverStop: [], sources: [{ name: 'src', path: path.join(home, 'src') }] });
  const summary = plan.groups.map((g) => ({ units: g.units, rels: g.volumes.map((v) => v.rel) }));
  assert.deepEqual(summary, [
    { units: ['a.service', 'b.service'], rels: ['shared'] },
    { units: ['alone.service'], rels: ['alone'] },
    { units: ['db.service', 'web.service'], rels: ['db', 'web'] },
  ]);
});

test('systemd adapter through the systemctl shim (stands in for systemd --user): stop, is-active, start, failed start', { skip: skip ?? false }, async (t) => {
  const pm = setupPodman(t);
  const dir = tempDir(t);
  const log = path.join(dir, 'systemctl.log');
  fs.mkdirSync(path.join(dir, 'data'));
  pm.runContainer({ name: 'hl-svc', unit: 'svc.service', rw: [path.join(dir, 'data')] });
  const env = { ...process.env, PATH: `${SHIMS}:${process.env.PATH}`, SYSTEMCTL_SHIM_LOG: log };
  const run: typeof runCommand = (program, args, options) => runCommand(program, args, { env, ...options });
  const systemd = createSystemd({ run, timeoutMs: 30_000, pollMs: 50 });

  assert.equal(await systemd.state('svc.service'), 'active');
  assert.deepEqual(await systemd.stop('svc.service'), { ok: true });
  assert.equal(pm.state('hl-svc'), 'exited');
  assert.equal(await systemd.state('svc.service'), 'inactive');
  assert.deepEqual(await systemd.start('svc.service'), { ok: true });
  assert.equal(pm.state('hl-svc'), 'running');
  assert.match(fs.readFileSync(log, 'utf8'), /^systemctl is-active svc.service\nsystemctl stop svc.service\n(systemctl is-active svc.service\n)+systemctl is-active svc.service\nsystemctl start svc.service\n/);

  await systemd.stop('svc.service');
  const failing = createSystemd({ run: (p, a, o) => run(p, a, { ...o, env: { ...env, SYSTEMCTL_SHIM_FAIL_START: 'svc.service' } }), timeoutMs: 30_000, pollMs: 50 });
  const started = await failing.start('svc.service');
  assert.equal(started.ok, false);
  assert.match(started.ok ? '' : started.error, /systemctl --user start svc.service.*failed.*journalctl --user -u svc.service/);
  assert.deepEqual(await systemd.start('svc.service'), { ok: true });
});
