// `home-lab status [--json]`: last attempt and success per disk, last error, scrub coverage,
// overdue disks, a run that died. Answers from the local state (and from a backup disk that is
// mounted right now); on a fresh machine it says "never run".
import path from 'node:path';
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { ExitCode } from '../exit-codes.js';
import { loadAnnounceSettings } from '../announce-config.js';
import { loadState, STATE_FILE } from '../../backup/state.js';
import { buildStatus, renderStatus } from '../../backup/status.js';
import { readLiveDisk } from '../../backup/status-live.js';

interface StatusFlags {
  json: boolean;
  config?: string;
  stateDir?: string;
  live: boolean;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function register(program: Command, cli: Cli): void {
  program
    .command('status')
    .description('show the last backup attempt and success per disk, errors, scrub coverage and overdue disks (from the local state)')
    .option('--json', 'print the report as JSON', false)
    .option('--config <file>', 'config file (default ~/.config/home-lab/config.yaml; none needed)')
    .option('--state-dir <dir>', 'read the state from DIR instead of the configured one')
    .option('--no-live', 'do not read a mounted backup disk (state only)')
    .action((flags: StatusFlags) => {
      const settings = loadAnnounceSettings(flags.config);
      const stateDir = flags.stateDir ? path.resolve(flags.stateDir) : settings.stateDir;
      const loaded = loadState(stateDir);
      if (!loaded.ok) {
        cli.err(`home-lab: ${loaded.error}`);
        cli.setExitCode(ExitCode.fatal);
        return;
      }
      const nowMs = Date.now();
      const live: Record<string, ReturnType<typeof readLiveDisk> & object> = {};
      if (flags.live) {
        const records = Object.entries(loaded.state.disks);
        for (const [name, record] of records) {
          // Two disks that mount at the same place cannot be told apart from here: state only.
          if (records.filter(([, r]) => r.mountPoint === record.mountPoint).length > 1) continue;
          const facts = readLiveDisk(record.mountPoint, nowMs);
          if (facts) live[name] = facts;
        }
      }
      const report = buildStatus({
        state: loaded.state,
        stateFile: path.join(stateDir, STATE_FILE),
        nowMs,
        configuredDisks: settings.disks,
        rotationDays: settings.monitor.rotationDays,
        pidAlive,
        live,
      });
      if (flags.json) cli.out(JSON.stringify(report, null, 2));
      else cli.out(renderStatus(report).join('\n'));
    });
}
