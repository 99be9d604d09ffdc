// The systemd user units, rendered (pure) from one place: `home-lab install-units` writes them with
// this machine's paths into ~/.config/systemd/user/, and the copies in systemd/ are the same
// rendering with `/usr/bin/env home-lab` (a test keeps them identical and runs systemd-analyze
// verify on both).
export const BACKUP_SERVICE = 'home-lab-backup.service';
export const BACKUP_TIMER = 'home-lab-backup.timer';
export const FAILURE_SERVICE = 'home-lab-notify-failure@.service';

export interface UnitOptions {
  /** The command that runs home-lab, e.g. ['/usr/bin/node', '/opt/home-lab/dist/src/cli/main.js']. */
  command: string[];
  /** Passed as --config to every home-lab call; default: home-lab's own default. */
  configFile?: string;
  /** systemd calendar expression of the nightly run. */
  onCalendar?: string;
}

export const DEFAULT_ON_CALENDAR = '*-*-* 03:00';
export const SHIPPED_COMMAND = ['/usr/bin/env', 'home-lab'];

/** One ExecStart= word: specifiers (%) and variables ($) kept literal, quoted when needed. */
export function execWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./~-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Returns file name -> content. */
export function renderUnits(options: UnitOptions): Record<string, string> {
  const base = [...options.command, ...(options.configFile ? ['--config', options.configFile] : [])].map(execWord).join(' ');
  const service = `# home-lab: the nightly backup, started by ${BACKUP_TIMER}.
# Installed by \`home-lab install-units\` (see README, "Running it every night").
[Unit]
Description=home-lab nightly backup
# When the run fails for good (retries used up, killed, timed out, or the process died before it
# could report), a separate unit pushes a high-priority notification.
OnFailure=home-lab-notify-failure@%n.service
# The timer's start plus 3 retries within 20 h; a 5th start fails the unit (OnFailure= runs), and
# the next night starts afresh.
StartLimitIntervalSec=20h
StartLimitBurst=4

[Service]
Type=oneshot
ExecStart=${base} backup
# Retry what may pass on its own: 1 fatal (disk not there yet, server busy), 3 partial (files
# changed while copied), 7 busy (another run held the lock). Never retry what needs a person:
# 2 bad config, 4 deletions refused by the guard, 5 corrupt files found, 8 notification failed.
Restart=on-failure
RestartSec=15min
RestartPreventExitStatus=2 4 5 8
# A hung run is killed (and reported by OnFailure=). SIGTERM goes to home-lab only (mixed), which
# then starts again every service it stopped; its own child commands are not cut off meanwhile.
TimeoutStartSec=18h
KillMode=mixed
TimeoutStopSec=10min
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
SyslogIdentifier=home-lab
`;
  const timer = `# home-lab: starts ${BACKUP_SERVICE} every night.
[Unit]
Description=home-lab nightly backup timer

[Timer]
OnCalendar=${options.onCalendar ?? DEFAULT_ON_CALENDAR}
# Run at the next boot when the machine was off at that time.
Persistent=true
AccuracySec=1min
Unit=${BACKUP_SERVICE}

[Install]
WantedBy=timers.target
`;
  const failure = `# home-lab: pushes a high-priority notification when %i failed (its OnFailure= handler).
# Skips the push when the failed run already sent its own report.
# No OnFailure= here: a failing handler must not trigger itself.
[Unit]
Description=home-lab failure notification for %i

[Service]
Type=oneshot
ExecStart=${base} notify --failure --unit %i
TimeoutStartSec=15min
SyslogIdentifier=home-lab-notify
`;
  return { [BACKUP_SERVICE]: service, [BACKUP_TIMER]: timer, [FAILURE_SERVICE]: failure };
}
