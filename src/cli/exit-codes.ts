// Exit codes of every home-lab command, documented in README.md ("Exit codes").
// Scripts and systemd rely on them: never renumber, only add.
export const ExitCode = {
  /** Everything done, nothing to report. */
  ok: 0,
  /** Stopped before or during the run: missing source, unmounted disk, no disk, internal error. */
  fatal: 1,
  /** Bad command line or bad config: nothing was touched. */
  usage: 2,
  /** Some files failed (each one reported); everything else done; deletions skipped. */
  partial: 3,
  /** The deletion guard refused: copies done, nothing deleted. Confirm with --allow-deletions. */
  refused: 4,
  /** scrub/verify found corrupt or missing backup files, or source rot. */
  findings: 5,
  /** scrub repaired backup rot from the source; the backup is good again. */
  repaired: 6,
  /** Another run holds the lock on this disk. */
  busy: 7,
  /** The backup itself succeeded but a notification or monitor ping failed. */
  notifyFailed: 8,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
