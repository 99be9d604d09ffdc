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

/**
 * Which subcommands argv needs registered: the one it names; none for a bare `--version` (the
 * program answers it, and loading every command took ~0.4 s); all of them otherwise (help, a name
 * commander must reject with the list of the right ones). Pure.
 */
export function commandsToLoad(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  const named = args.find((a) => !a.startsWith('-'));
  if (named !== undefined && Object.hasOwn(COMMANDS, named)) return [named];
  if (named === undefined && args.length > 0 && args.every((a) => a === '--version' || a === '-V')) return [];
  return Object.keys(COMMANDS);
}

/** Registers the subcommands argv needs (commandsToLoad). */
export async function registerCommands(program: Command, cli: Cli, argv: readonly string[]): Promise<void> {
  const loaders = commandsToLoad(argv).map((name) => COMMANDS[name] as Loader);
  for (const module of await Promise.all(loaders.map((load) => load()))) module.register(program, cli);
}
