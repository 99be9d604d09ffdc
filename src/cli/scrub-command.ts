// What `scrub` and `verify` share on the command line: run, show progress, print the summary or the
// JSON object, and turn the outcome into the exit code.
import fs from 'node:fs';
import type { Cli } from './cli.js';
import { ExitCode } from './exit-codes.js';
import { createProgress } from './progress.js';
import { FatalError } from '../errors.js';
import { ManifestError } from '../manifest/store.js';
import { runScrub, type ScrubOptions } from '../scrub/run.js';
import { withMirrorLock } from '../backup/lock.js';
import { relaxHeapFlags } from '../engine/heap-flags.js';
import { outcomeOf, reportJson, summaryLines } from '../scrub/report.js';

export interface CommonFlags {
  source?: string;
  json: boolean;
  progress: boolean;
  verbose: boolean;
}

function requireDirectory(dir: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (error) {
    throw new FatalError(`${what} ${dir} is not there (${(error as NodeJS.ErrnoException).code ?? String(error)}): is the disk mounted?`);
  }
  if (!st.isDirectory()) throw new FatalError(`${what} ${dir} is not a directory`);
}

export async function runScrubCommand(cli: Cli, target: string, flags: CommonFlags, options: Omit<ScrubOptions, 'target' | 'sources' | 'onEvent'>): Promise<void> {
  const logger = cli.logger({ verbose: flags.verbose });
  requireDirectory(target, 'TARGET');
  relaxHeapFlags();
  if (flags.source !== undefined) requireDirectory(flags.source, 'the source');
  const progress = createProgress({ tty: cli.isTTY, label: options.mode, logger, enabled: flags.progress && !flags.json });
  let report;
  try {
    // scrub and verify stamp every row they read, and repair: never at the same time as a backup.
    report = await withMirrorLock(target, { logger, command: options.mode }, () => runScrub({
      ...options,
      target,
      sources: flags.source === undefined ? [] : [{ root: flags.source, prefix: '' }],
      onEvent: (e) => {
        if (e.kind === 'progress') progress.update({ filesDone: e.filesDone, filesTotal: e.filesPlanned, bytesDone: e.bytesDone, bytesTotal: e.bytesPlanned });
        else if (e.kind === 'notice') logger.warn(e.message);
        else if (e.kind === 'walk') logger.debug('looking for files the manifest does not know');
      },
    }));
  } catch (error) {
    if (error instanceof ManifestError) throw new FatalError(error.message, 'fatal');
    throw error;
  } finally {
    progress.stop();
  }
  if (flags.json) cli.out(JSON.stringify(reportJson(report)));
  else cli.out(summaryLines(report).join('\n'));
  const outcome = outcomeOf(report);
  cli.setExitCode(outcome === 'findings' ? ExitCode.findings : outcome === 'repaired' ? ExitCode.repaired : ExitCode.ok);
}
