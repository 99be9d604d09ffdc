// Config, LUKS key and token files readable by group or others produce a warning naming the file and
// the fix; owner-only files produce none (threat 4: the key file never leaves the server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig } from '../src/config/load.js';
import { modeWarning, permissionWarnings } from '../src/config/permissions.js';
import { tempDir } from './helpers/tmp.js';

test('modeWarning: 600 and 400 are fine; 640, 644 and 604 are reported', () => {
  const check = { file: '/k', what: 'the key' };
  assert.equal(modeWarning(check, 0o100600), null);
  assert.equal(modeWarning(check, 0o100400), null);
  for (const mode of [0o100640, 0o100644, 0o100604]) assert.match(modeWarning(check, mode) ?? '', /accessible to group or others .*chmod 600 \/k/);
});

test('config check warns about an open config, LUKS key file and token file, and not once they are 600', (t) => {
  const dir = tempDir(t);
  const key = path.join(dir, 'daily.key');
  const token = path.join(dir, 'gotify.token');
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(key, 'k'.repeat(64), { mode: 0o644 });
  fs.writeFileSync(token, 'AbC', { mode: 0o640 });
  fs.writeFileSync(
    config,
    `sources: [{ name: bare }]
disks:
  - { name: daily, mountPoint: /mnt/daily, luks: { uuid: 0b5e6c1a-1111-2222-3333-444455556666, keyFile: daily.key } }
notify:
  gotify: { url: 'https://gotify.example', tokenFile: gotify.token }
`,
    { mode: 0o644 },
  );
  fs.chmodSync(key, 0o644);
  fs.chmodSync(token, 0o640);
  fs.chmodSync(config, 0o644);
  const warnings = permissionWarnings(loadConfig({ file: config }));
  assert.equal(warnings.length, 3, warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('LUKS key file of disk daily') && w.includes(key)));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', '--config', config], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: the Gotify token file .* chmod 600/);
  assert.doesNotMatch(r.stderr + r.stdout, /AbC/, 'the token itself is never printed');
  for (const f of [key, token, config]) fs.chmodSync(f, 0o600);
  assert.deepEqual(permissionWarnings(loadConfig({ file: config })), []);
});
