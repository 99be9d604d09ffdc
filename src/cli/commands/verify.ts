// `home-lab verify [--source SRC] [--json] TARGET`: every row, plus files the manifest does not know.
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { runScrubCommand, type CommonFlags } from '../scrub-command.js';

export function register(program: Command, cli: Cli): void {
  program
    .command('verify')
    .description('re-read every file of the backup against its manifest, and list files the manifest does not know')
    .argument('<target>', 'mirror root holding .home-lab/manifest.db')
    .option('--source <dir>', 'the directory that was mirrored to TARGET: repair backup rot from it, and detect source rot')
    .option('--json', 'print one JSON object with the whole report on stdout', false)
    .option('--no-progress', 'no progress display')
    .option('-v, --verbose', 'more log lines', false)
    .action(async (target: string, flags: CommonFlags) => {
      await runScrubCommand(cli, target, flags, { mode: 'verify' });
    });
}
