// `home-lab manifest export TARGET [FILE]` and `home-lab manifest rebuild [--force] TARGET`.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { ExitCode } from '../exit-codes.js';
import { FatalError } from '../../errors.js';
import { displayPath } from '../../engine/bytes.js';
import { ManifestError, ManifestStore } from '../../manifest/store.js';
import { exportChecksums, type ExportResult } from '../../manifest/export.js';
import { rebuildManifest, type RebuildResult } from '../../manifest/rebuild.js';
import { withMirrorLock } from '../../backup/lock.js';
import { formatBytes } from '../progress.js';

const PLAIN_INTERVAL_MS = 10_000;

function openOrFatal(target: string): ManifestStore {
  try {
    return ManifestStore.open(target, { readonly: true });
  } catch (error) {
    if (error instanceof ManifestError) throw new FatalError(error.message, 'fatal');
    throw error;
  }
}

/** Writes to a temp file beside FILE and renames it into place: never a half-written checksum file. */
async function exportToFile(store: ManifestStore, file: string): Promise<ExportResult> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${randomBytes(4).toString('hex')}`);
  const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
  let done = false;
  try {
    const result = await exportChecksums(store, (chunk) => {
      let off = 0;
      while (off < chunk.length) off += fs.writeSync(fd, chunk, off);
    });
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    done = true;
    fs.renameSync(temp, file);
    return result;
  } finally {
    if (!done) fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
  }
}

function exportToStdout(store: ManifestStore): Promise<ExportResult> {
  return exportChecksums(
    store,
    (chunk) => new Promise<void>((resolve, reject) => {
      process.stdout.write(chunk, (error) => (error ? reject(error) : resolve()));
    }),
  );
}

export function register(program: Command, cli: Cli): void {
  const manifest = program.command('manifest').description('the hash manifest of a mirror: export it for xxhsum, or rebuild it');

  manifest
    .command('export')
    .description(
      'write the manifest as an XXH64 checksum file in the format `xxhsum -H1` writes; check a disk without home-lab with ' +
        '`cd TARGET && xxhsum -c --strict FILE`',
    )
    .argument('<target>', 'mirror root holding .home-lab/manifest.db')
    .argument('[file]', 'where to write it (replaced atomically); stdout when missing or -')
    .action(async (target: string, file: string | undefined) => {
      const logger = cli.logger();
      const store = openOrFatal(target);
      let result: ExportResult;
      try {
        result = file === undefined || file === '-' ? await exportToStdout(store) : await exportToFile(store, file);
      } finally {
        store.close();
      }
      const where = file === undefined || file === '-' ? 'stdout' : file;
      logger.info(`exported ${result.lines} checksums to ${where}`);
      if (result.escaped > 0) {
        logger.warn(
          `${result.escaped} names contain a newline: their lines use xxhsum's escaped form (a leading backslash), ` +
            'which xxhsum 0.8.2 and later check; xxhsum 0.8.1 skips them as improperly formatted (--strict makes that an error)',
        );
      }
      for (const s of result.skipped) logger.error(`not exported: unsafe path in the manifest (${s.reason}): ${displayPath(s.path)}`);
      if (result.skipped.length > 0) cli.setExitCode(ExitCode.findings);
    });

  manifest
    .command('rebuild')
    .description(
      'rehash every file under TARGET into a new manifest, when the old one is lost or corrupt. A healthy manifest is never ' +
        'replaced; a corrupt one only with --force, moved aside to manifest.db.corrupt-<time>',
    )
    .argument('<target>', 'mirror root (the manifest is TARGET/.home-lab/manifest.db)')
    .option('--force', 'move a corrupt manifest aside and rebuild', false)
    .option('--json', 'print one JSON summary on stdout', false)
    .action(async (target: string, flags: { force: boolean; json: boolean }) => {
      const logger = cli.logger();
      let last = Date.now();
      const result: RebuildResult = await withMirrorLock(target, { logger, command: 'manifest rebuild' }, () => rebuildManifest({
        target,
        force: flags.force,
        onEvent: (e) => {
          if (e.kind === 'notice') logger.warn(e.message);
          else if (e.kind === 'failure') logger.error(`${displayPath(e.path)}: ${e.error}`);
          else if (Date.now() - last >= PLAIN_INTERVAL_MS) {
            last = Date.now();
            logger.info(`rebuild: ${e.files} files hashed (${formatBytes(e.bytes)})`);
          }
        },
      }));
      if (flags.json) {
        cli.out(JSON.stringify({ ...result, failed: result.failed.map((f) => ({ path: displayPath(f.path), error: f.error })) }));
      } else {
        const lines = [`rebuilt ${result.manifest}: ${result.files} files, ${formatBytes(result.bytes)} hashed in ${(result.durationMs / 1000).toFixed(1)} s`];
        if (result.movedAside.length > 0) lines.push(`the corrupt manifest was kept as ${result.movedAside.join(', ')}`);
        if (result.failed.length > 0) {
          lines.push(`${result.failed.length} path(s) could not be hashed and are not in the manifest:`);
          for (const f of result.failed) lines.push(`  ${displayPath(f.path)}: ${f.error}`);
        }
        cli.out(lines.join('\n'));
      }
      cli.setExitCode(result.failed.length > 0 ? ExitCode.partial : ExitCode.ok);
    });
}
