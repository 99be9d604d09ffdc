// The commands as a user runs them (a child process through tsx): `home-lab backup` exit codes and
// summary, `home-lab config check`, and `home-lab demo` end to end.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from './helpers/tmp.js';
import { DIRECTORY_DISKS, makeHomelab } from './integration/homelab.js';

function homeLab(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, JOURNAL_STREAM: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('home-lab backup: exit 0 and a per-step summary; announce records the state; an unknown --disk is a usage error', (t) => {
  const lab = makeHomelab(t);
  const config = path.join(lab.dir, 'config.yaml');
  fs.writeFileSync(config, DIRECTORY_DISKS);
  const r = homeLab(['backup', '--config', config]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^home-lab backup: OK to disk daily \(.*disks\/daily, .* free\) in [\d.]+ s$/m);
  assert.match(r.stdout, /^ {2}source protected +ok +[\d.]+ s +copied 4 \(.*\), deleted 0 \(0 B\), verified 4$/m);
  const state = JSON.parse(fs.readFileSync(path.join(lab.dir, 'state', 'state.json'), 'utf8')) as { disks: Record<string, unknown> };
  assert.ok(state.disks.daily, 'announce recorded the run for disk daily');
  assert.ok(fs.existsSync(path.join(lab.dir, 'state', 'home-lab.prom')));

  const bad = homeLab(['backup', '--config', config, '--disk', 'weekly']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--disk weekly: no such disk in .*config.yaml \(disks: daily, monthly\)/);
});

test('home-lab backup: a source that is not mounted exits 1 and changes nothing; a bad config exits 2 naming line and key', (t) => {
  const lab = makeHomelab(t);
  const config = path.join(lab.dir, 'config.yaml');
  fs.writeFileSync(config, DIRECTORY_DISKS.replace('  - name: bare\n', '  - name: bare\n    requireMountPoint: true\n'));
  const r = homeLab(['backup', '--config', config]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /home-lab backup: FATAL/);
  assert.match(r.stderr, /source bare: .* is not a mount point/);
  assert.deepEqual(fs.readdirSync(lab.disk('daily')), []);

  fs.writeFileSync(config, DIRECTORY_DISKS.replace('    directory: { requireMountPoint: false }\n  - name: monthly', '    directory: { requireMountPoint: nope }\n  - name: monthly'));
  const bad = homeLab(['backup', '--config', config]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /home-lab: the config .*config\.yaml is not valid; nothing was mounted or stopped\. Fix:\n {2}config\.yaml:10: disks\[0\]\.directory\.requireMountPoint: expected true or false, got a string/);
});

test('home-lab config check: the resolved config, secrets masked', (t) => {
  const dir = tempDir(t);
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    config,
    `sources: [{ name: bare }]
disks:
  - { name: daily, mountPoint: /mnt/daily, luks: { uuid: 0b5e6c1a-1111-2222-3333-444455556666, keyFile: keys/daily.key } }
notify:
  gotify: { url: 'https://gotify.example', tokenFile: /etc/home-lab/gotify.token }
  ntfy: { url: 'https://ntfy.sh/secret-topic-x83hd' }
monitor:
  push: { kind: uptime-kuma, url: 'https://kuma.example/api/push/Xy12Ab?status=up' }
`,
  );
  const r = homeLab(['config', 'check', '--config', config], { HOME: '/home/alice' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^# ${config}: valid\nhome: /home/alice\n`));
  assert.match(r.stdout, /luks:\n {6}uuid: 0b5e6c1a-1111-2222-3333-444455556666\n {6}keyFile: .*\/keys\/daily\.key\n {6}mapperName: home-lab-daily/);
  assert.match(r.stdout, /deletions:\n {2}maxFiles: 1000\n {2}maxPercent: 10\ntrash:\n {2}retentionDays: 30/);
  assert.match(r.stdout, /url: https:\/\/ntfy\.sh\/\*\*\*/);
  assert.match(r.stdout, /url: https:\/\/kuma\.example\/\*\*\*\?\*\*\*/);
  assert.doesNotMatch(r.stdout, /secret-topic|Xy12Ab/);

  const missing = homeLab(['config', 'check', '--config', path.join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read it: ENOENT/);
});

test('home-lab demo: a real backup of the demo homelab, end to end, in a fresh directory', (t) => {
  const dir = path.join(tempDir(t), 'demo');
  const r = homeLab(['demo', '--dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /home-lab backup: OK to disk daily/);
  assert.match(r.stdout, /service notes-app\.service +ok .*\n +notes-app\.service stopped and started again/);
  assert.match(r.stdout, /Where things are:/);
  const disk = path.join(dir, 'disks', 'daily');
  assert.equal(fs.readFileSync(path.join(disk, 'protected/apps/notes-app/data/notes/0001.txt'), 'utf8'), 'Shopping: milk, bread, coffee\n');
  assert.deepEqual(fs.readFileSync(path.join(disk, 'protected/photos/2024/summer/beach.png')), fs.readFileSync('fixtures/demo/home/protected/photos/2024/summer/beach.png'));
  assert.equal(fs.statSync(path.join(disk, 'bare/scripts/hello.sh')).mode & 0o777, 0o755);
  assert.match(fs.readFileSync(path.join(dir, 'run', 'services.log'), 'utf8'), /stop notes-app\.service\n.*is-active notes-app\.service\n.*start notes-app\.service/);
  assert.equal(homeLab(['demo', '--dir', dir]).code, 2, 'an existing --dir is refused');
});
