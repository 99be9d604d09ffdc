#!/usr/bin/env node
// The commander tree. The only place that reads process.argv and calls process.exit.
import './heap.js';
import './jit.js';
import { Command, CommanderError } from './commander.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { createLogger, type Cli } from './cli.js';
import { FatalError } from '../errors.js';
import { registerCommands } from './commands/index.js';

// When several outcomes are set, the most serious wins (usage > fatal > refused > ... > ok).
const PRIORITY: ExitCodeValue[] = [
  ExitCode.usage, ExitCode.fatal, ExitCode.busy, ExitCode.refused, ExitCode.findings, ExitCode.partial,
  ExitCode.notifyFailed, ExitCode.repaired, ExitCode.ok,
];
let exitCode: ExitCodeValue = ExitCode.ok;

const cli: Cli = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
  isTTY: Boolean(process.stdout.isTTY && process.stderr.isTTY),
  logger: (options) => createLogger(options ?? {}),
  setExitCode(code) {
    if (PRIORITY.indexOf(code) < PRIORITY.indexOf(exitCode)) exitCode = code;
  },
};

const program = new Command('home-lab')
  .description('Nightly homelab backup: a hashing mirror engine (rsync -a --delete), scrub, disks, services, notifications.')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)');
await registerCommands(program, cli, process.argv);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here with code 0; a usage error already printed its message.
    cli.setExitCode(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
  } else if (error instanceof FatalError) {
    process.stderr.write(`home-lab: ${error.message}\n`);
    cli.setExitCode(ExitCode[error.kind]);
  } else {
    process.stderr.write(`home-lab: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    cli.setExitCode(ExitCode.fatal);
  }
}
process.exit(exitCode);
