// One line per subcommand; each module exports register(program, cli).
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { register as mirror } from './mirror.js';

export function registerCommands(program: Command, cli: Cli): void {
  mirror(program, cli);
}
