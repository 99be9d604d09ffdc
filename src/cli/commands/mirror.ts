// `home-lab mirror SRC DST`: flags -> MirrorOptions -> mirror() -> summary and exit code.
import os from 'node:os';
import type { Command } from 'commander';
import { Option } from '../commander.js';
import type { Cli } from '../cli.js';
import { ExitCode } from '../exit-codes.js';
import { mirror } from '../../engine/mirror.js';
import { readExcludeFile } from '../../engine/exclude.js';
import { displayPath } from '../../engine/bytes.js';
import type { MirrorEvent, MirrorResult, DeletionLimits, ItemAction } from '../../engine/types.js';
import { createProgress, formatBytes } from '../progress.js';
import { parseCount, parsePercent } from '../parse.js';
import { withMirrorLock } from '../../backup/lock.js';

interface MirrorFlags {
  exclude: string[];
  excludeFrom: string[];
  checksum: boolean;
  dryRun: boolean;
  itemize: boolean;
  json: boolean;
  jobs: number;
  delete: boolean;
  maxDelete?: number;
  maxDeletePercent?: number;
  allowDeletions: boolean;
  trash?: string;
  progress: boolean;
  verbose: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];
const ITEM_CODES: Record<ItemAction, string> = {
  copy: '>f', mkdir: 'cd', symlink: 'cL', special: 'cD', attrs: '.a', delete: '*deleting', replace: '*replacing', rehash: '.h',
};

export function register(program: Command, cli: Cli): void {
  program
    .command('mirror')
    .description('make DST an exact mirror of the contents of SRC (like rsync -a --delete SRC/ DST/), hashing every byte copied into DST/.home-lab/manifest.db')
    .argument('<src>', 'source directory (its contents are mirrored; trailing slashes do not matter)')
    .argument('<dst>', 'destination directory (created if missing)')
    .option('--exclude <pattern>', 'rsync-style exclude pattern (repeatable)', collect, [])
    .option('--exclude-from <file>', 'read exclude patterns from a file (repeatable)', collect, [])
    .option('-c, --checksum', 'compare content hashes instead of size and mtime (rsync -c)', false)
    .option('-n, --dry-run', 'change nothing; say what would be done', false)
    .option('-i, --itemize', 'print one line per change (escaped names)', false)
    .option('--json', 'print one JSON summary on stdout', false)
    .addOption(new Option('-j, --jobs <n>', 'copy worker threads').argParser(parseCount).default(Math.max(2, os.availableParallelism())))
    .option('--no-delete', 'keep extra files in DST (rsync without --delete)')
    .addOption(new Option('--max-delete <n>', 'refuse to delete more than N files').argParser(parseCount))
    .addOption(new Option('--max-delete-percent <p>', "refuse to delete more than P % of DST's files").argParser(parsePercent))
    .option('--allow-deletions', 'confirm deletions over the limits (an empty source still refuses)', false)
    .option('--trash <dir>', 'move deleted and overwritten files into DIR (same filesystem) instead of unlinking them')
    .option('--no-progress', 'no progress display')
    .option('-v, --verbose', 'more log lines', false)
    .action(async (src: string, dst: string, flags: MirrorFlags) => {
      const logger = cli.logger({ verbose: flags.verbose });
      const excludes = [...flags.exclude];
      for (const file of flags.excludeFrom) excludes.push(...readExcludeFile(file));
      const limits: DeletionLimits = {
        allow: flags.allowDeletions,
        ...(flags.maxDelete === undefined ? {} : { maxFiles: flags.maxDelete }),
        ...(flags.maxDeletePercent === undefined ? {} : { maxPercent: flags.maxDeletePercent }),
      };
      const progress = createProgress({ tty: cli.isTTY, label: 'mirror', logger, enabled: flags.progress && !flags.json && !flags.itemize });
      const onEvent = (event: MirrorEvent) => {
        switch (event.kind) {
          case 'item':
            if (flags.itemize || (flags.dryRun && !flags.json)) cli.out(`${ITEM_CODES[event.action].padEnd(10)} ${displayPath(event.path)}`);
            break;
          case 'progress':
            progress.update({ filesDone: event.filesDone, filesTotal: event.filesSeen, bytesDone: event.bytesDone, bytesTotal: event.bytesQueued });
            break;
          case 'failure':
            logger.error(`${displayPath(event.path)}: ${event.error}`);
            break;
          case 'notice':
            logger.warn(event.message);
            break;
        }
      };
      let result: MirrorResult;
      try {
        // DST/.home-lab/ holds the manifest: the same lock as a backup's, when DST is a mirror already.
        result = await withMirrorLock(dst, { logger, command: 'mirror', dryRun: flags.dryRun }, () => mirror({
          src, dst, excludes, checksum: flags.checksum, dryRun: flags.dryRun, jobs: flags.jobs, delete: flags.delete,
          deletionLimits: limits, trashDir: flags.trash ?? null, onEvent,
        }));
      } finally {
        progress.stop();
      }
      if (flags.json) cli.out(JSON.stringify(toJson(result)));
      else cli.out(summary(result));
      cli.setExitCode(result.refused ? ExitCode.refused : result.failed.length > 0 ? ExitCode.partial : ExitCode.ok);
    });
}

function toJson(r: MirrorResult) {
  return {
    ...r,
    failed: r.failed.map((f) => ({ path: displayPath(f.path), error: f.error })),
  };
}

function summary(r: MirrorResult): string {
  const lines = [
    `${r.dryRun ? 'dry run: would copy' : 'copied'} ${r.filesCopied} files (${formatBytes(r.bytesCopied)}), ${r.filesUnchanged} unchanged, ` +
      `${r.otherCreated} other entries created, ${r.dryRun ? 'would delete' : 'deleted'} ${r.filesDeleted} files (${formatBytes(r.bytesDeleted)})` +
      (r.filesRehashed > 0 ? `, ${r.filesRehashed} rehashed into the manifest` : '') +
      ` in ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  if (r.deletionsSkipped) lines.push(`deletions ${r.refused ? 'refused' : 'skipped'}: ${r.deletionsSkipped}`);
  if (r.failed.length > 0) {
    lines.push(`${r.failed.length} path(s) failed:`);
    for (const f of r.failed) lines.push(`  ${displayPath(f.path)}: ${f.error}`);
  }
  return lines.join('\n');
}
