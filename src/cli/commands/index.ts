// One line per subcommand; each module exports register(program, cli).
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { register as mirror } from './mirror.js';
import { register as backup } from './backup.js';
import { register as config } from './config.js';
import { register as demo } from './demo.js';
import { register as status } from './status.js';
import { register as notify } from './notify.js';
import { register as installUnits } from './install-units.js';
import { register as scrub } from './scrub.js';
import { register as verify } from './verify.js';
import { register as manifest } from './manifest.js';

export function registerCommands(program: Command, cli: Cli): void {
  mirror(program, cli);
  backup(program, cli);
  config(program, cli);
  demo(program, cli);
  status(program, cli);
  notify(program, cli);
  installUnits(program, cli);
  scrub(program, cli);
  verify(program, cli);
  manifest(program, cli);
}
