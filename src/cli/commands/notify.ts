// `home-lab notify --test`: send a test message to every configured target.
// `home-lab notify --failure --unit UNIT`: the OnFailure= handler of home-lab-backup.service.
import os from 'node:os';
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { ExitCode } from '../exit-codes.js';
import { FatalError } from '../../errors.js';
import { loadAnnounceSettings } from '../announce-config.js';
import { sendAll } from '../../host/notify.js';
import { runCommand } from '../../host/command.js';
import { notifyUnitFailure } from '../../backup/failure-notice.js';
import { formatTime } from '../../backup/report-text.js';

interface NotifyFlags {
  test: boolean;
  failure: boolean;
  unit?: string;
  always: boolean;
  config?: string;
  verbose: boolean;
}

export function register(program: Command, cli: Cli): void {
  program
    .command('notify')
    .description('send a test notification (--test), or report a failed unit (--failure --unit U, run by systemd OnFailure=)')
    .option('--test', 'send a test message to every configured target (at the failure priority, so you hear what a failure sounds like)', false)
    .option('--failure', 'push a high-priority "backup failed" message for --unit, with its last log lines', false)
    .option('--unit <name>', 'the failed unit (systemd passes %i)')
    .option('--always', 'with --failure: push even when the failed run already reported itself', false)
    .option('--config <file>', 'config file (default ~/.config/home-lab/config.yaml)')
    .option('-v, --verbose', 'more log lines', false)
    .action(async (flags: NotifyFlags) => {
      if (flags.test === flags.failure) throw new FatalError('say what to send: --test or --failure --unit NAME', 'usage');
      if (flags.failure && !flags.unit) throw new FatalError('--failure needs --unit NAME (the failed unit; systemd passes %i)', 'usage');
      const logger = cli.logger({ verbose: flags.verbose });
      const settings = loadAnnounceSettings(flags.config);
      const deps = { fetch: globalThis.fetch, now: Date.now, logger };
      if (flags.failure) {
        const env = process.env;
        const result = await notifyUnitFailure(
          {
            unit: flags.unit!,
            always: flags.always,
            monitor: { serviceResult: env.MONITOR_SERVICE_RESULT, exitStatus: env.MONITOR_EXIT_STATUS, invocationId: env.MONITOR_INVOCATION_ID },
          },
          settings,
          { ...deps, run: runCommand },
        );
        if (!result.ok) cli.setExitCode(ExitCode.notifyFailed);
        return;
      }
      const host = os.hostname();
      const results = await sendAll(
        settings.notify,
        {
          title: `home-lab test notification from ${host}`,
          markdown: `If you can read this, notifications from **${host}** work.\n\nSent by \`home-lab notify --test\` at ${formatTime(Date.now())}.`,
          failure: true,
        },
        deps,
      );
      if (results.length === 0) {
        cli.err('home-lab: no notification target configured: add notify.gotify and/or notify.ntfy to the config (see README, "Notifications")');
        cli.setExitCode(ExitCode.usage);
        return;
      }
      for (const r of results) cli.out(r.ok ? `sent via ${r.target}` : `FAILED via ${r.target}: ${r.error}`);
      if (results.some((r) => !r.ok)) cli.setExitCode(ExitCode.notifyFailed);
    });
}
