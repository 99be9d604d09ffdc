// The nightly run's trash (threat 1): a file deleted from the source, or overwritten, is moved into
// <disk>/.home-lab/trash/<today>/<source>/<path> instead of being lost, and trash days older than the
// retention are pruned at the start of a run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runBackup, type BackupDeps } from '../src/backup/run.js';
import { runCommand } from '../src/host/command.js';
import { memoryLogger } from '../src/log.js';
import { trashDayOf } from '../src/trash/layout.js';
import { DIRECTORY_DISKS, makeHomelab } from './integration/homelab.js';

const deps = (): BackupDeps => ({ run: runCommand, now: Date.now, logger: memoryLogger() });

test('a file deleted from the source lands in the trash of the day; old trash days are pruned', async (t) => {
  const lab = makeHomelab(t);
  const config = lab.config(DIRECTORY_DISKS);
  assert.equal((await runBackup(config, { dryRun: false }, deps())).status, 'ok');
  const daily = lab.disk('daily');
  const old = path.join(daily, '.home-lab/trash/2001-01-01');
  fs.mkdirSync(path.join(old, 'bare'), { recursive: true });
  fs.writeFileSync(path.join(old, 'bare/ancient.txt'), 'long gone');

  fs.rmSync(path.join(lab.home, 'bare/todo.txt'));
  fs.writeFileSync(path.join(lab.home, 'bare/recipes/soup.md'), '# soup, improved\n');
  const o = await runBackup(config, { dryRun: false }, deps());
  assert.equal(o.status, 'ok', o.errors.join('\n'));

  const today = path.join(daily, '.home-lab/trash', trashDayOf(Date.now()));
  assert.equal(fs.readFileSync(path.join(today, 'bare/todo.txt'), 'utf8'), 'renew the domain\n', 'the deleted file');
  assert.equal(fs.readFileSync(path.join(today, 'bare/recipes/soup.md'), 'utf8'), '# soup\n', 'the overwritten version');
  assert.ok(!fs.existsSync(path.join(daily, 'bare/todo.txt')));
  assert.equal(fs.readFileSync(path.join(daily, 'bare/recipes/soup.md'), 'utf8'), '# soup, improved\n');
  assert.ok(!fs.existsSync(old), 'a trash day older than trash.retentionDays is pruned');
});
