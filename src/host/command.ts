// CommandRunner: run a program, get {ok, code, stdout, stderr}; never throws for a failing program.
// Every adapter in host/ takes one, so tests can swap in a recorder or a shim on PATH.
import { spawn } from 'node:child_process';

export interface CommandResult {
  ok: boolean;
  /** Exit code, or null when killed by a signal or the program could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started (ENOENT...) or timed out. */
  error?: string;
}

export interface CommandOptions {
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
}

export type CommandRunner = (program: string, args: readonly string[], options?: CommandOptions) => Promise<CommandResult>;

export const runCommand: CommandRunner = (program, args, options = {}) =>
  new Promise((resolve) => {
    const child = spawn(program, args, {
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    let startError: string | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (error) => {
      startError = `${program}: ${error.message}`;
    });
    child.on('close', (code, signal) => {
      const error = startError ?? (signal ? `${program} killed by ${signal}${options.timeoutMs ? ` (timeout ${options.timeoutMs} ms?)` : ''}` : undefined);
      resolve({ ok: code === 0 && !error, code, stdout, stderr, ...(error ? { error } : {}) });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });

/** One line that says what failed: for error messages. */
export function describeFailure(program: string, args: readonly string[], result: CommandResult): string {
  const why = result.error ?? (result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`);
  return `\`${[program, ...args].join(' ')}\` failed: ${why.split('\n').slice(-3).join(' / ')}`;
}
