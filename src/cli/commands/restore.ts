// `home-lab restore PATH... --to DIR [--from-trash DATE] [--target MIRROR_ROOT | --disk NAME]` and
// `home-lab restore --drill`: flags -> restore/drill options -> lines and exit code.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from '../commander.js';
import type { Cli } from '../cli.js';
import { ExitCode } from '../exit-codes.js';
import { parseCount } from '../parse.js';
import { displayPath } from '../../engine/bytes.js';
import { formatBytes } from '../../engine/guard.js';
import { FatalError } from '../../errors.js';
import { loadConfig } from '../../config/load.js';
import { runRestore } from '../../restore/run.js';
import { runDrill, DEFAULT_DRILL_FILES, DEFAULT_DRILL_MAX_BYTES } from '../../restore/drill.js';
import { DRILL_FILE } from '../../restore/drill-record.js';
import { seededRandom } from '../../restore/sample.js';
import type { RestoreEvent } from '../../restore/restore.js';

interface RestoreFlags {
  to?: string;
  fromTrash?: string;
  target?: string;
  disk?: string;
  config?: string;
  drill: boolean;
  sample: number;
  maxBytes: number;
  seed?: number;
  verbose: boolean;
  json: boolean;
}

/** 1048576, 512K, 100M, 2G (binary units). */
export function parseSize(value: string): number {
  const m = /^(\d+)([KMGT]i?B?)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected a size such as 1048576, 512M or 2G, got "${value}"`);
  const unit = (m[2] ?? '').charAt(0).toUpperCase();
  const factor = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[unit] as number;
  return Number(m[1]) * factor;
}

export function register(program: Command, cli: Cli): void {
  program
    .command('restore')
    .description('copy files or directories back out of a backup (or a trash day) with all attributes, verifying each file against the manifest; --drill rehearses a restore')
    .argument('[paths...]', 'paths relative to the mirror root (with --disk: relative to the disk, e.g. bare/photos); "." for everything')
    .option('--to <dir>', 'restore into DIR (created if missing); PATH lands at DIR/PATH (with --drill: where its temp dir is made)')
    .option('--from-trash <date>', 'restore from the trash day YYYY-MM-DD (files the mirror deleted or overwrote that day)')
    .option('--target <dir>', 'the mirror root (or disk root) to restore from')
    .option('--disk <name>', 'restore from the configured disk NAME (it must be mounted)')
    .option('--config <file>', 'config file, for --disk (default ~/.config/home-lab/config.yaml)')
    .option('--drill', 'restore a random sample into a temp dir, verify it, record the result on the disk, clean up', false)
    .addOption(new Option('--sample <n>', 'drill: files to restore').argParser(parseCount).default(DEFAULT_DRILL_FILES))
    .addOption(new Option('--max-bytes <size>', 'drill: most bytes to restore (e.g. 512M)').argParser(parseSize).default(DEFAULT_DRILL_MAX_BYTES, '1G'))
    .addOption(new Option('--seed <n>', 'drill: seed for the sample, to repeat one').argParser(parseCount))
    .option('-v, --verbose', 'list every restored entry', false)
    .option('--json', 'print one JSON summary on stdout', false)
    .action(async (paths: string[], flags: RestoreFlags) => {
      const logger = cli.logger({ verbose: flags.verbose });
      const target = resolveTarget(flags);
      const preserveOwner = process.getuid?.() === 0;
      const onEvent = (event: RestoreEvent) => {
        // A drill reports its failures itself, once each, as its problems.
        if (event.kind === 'failure') {
          if (!flags.drill) logger.error(`${displayPath(event.path)}: ${event.error}`);
          return;
        }
        if (event.check?.status === 'mismatch') {
          if (!flags.drill) logger.error(`MISMATCH ${displayPath(event.path)}: ${event.check.why} (restored, but do not trust it)`);
          return;
        }
        if (flags.verbose && !flags.json && event.path.length > 0) {
          const note = event.check?.status === 'unverified' ? ` (unverified: ${event.check.why})` : '';
          cli.out(`restored ${event.type.padEnd(7)} ${displayPath(event.path)}${note}`);
        }
      };

      if (flags.drill) {
        if (paths.length > 0) throw new FatalError('--drill picks its own sample: give no paths', 'usage');
        if (flags.fromTrash) throw new FatalError('--drill restores from the mirror, not from the trash', 'usage');
        const seed = flags.seed ?? randomInt(2 ** 31);
        const r = await runDrill({
          target,
          sampleFiles: flags.sample,
          maxBytes: flags.maxBytes,
          tempParent: flags.to ? path.resolve(flags.to) : os.tmpdir(),
          random: seededRandom(seed),
          now: Date.now,
          preserveOwner,
          logger,
          onEvent,
        });
        const recordFile = path.join(r.diskRoot, DRILL_FILE);
        if (flags.json) {
          cli.out(JSON.stringify({ drill: r.passed ? 'passed' : 'failed', files: r.files, bytes: r.bytes, rowsConsidered: r.rowsConsidered, unsafeRows: r.unsafeRows, problems: r.problems, seed, tempDirRemoved: r.cleanedUp, recordFile, record: r.record }, null, 2));
        } else {
          for (const p of r.problems) logger.error(`drill: ${p}`);
          cli.out(
            r.passed
              ? `drill passed: ${r.files} files (${formatBytes(r.bytes)}) restored and every one matched the manifest (seed ${seed}).`
              : `drill FAILED: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}; ${r.files} files (${formatBytes(r.bytes)}) restored correctly (seed ${seed}, repeat with --seed ${seed}).`,
          );
          cli.out(`recorded in ${recordFile}; temp directory ${r.cleanedUp ? 'removed' : `NOT fully removed: ${r.tempDir}`}.`);
        }
        cli.setExitCode(r.passed ? ExitCode.ok : ExitCode.findings);
        if (!r.cleanedUp) cli.setExitCode(ExitCode.partial);
        return;
      }

      if (!flags.to) throw new FatalError('say where to restore to: --to DIR (a restore never writes into the backup itself)', 'usage');
      if (paths.length === 0) throw new FatalError('name at least one path to restore, relative to the mirror root ("." for everything)', 'usage');
      const r = runRestore({ target, paths, to: flags.to, fromTrash: flags.fromTrash, preserveOwner, logger, onEvent });
      const from = flags.fromTrash ? `the trash of ${flags.fromTrash}` : displayPath(r.location.mirrorRoot);
      if (flags.json) {
        cli.out(JSON.stringify({
          from, to: path.resolve(flags.to),
          filesRestored: r.filesRestored, bytesRestored: r.bytesRestored, otherRestored: r.otherRestored,
          filesVerified: r.filesVerified, filesUnverified: r.filesUnverified,
          mismatches: r.mismatches.map((m) => ({ path: displayPath(m.path), why: m.why })),
          failed: r.failed.map((f) => ({ path: displayPath(f.path), error: f.error })),
          manifestProblem: r.manifestProblem,
        }, null, 2));
      } else {
        cli.out(
          `restored ${r.filesRestored} files (${formatBytes(r.bytesRestored)}) and ${r.otherRestored} other entries from ${from} into ${displayPath(path.resolve(flags.to))}: ` +
            `${r.filesVerified} verified against the manifest, ${r.filesUnverified} unverified, ${r.mismatches.length} MISMATCHED, ${r.failed.length} failed.`,
        );
        if (r.mismatches.length > 0) cli.out('Mismatched files were restored as the backup holds them, but their content differs from the manifest: check them before trusting them.');
      }
      if (r.failed.length > 0) cli.setExitCode(ExitCode.partial);
      if (r.mismatches.length > 0) cli.setExitCode(ExitCode.findings);
    });
}

/** --target DIR, or the mount point of the configured disk NAME. */
function resolveTarget(flags: RestoreFlags): string {
  if (flags.target && flags.disk) throw new FatalError('give --target or --disk, not both', 'usage');
  if (flags.target) return path.resolve(flags.target);
  if (!flags.disk) throw new FatalError('say which backup to restore from: --target MIRROR_ROOT or --disk NAME', 'usage');
  const config = loadConfig({ file: flags.config });
  const disk = config.disks.find((d) => d.name === flags.disk);
  if (!disk) throw new FatalError(`no disk named "${flags.disk}" in ${config.file ?? 'the config'} (disks: ${config.disks.map((d) => d.name).join(', ')})`, 'usage');
  // An unmounted disk leaves an empty mount point: restoring from it would find nothing, or worse.
  if (!fs.existsSync(path.join(disk.mountPoint, '.home-lab'))) {
    throw new FatalError(`disk "${disk.name}" is not mounted at ${disk.mountPoint} (no .home-lab there): mount it, then run the restore again`, 'fatal');
  }
  return disk.mountPoint;
}
