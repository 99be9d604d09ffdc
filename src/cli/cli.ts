// What every subcommand gets from main.ts: where to write, how to log, and how to set the exit code.
// Only cli/ touches process.stdout/stderr, TTY detection and the exit code.
import type { Logger, LogLevel } from '../log.js';
import type { ExitCodeValue } from './exit-codes.js';

export interface Cli {
  /** A line of the command's own output (results, summaries, JSON). */
  out(text: string): void;
  /** Diagnostics that are not log lines (usage hints). */
  err(text: string): void;
  isTTY: boolean;
  logger(options?: { verbose?: boolean; quiet?: boolean }): Logger;
  /** The process exits with the highest-priority code set (see main.ts). */
  setExitCode(code: ExitCodeValue): void;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
// sd-daemon(3) prefixes: journald reads them from stderr and files the line at that priority.
const SYSLOG_PRIORITY: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

/**
 * Plain lines on stderr. Under systemd (JOURNAL_STREAM set, not a TTY) each line carries a <N>
 * priority prefix for journald instead of a level word; never colours or bars off a TTY.
 */
export function createLogger(options: { verbose?: boolean; quiet?: boolean; write?: (line: string) => void; journald?: boolean }): Logger {
  const min: LogLevel = options.verbose ? 'debug' : options.quiet ? 'warn' : 'info';
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const journald = options.journald ?? (Boolean(process.env.JOURNAL_STREAM) && !process.stderr.isTTY);
  const at = (level: LogLevel) => (message: string) => {
    if (LEVEL_ORDER[level] < LEVEL_ORDER[min]) return;
    for (const line of message.split('\n')) {
      write(journald ? `<${SYSLOG_PRIORITY[level]}>${line}` : `${level === 'info' ? '' : level + ': '}${line}`);
    }
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
