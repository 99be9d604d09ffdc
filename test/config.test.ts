// The config file: defaults in one place, paths resolved, and every error names file, line and key path.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, formatKeyPath, loadConfig, parseConfig } from '../src/config/load.js';
import { maskSecrets, maskUrl } from '../src/config/mask.js';
import { DEFAULTS, defaultConfigPath } from '../src/config/schema.js';
import { tempDir } from './helpers/tmp.js';

const env = { HOME: '/home/alice' };
const parse = (text: string, uid = 1000) => parseConfig(text, { file: '/etc/home-lab/config.yaml', env, uid });

function problems(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.kind, 'usage');
    assert.match(error.message, /\/etc\/home-lab\/config\.yaml is not valid; nothing was mounted or stopped/);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

const MINIMAL = `
sources:
  - name: bare
  - name: protected
    requireMountPoint: true
disks:
  - name: daily
    mountPoint: /mnt/daily
    luks: { uuid: 0b5e6c1a-1111-2222-3333-444455556666, keyFile: keys/daily.key }
  - name: monthly
    mountPoint: /mnt/monthly
    filesystem: { uuid: ABCD-1234 }
    excludes: ['/protected/media/']
`;

test('a minimal config gets every default, and paths are resolved', () => {
  const c = parse(MINIMAL);
  assert.equal(c.file, '/etc/home-lab/config.yaml');
  assert.equal(c.home, '/home/alice');
  assert.equal(c.stateDir, '/home/alice/.local/state/home-lab');
  assert.deepEqual(c.sources, [
    { name: 'bare', path: '/home/alice/bare', requireMountPoint: false, excludes: [] },
    { name: 'protected', path: '/home/alice/protected', requireMountPoint: true, excludes: [] },
  ]);
  assert.deepEqual(c.disks[0], {
    name: 'daily',
    mountPoint: '/mnt/daily',
    excludes: [],
    // A relative key file is relative to the config file's directory.
    kind: { type: 'luks', uuid: '0b5e6c1a-1111-2222-3333-444455556666', keyFile: '/etc/home-lab/keys/daily.key', mapperName: 'home-lab-daily', mountOptions: [] },
  });
  assert.deepEqual(c.disks[1]?.kind, { type: 'filesystem', uuid: 'ABCD-1234', mountOptions: [] });
  assert.deepEqual(c.disks[1]?.excludes, ['/protected/media/']);
  assert.equal(c.privilege, 'sudo');
  assert.equal(parse(MINIMAL, 0).privilege, 'root');
  assert.deepEqual(c.services, { discover: true, alwaysStop: [], neverStop: [], stopTimeoutSec: 120, podman: 'podman', systemctl: 'systemctl' });
  assert.deepEqual(c.scrub, { percent: DEFAULTS.scrubPercent });
  assert.deepEqual(c.deletions, { maxFiles: 1000, maxPercent: 10 });
  assert.deepEqual(c.trash, { retentionDays: 30 });
  assert.equal(c.jobs, 2);
  assert.ok('notify' in c && 'monitor' in c);
});

test('home, sources, volumes, ~ and a directory disk', () => {
  const c = parse(`
home: ~/data
stateDir: state
sources:
  - { name: photos, path: /srv/photos, excludes: ['*.tmp'] }
  - { name: docs }
disks:
  - name: demo
    mountPoint: ../demo-disk
    directory: { requireMountPoint: false }
  - name: nas
    mountPoint: /mnt/nas
    directory: { uuid: 1234-ABCD }
services:
  discover: false
  alwaysStop: [{ unit: nextcloud.service, volumes: [docs/nextcloud, /srv/db] }]
  neverStop: [gotify.service]
scrub: { percent: 2.5 }
deletions: { maxPercent: 5 }
privilege: root
`);
  assert.equal(c.home, '/home/alice/data');
  assert.equal(c.stateDir, '/etc/home-lab/state');
  assert.deepEqual(c.sources.map((s) => s.path), ['/srv/photos', '/home/alice/data/docs']);
  assert.deepEqual(c.sources[0]?.excludes, ['*.tmp']);
  assert.deepEqual(c.disks[0], { name: 'demo', mountPoint: '/etc/demo-disk', excludes: [], kind: { type: 'directory', uuid: null, requireMountPoint: false } });
  assert.deepEqual(c.disks[1]?.kind, { type: 'directory', uuid: '1234-ABCD', requireMountPoint: true });
  assert.deepEqual(c.services.alwaysStop, [{ unit: 'nextcloud.service', volumes: ['/home/alice/data/docs/nextcloud', '/srv/db'] }]);
  assert.equal(c.services.discover, false);
  assert.deepEqual(c.services.neverStop, ['gotify.service']);
  assert.deepEqual(c.deletions, { maxFiles: 1000, maxPercent: 5 });
  assert.equal(c.scrub.percent, 2.5);
});

test('errors name the line and the key path, and say what is expected', () => {
  const lines = problems(`
sources:
  - name: bare
    requireMountpoint: true
disks:
  - name: daily
    mountPoint: /mnt/x
    filesystem: { uuid: abc }
  - name: weekly
    mountPoint: /mnt/y
    luks:
      uuid: abc
      keyFile: 3
  - name: bad/name
    mountPoint: /mnt/z
  - name: two
    mountPoint: /mnt/t
    directory: {}
    filesystem: { uuid: x }
privilege: bob
scrub: { percent: 150 }
`);
  assert.deepEqual(lines, [
    'config.yaml:4: sources[0].requireMountpoint: unknown key (did you mean requireMountPoint?)',
    'config.yaml:13: disks[1].luks.keyFile: expected a string, got a number',
    "config.yaml:14: disks[2].name: a disk name is letters, digits, '.', '_' and '-', starting with a letter or digit",
    'config.yaml:14: disks[2]: say what the disk is: one of `luks: {uuid, keyFile}`, `filesystem: {uuid}` or `directory: {}`',
    'config.yaml:16: disks[3]: a disk is one kind, not filesystem and directory',
    'config.yaml:20: privilege: expected one of "auto", "root", "sudo"',
    'config.yaml:21: scrub.percent: Too big: expected number to be <=100',
  ]);
});

test('missing keys, unknown top-level keys, wrong shapes and duplicate names', () => {
  assert.deepEqual(problems('sources: []\n'), [
    'config.yaml:1: sources: list at least one source',
    'config.yaml: disks: required: expected a list',
  ]);
  assert.deepEqual(problems('sources: bare\ndisks: [{name: d, mountPoint: /m, directory: {}}]\nnotifications: {}\n'), [
    'config.yaml:1: sources: expected a list, got a string',
    'config.yaml:3: notifications: unknown key (known keys: home, stateDir, sources, disks, privilege, services, scrub, deletions, trash, jobs, notify, monitor)',
  ]);
  assert.deepEqual(problems('sources: [{name: a}, {name: a}]\ndisks: [{name: d, mountPoint: /m, directory: {}}]\n'), [
    'config.yaml:1: sources[1].name: "a" is also the name of sources[0]; names must be unique',
  ]);
  assert.deepEqual(problems('- just\n- a list\n'), ['config.yaml:1: (top level): expected a mapping (key: value), got a list']);
});

test('YAML syntax errors carry the line', () => {
  const lines = problems('sources:\n  - name: bare\n disks: [\n');
  assert.equal(lines.length > 0, true);
  assert.match(lines[0] as string, /^config\.yaml:\d+: .*\(YAML syntax\)$/);
});

test('loadConfig: a missing file says how to fix it; the default path follows XDG', (t) => {
  const dir = tempDir(t);
  assert.throws(() => loadConfig({ file: path.join(dir, 'nope.yaml'), env }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /nope\.yaml is not valid.*\n.*cannot read it: ENOENT\. Create it \(see README, "Config"\), or pass --config PATH\./);
    return true;
  });
  fs.writeFileSync(path.join(dir, 'c.yaml'), MINIMAL);
  assert.equal(loadConfig({ file: path.join(dir, 'c.yaml'), env, uid: 0 }).disks[0]?.kind.type, 'luks');
  assert.equal(defaultConfigPath({ HOME: '/h' }), '/h/.config/home-lab/config.yaml');
  assert.equal(defaultConfigPath({ HOME: '/h', XDG_CONFIG_HOME: '/x' }), '/x/home-lab/config.yaml');
});

test('formatKeyPath', () => {
  assert.equal(formatKeyPath(['disks', 1, 'luks', 'keyFile']), 'disks[1].luks.keyFile');
  assert.equal(formatKeyPath([]), '(top level)');
});

test('maskSecrets: tokens and URL paths/queries are masked; file paths are not', () => {
  assert.deepEqual(
    maskSecrets({
      notify: { gotify: { url: 'https://gotify.example', token: 'AbC', tokenFile: '/etc/t' }, ntfy: { url: 'https://ntfy.sh/my-secret-topic', password: 'pw' } },
      monitor: { url: 'https://user:pw@kuma.example/api/push/Xy12?status=up' },
      disks: [{ kind: { keyFile: '/root/k' } }],
      n: 3,
    }),
    {
      notify: { gotify: { url: 'https://gotify.example', token: '***', tokenFile: '/etc/t' }, ntfy: { url: 'https://ntfy.sh/***', password: '***' } },
      monitor: { url: 'https://***@kuma.example/***?***' },
      disks: [{ kind: { keyFile: '/root/k' } }],
      n: 3,
    },
  );
  assert.equal(maskUrl('not a url'), 'not a url');
});
