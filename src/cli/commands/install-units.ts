// `home-lab install-units`: writes the systemd user units (nightly timer, backup service, failure
// notifier) with this machine's paths into ~/.config/systemd/user/, then says how to enable them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { FatalError } from '../../errors.js';
import { defaultConfigPath } from '../../config/schema.js';
import { writeFileAtomicSync } from '../../backup/atomic-file.js';
import { BACKUP_TIMER, DEFAULT_ON_CALENDAR, renderUnits } from '../../host/systemd-units.js';

interface InstallFlags {
  dir?: string;
  config?: string;
  bin?: string;
  onCalendar: string;
  dryRun: boolean;
}

/** How the units start home-lab: --bin, or this very node binary and compiled main.js. */
export function homeLabCommand(bin: string | undefined, argv1: string | undefined): string[] {
  if (bin) {
    const abs = path.resolve(bin);
    try {
      fs.accessSync(abs, fs.constants.X_OK);
    } catch {
      throw new FatalError(`--bin ${abs} is not an executable file`, 'usage');
    }
    return [abs];
  }
  const script = argv1 ? fs.realpathSync(argv1) : '';
  if (!script.endsWith('.js')) {
    throw new FatalError(
      `cannot tell where the compiled home-lab is (running ${script || 'from an unknown place'}): run \`npm run build\` and ` +
        'start it as `node dist/src/cli/main.js install-units`, or pass --bin PATH',
      'usage',
    );
  }
  return [process.execPath, script];
}

export function register(program: Command, cli: Cli): void {
  program
    .command('install-units')
    .description('install the systemd user units (nightly timer at 03:00, backup service, failure notifier) into ~/.config/systemd/user')
    .option('--dir <dir>', 'where to write the units (default $XDG_CONFIG_HOME/systemd/user or ~/.config/systemd/user)')
    .option('--config <file>', 'config file the units pass to home-lab (default: home-lab\'s default)')
    .option('--bin <path>', 'the home-lab executable the units run (default: this node and this main.js)')
    .option('--on-calendar <expr>', 'when the backup runs (systemd calendar expression)', DEFAULT_ON_CALENDAR)
    .option('-n, --dry-run', 'print the units instead of writing them', false)
    .action((flags: InstallFlags) => {
      const env = process.env;
      const dir = path.resolve(flags.dir ?? path.join(env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config'), 'systemd', 'user'));
      const command = homeLabCommand(flags.bin, process.argv[1]);
      const configFile = flags.config ? path.resolve(flags.config) : undefined;
      const units = renderUnits({ command, configFile, onCalendar: flags.onCalendar });
      if (flags.dryRun) {
        for (const [name, text] of Object.entries(units)) cli.out(`# ${path.join(dir, name)}\n${text}`);
        return;
      }
      for (const [name, text] of Object.entries(units)) {
        writeFileAtomicSync(path.join(dir, name), text, { mode: 0o644 });
        cli.out(`wrote ${path.join(dir, name)}`);
      }
      const config = configFile ?? defaultConfigPath(env);
      if (!fs.existsSync(config)) cli.out(`note: there is no config at ${config} yet: create it before the first night (README, "Config").`);
      cli.out(
        [
          '',
          'Now enable the nightly timer:',
          '  systemctl --user daemon-reload',
          `  systemctl --user enable --now ${BACKUP_TIMER}`,
          `  loginctl enable-linger ${os.userInfo().username}    # run the timer while you are logged out`,
          'Check it with `systemctl --user list-timers` and try one run now with',
          '  systemctl --user start home-lab-backup.service; journalctl --user -u home-lab-backup.service -f',
        ].join('\n'),
      );
    });
}
