// Runs `home-lab restore ...` in-process: a commander program with only the restore command and a
// Cli that records lines and the exit code, mapping errors the way cli/main.ts does.
import { Command, CommanderError } from 'commander';
import { register } from '../../src/cli/commands/restore.js';
import { ExitCode, type ExitCodeValue } from '../../src/cli/exit-codes.js';
import { createLogger, type Cli } from '../../src/cli/cli.js';
import { FatalError } from '../../src/errors.js';

const PRIORITY: ExitCodeValue[] = [
  ExitCode.usage, ExitCode.fatal, ExitCode.busy, ExitCode.refused, ExitCode.findings, ExitCode.partial,
  ExitCode.notifyFailed, ExitCode.repaired, ExitCode.ok,
];

export interface CliRun {
  code: ExitCodeValue;
  out: string[];
  err: string[];
}

export async function runRestoreCli(args: string[]): Promise<CliRun> {
  const run: CliRun = { code: ExitCode.ok, out: [], err: [] };
  const lines = (text: string) => text.replace(/\n$/, '').split('\n');
  const cli: Cli = {
    out: (text) => void run.out.push(...lines(text)),
    err: (text) => void run.err.push(...lines(text)),
    isTTY: false,
    logger: (options) => createLogger({ ...options, journald: false, write: (line) => void run.err.push(line) }),
    setExitCode(code) {
      if (PRIORITY.indexOf(code) < PRIORITY.indexOf(run.code)) run.code = code;
    },
  };
  const program = new Command('home-lab').exitOverride().configureOutput({ writeOut: cli.out, writeErr: cli.err });
  register(program, cli);
  try {
    await program.parseAsync(['node', 'home-lab', 'restore', ...args]);
  } catch (error) {
    if (error instanceof CommanderError) cli.setExitCode(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
    else if (error instanceof FatalError) {
      cli.err(`home-lab: ${error.message}`);
      cli.setExitCode(ExitCode[error.kind]);
    } else throw error;
  }
  return run;
}
