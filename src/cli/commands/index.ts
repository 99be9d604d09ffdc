// One line per subcommand; each module exports register(program, cli).
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { register as mirror } from './mirror.js';
import { register as status } from './status.js';
import { register as notify } from './notify.js';
import { register as installUnits } from './install-units.js';

export function registerCommands(program: Command, cli: Cli): void {
  mirror(program, cli);
  status(program, cli);
  notify(program, cli);
  installUnits(program, cli);
}
