// The subcommands, loaded lazily: a timer-started run pays only for the command it runs (loading
// every command's dependencies cost ~0.6 s of CPU at start-up). Each module exports
// register(program, cli); add a line per new subcommand.
import type { Command } from 'commander';
import type { Cli } from '../cli.js';

type Loader = () => Promise<{ register(program: Command, cli: Cli): void }>;

const COMMANDS: Record<string, Loader> = {
  backup: () => import('./backup.js'),
  mirror: () => import('./mirror.js'),
  scrub: () => import('./scrub.js'),
  verify: () => import('./verify.js'),
  restore: () => import('./restore.js'),
  status: () => import('./status.js'),
  manifest: () => import('./manifest.js'),
  config: () => import('./config.js'),
  notify: () => import('./notify.js'),
  'install-units': () => import('./install-units.js'),
  bench: () => import('./bench.js'),
  demo: () => import('./demo.js'),
};

/** Registers the subcommand named in argv, or every subcommand (for help and unknown names). */
export async function registerCommands(program: Command, cli: Cli, argv: readonly string[]): Promise<void> {
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  const loaders = named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named] as Loader] : Object.values(COMMANDS);
  for (const module of await Promise.all(loaders.map((load) => load()))) module.register(program, cli);
}
