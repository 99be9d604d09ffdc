// `home-lab config check [--config PATH]`: validate the config and print it resolved (defaults
// applied, paths absolute) with secrets masked. A bad config exits with the usage code and lists
// every problem with its line and key path.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { Cli } from '../cli.js';
import { loadConfig } from '../../config/load.js';
import { permissionWarnings } from '../../config/permissions.js';
import { maskSecrets } from '../../config/mask.js';
import type { Config } from '../../config/schema.js';

export function register(program: Command, cli: Cli): void {
  const config = program.command('config').description('the config file');
  config
    .command('check')
    .description('validate the config file and print it resolved (defaults applied, paths absolute, secrets masked)')
    .option('--config <file>', 'config file (default ~/.config/home-lab/config.yaml)')
    .action((flags: { config?: string }) => {
      const resolved = loadConfig({ file: flags.config });
      cli.out(renderConfig(resolved));
      for (const warning of permissionWarnings(resolved)) cli.err(`warning: ${warning}`);
    });
}

export function renderConfig(config: Config): string {
  const { file, ...rest } = config;
  const disks = rest.disks.map((d) => {
    const { kind, ...disk } = d;
    const { type, ...settings } = kind;
    return { ...disk, [type]: settings };
  });
  return `# ${file ?? 'embedded config'}: valid\n${stringify(maskSecrets({ ...rest, disks }), { lineWidth: 0 })}`;
}
