// `home-lab backup`: config -> the nightly run -> summary -> announce (state, metrics, monitor,
// push) -> exit code. SIGTERM/SIGINT (systemd stopping the unit, Ctrl-C) abort the run: it restarts
// the services it stopped, releases the disk, announces the failure and exits non-zero.
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { createProgress, type ProgressSink } from '../progress.js';
import { loadConfig } from '../../config/load.js';
import { permissionWarnings } from '../../config/permissions.js';
import type { Config } from '../../config/schema.js';
import { FatalError } from '../../errors.js';
import { runCommand } from '../../host/command.js';
import { announce, announceStart, type AnnounceConfig, type AnnounceDeps, type AnnounceResult } from '../../backup/announce.js';
import type { BackupOutcome, RunStatus } from '../../backup/outcome.js';
import { runBackup, type BackupDeps } from '../../backup/run.js';
import { formatSummary } from '../../backup/summary.js';
import type { Logger } from '../../log.js';

export interface BackupFlags {
  config?: string;
  dryRun: boolean;
  disk?: string;
  allowDeletions: boolean;
  progress: boolean;
  verbose: boolean;
  quiet: boolean;
}

/** What the command calls outside the run itself; tests and the demo swap parts of it. */
export interface BackupSeams {
  announce: (outcome: BackupOutcome, config: AnnounceConfig, deps: AnnounceDeps) => Promise<AnnounceResult>;
  announceStart: (config: AnnounceConfig, deps: AnnounceDeps, start: { startedAtMs: number; dryRun?: boolean }) => Promise<AnnounceResult>;
  /** Extra run dependencies (a wrapped mirror, private device paths). */
  runDeps?: Partial<BackupDeps>;
  /** Where SIGTERM/SIGINT come from (default: this process). */
  signals?: NodeJS.EventEmitter;
}

export const defaultSeams: BackupSeams = { announce, announceStart };

export const STATUS_EXIT: Record<RunStatus, ExitCodeValue> = {
  ok: ExitCode.ok,
  partial: ExitCode.partial,
  refused: ExitCode.refused,
  fatal: ExitCode.fatal,
  busy: ExitCode.busy,
};

export function register(program: Command, cli: Cli): void {
  program
    .command('backup')
    .description('the nightly backup: mount the first present disk, stop each app while its data is copied, mirror every source, verify a sample, unmount, notify')
    .option('--config <file>', 'config file (default ~/.config/home-lab/config.yaml)')
    .option('-n, --dry-run', 'discover and plan only: no service is stopped, nothing is written (the disk is mounted to compare against, then unmounted)', false)
    .option('--disk <name>', 'use this disk of the config, not the first present one')
    .option('--allow-deletions', 'confirm deletions over the configured limits for this run (an empty source still refuses)', false)
    .option('--no-progress', 'no progress display')
    .option('-v, --verbose', 'more log lines', false)
    .option('-q, --quiet', 'warnings and errors only', false)
    .action(async (flags: BackupFlags) => {
      const config = loadConfig({ file: flags.config });
      await backupCommand(config, flags, cli);
    });
}

/** Runs one backup with a loaded config; sets the exit code. Returns the outcome (for the demo). */
export async function backupCommand(config: Config, flags: BackupFlags, cli: Cli, seams: BackupSeams = defaultSeams): Promise<BackupOutcome> {
  if (flags.disk !== undefined && !config.disks.some((d) => d.name === flags.disk)) {
    throw new FatalError(`--disk ${flags.disk}: no such disk in ${config.file ?? 'the config'} (disks: ${config.disks.map((d) => d.name).join(', ')})`, 'usage');
  }
  const logger = cli.logger({ verbose: flags.verbose, quiet: flags.quiet });
  for (const warning of permissionWarnings(config)) logger.warn(warning);
  const now = Date.now;
  const announceDeps: AnnounceDeps = { fetch: globalThis.fetch, now, logger };

  const controller = new AbortController();
  let signalled: string | null = null;
  const onSignal = (name: string) => () => {
    if (signalled) {
      logger.warn(`received ${name} again: still restarting services and releasing the disk`);
      return;
    }
    signalled = name;
    logger.warn(`received ${name}: stopping; services are started again and the disk released before exiting`);
    controller.abort(name);
  };
  const signals = seams.signals ?? process;
  const handlers = { SIGTERM: onSignal('SIGTERM'), SIGINT: onSignal('SIGINT') };
  for (const [name, handler] of Object.entries(handlers)) signals.on(name, handler);

  const progress = new StepProgress(cli, logger, flags.progress && !flags.quiet);
  try {
    const startedAtMs = now();
    const started = await seams.announceStart(config, announceDeps, { startedAtMs, dryRun: flags.dryRun });
    const outcome = await runBackup(
      config,
      { dryRun: flags.dryRun, ...(flags.disk ? { disk: flags.disk } : {}), allowDeletions: flags.allowDeletions },
      { run: runCommand, logger, now, signal: controller.signal, onEvent: (step, event) => progress.event(step, event), ...seams.runDeps },
    );
    progress.stop();
    cli.out(formatSummary(outcome));
    cli.setExitCode(STATUS_EXIT[outcome.status]);
    // At the very end, after failures too: the services are up again (the notification server may
    // be one of them) and the disk is released.
    const announced = await seams.announce(outcome, config, announceDeps);
    if (!started.ok || !announced.ok) cli.setExitCode(ExitCode.notifyFailed);
    if (signalled) cli.setExitCode(ExitCode.fatal);
    return outcome;
  } finally {
    progress.stop();
    for (const [name, handler] of Object.entries(handlers)) signals.off(name, handler);
  }
}

/** One progress display per step (a bar on a TTY, a line every few seconds otherwise). */
class StepProgress {
  private step = '';
  private sink: ProgressSink | null = null;

  constructor(
    private readonly cli: Cli,
    private readonly logger: Logger,
    private readonly enabled: boolean,
  ) {}

  event(step: string, event: Parameters<NonNullable<BackupDeps['onEvent']>>[1]): void {
    if (event.kind === 'notice') this.logger.warn(`${step}: ${event.message}`);
    if (event.kind !== 'progress') return;
    if (step !== this.step) {
      this.sink?.stop();
      this.step = step;
      this.sink = createProgress({ tty: this.cli.isTTY, label: step, logger: this.logger, enabled: this.enabled });
    }
    this.sink?.update({ filesDone: event.filesDone, filesTotal: event.filesSeen, bytesDone: event.bytesDone, bytesTotal: event.bytesQueued });
  }

  stop(): void {
    this.sink?.stop();
    this.sink = null;
  }
}
