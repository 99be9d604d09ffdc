// `home-lab scrub [--percent P] [--source SRC] [--max-bytes N] [--max-duration T] [--json] TARGET`
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from '../commander.js';
import type { Cli } from '../cli.js';
import { runScrubCommand, type CommonFlags } from '../scrub-command.js';
import { parseBytes, parseDuration, parsePercent, type Percent } from '../../scrub/select.js';

interface ScrubFlags extends CommonFlags {
  percent: Percent;
  maxBytes?: number;
  maxDuration?: number;
}

function orUsage<T>(parse: (text: string) => T | { error: string }) {
  return (text: string): T => {
    const v = parse(text);
    if (typeof v === 'object' && v !== null && 'error' in v) throw new InvalidArgumentError(v.error);
    return v as T;
  };
}

export function register(program: Command, cli: Cli): void {
  program
    .command('scrub')
    .description(
      're-read a rotating sample of the backup against its manifest: the files verified longest ago (never-verified first), ' +
        'so ceil(100/P) runs check every file',
    )
    .argument('<target>', 'mirror root holding .home-lab/manifest.db')
    .addOption(new Option('-p, --percent <p>', 'share of the manifest to check, fractions allowed (at least one file)').argParser(orUsage(parsePercent)).default({ num: 1n, den: 1n }, '1'))
    .option('--source <dir>', 'the directory that was mirrored to TARGET: repair backup rot from it, and detect source rot')
    .addOption(new Option('--max-bytes <size>', 'stop before reading more than this (e.g. 50G), still oldest first').argParser(orUsage(parseBytes)))
    .addOption(new Option('--max-duration <time>', 'start no new file after this long (e.g. 45m, 2h)').argParser(orUsage(parseDuration)))
    .option('--json', 'print one JSON object with the whole report on stdout', false)
    .option('--no-progress', 'no progress display')
    .option('-v, --verbose', 'more log lines', false)
    .action(async (target: string, flags: ScrubFlags) => {
      await runScrubCommand(cli, target, flags, {
        mode: 'scrub',
        percent: flags.percent,
        maxBytes: flags.maxBytes ?? null,
        maxDurationMs: flags.maxDuration ?? null,
      });
    });
}
