// `home-lab demo`: a real `home-lab backup` of a small demo homelab, end to end, on any machine (no
// LUKS, no podman, no root): copies fixtures/demo (a home with bare/ and protected/, an app whose data
// is a writable volume, two directory "disks") into a fresh directory under the system temp dir,
// runs the backup with that config, prints the summary and where everything is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { loadConfig } from '../../config/load.js';
import { FatalError } from '../../errors.js';
import { backupCommand, defaultSeams, type BackupSeams } from './backup.js';

export function register(program: Command, cli: Cli): void {
  program
    .command('demo')
    .description('back up a small demo homelab into a fresh directory under the system temp dir, end to end (no root, LUKS or podman needed)')
    .option('--dir <dir>', 'make the demo here (must not exist yet) instead of a fresh temp dir')
    .option('-v, --verbose', 'more log lines', false)
    .action(async (flags: { dir?: string; verbose: boolean }) => {
      await runDemo({ dir: flags.dir, verbose: flags.verbose }, cli);
    });
}

/** fixtures/demo, found from this module (src/ under tsx, dist/src/ when built, or installed). */
export function findDemoFixture(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'fixtures', 'demo');
    if (fs.existsSync(path.join(candidate, 'config.yaml'))) return candidate;
    if (path.dirname(dir) === dir) throw new FatalError(`the demo homelab (fixtures/demo) is not installed next to ${from}`);
  }
}

export async function runDemo(options: { dir?: string; verbose?: boolean }, cli: Cli, seams: BackupSeams = defaultSeams): Promise<string> {
  const fixture = findDemoFixture();
  let dir: string;
  if (options.dir) {
    dir = path.resolve(options.dir);
    if (fs.existsSync(dir)) throw new FatalError(`--dir ${dir} already exists: give a new directory, so nothing of yours is overwritten`, 'usage');
    fs.mkdirSync(dir, { recursive: true });
  } else {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'home-lab-demo-'));
  }
  fs.cpSync(fixture, dir, { recursive: true, preserveTimestamps: true });
  for (const disk of ['daily', 'monthly']) fs.mkdirSync(path.join(dir, 'disks', disk), { recursive: true });
  const configFile = path.join(dir, 'config.yaml');
  cli.out(`Demo homelab copied to ${dir}; running: home-lab backup --config ${configFile}\n`);

  const config = loadConfig({ file: configFile });
  const outcome = await backupCommand(config, { config: configFile, dryRun: false, allowDeletions: false, progress: false, verbose: options.verbose === true, quiet: false }, cli, seams);

  const disk = outcome.disk?.mountPoint ?? path.join(dir, 'disks', 'daily');
  cli.out(
    [
      '',
      'Where things are:',
      `  the homelab      ${path.join(dir, 'home')}  (bare/, protected/, and the app's data in protected/apps/notes-app/data)`,
      `  the config       ${configFile}`,
      `  the backup disk  ${disk}  (the mirror of each source, and .home-lab/manifest.db with the hash of every file)`,
      `  service calls    ${path.join(dir, 'run', 'services.log')}  (the app stopped while its data was copied, then started)`,
      `  state, metrics   ${path.join(dir, 'state')}`,
      '',
      'Try next:',
      '  # again: only the witness file changed, nothing else to copy',
      `  home-lab backup --config ${configFile}`,
      '  # the other disk, which skips /photos/',
      `  home-lab backup --config ${configFile} --disk monthly`,
      '  # re-read every backup file against the manifest',
      `  home-lab scrub ${disk} --percent 100`,
      `  home-lab status --config ${configFile}`,
      `  home-lab config check --config ${configFile}`,
      '  # when done',
      `  rm -rf ${dir}`,
    ].join('\n'),
  );
  return dir;
}
