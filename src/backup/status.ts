// `home-lab status`, decided here (pure: state, config facts, clock and a pid probe in; a report
// out) and rendered as text here; the CLI command only gathers the inputs and prints.
import type { Coverage, RunStatus } from './outcome.js';
import type { RunState } from './state.js';
import { formatBytes, formatDuration, formatTime } from './report-text.js';

/** Same threshold as the shipped alert rule HomeLabBackupNoSuccess. */
export const NO_SUCCESS_WARN_HOURS = 26;
const DAY_MS = 86_400_000;

export interface DiskStatus {
  name: string;
  mountPoint: string | null;
  lastAttemptAtMs: number | null;
  lastStatus: RunStatus | null;
  lastSuccessAtMs: number | null;
  lastError: string | null;
  rotationDays: number | null;
  overdue: boolean;
  coverage: Coverage | null;
  freeBytes: number | null;
  /** Coverage and free space were read from the mounted disk just now (not the last run's). */
  live: boolean;
  corruptFoundLastRun: number;
  /** The last restore drill on this disk (read from the disk when it is mounted), or null. */
  drill: { lastRunAtMs: number; lastResult: 'passed' | 'failed'; lastPassedAtMs: number | null } | null;
}

export interface StatusReport {
  nowMs: number;
  stateFile: string;
  neverRun: boolean;
  lastRun: RunState['lastRun'];
  running: { startedAtMs: number; pid: number; alive: boolean } | null;
  disks: DiskStatus[];
  warnings: string[];
  /** No warnings: the backups are running and recent. */
  ok: boolean;
}

export interface StatusInputs {
  state: RunState;
  stateFile: string;
  nowMs: number;
  /** Disk names from the config, in config order (disks never used still show). */
  configuredDisks: string[];
  rotationDays: Record<string, number>;
  /** Is the process still there? (process.kill(pid, 0) in the CLI.) */
  pidAlive: (pid: number) => boolean;
  /** Facts read from a mounted disk just now, by name. */
  live?: Record<string, { freeBytes: number | null; coverage: Coverage | null; drill?: { lastRunAtMs: number; lastResult: 'passed' | 'failed'; lastPassedAtMs: number | null } | null }>;
}

export function formatAge(ms: number): string {
  if (ms < 0) return 'in the future (clock changed?)';
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(ms / DAY_MS)} days ago`;
}

export function buildStatus(input: StatusInputs): StatusReport {
  const { state, nowMs } = input;
  const warnings: string[] = [];
  const neverRun = state.lastRun === null && Object.keys(state.disks).length === 0;
  const names = [...input.configuredDisks];
  for (const n of [...Object.keys(input.rotationDays), ...Object.keys(state.disks)].sort()) if (!names.includes(n)) names.push(n);

  const disks: DiskStatus[] = names.map((name) => {
    const r = state.disks[name];
    const live = input.live?.[name];
    const rotationDays = input.rotationDays[name] ?? null;
    const overdue = rotationDays !== null && (r?.lastSuccessAtMs == null || nowMs - r.lastSuccessAtMs > rotationDays * DAY_MS);
    return {
      name,
      mountPoint: r?.mountPoint ?? null,
      lastAttemptAtMs: r?.lastAttemptAtMs ?? null,
      lastStatus: r?.lastStatus ?? null,
      lastSuccessAtMs: r?.lastSuccessAtMs ?? null,
      lastError: r?.lastError ?? null,
      rotationDays,
      overdue,
      coverage: live?.coverage ?? r?.coverage ?? null,
      freeBytes: live?.freeBytes ?? r?.freeBytes ?? null,
      live: live !== undefined,
      corruptFoundLastRun: r?.lastRun.corruptFound ?? 0,
      drill: live?.drill ? { lastRunAtMs: live.drill.lastRunAtMs, lastResult: live.drill.lastResult, lastPassedAtMs: live.drill.lastPassedAtMs } : null,
    };
  });

  let running: StatusReport['running'] = null;
  if (state.running) {
    running = { ...state.running, alive: input.pidAlive(state.running.pid) };
    if (!running.alive) {
      warnings.push(
        `a backup started ${formatAge(nowMs - running.startedAtMs)} never finished: its process (pid ${running.pid}) is gone, it died. ` +
          'See `journalctl --user -u home-lab-backup.service`.',
      );
    }
  }
  if (neverRun) {
    if (!running) warnings.push('no backup has run on this machine yet. Run `home-lab backup`, and `home-lab install-units` for the nightly timer.');
  } else {
    const lastSuccess = Math.max(0, ...disks.map((d) => d.lastSuccessAtMs ?? 0));
    if (nowMs - lastSuccess > NO_SUCCESS_WARN_HOURS * 3_600_000) {
      warnings.push(
        lastSuccess === 0
          ? 'no backup has ever succeeded.'
          : `no successful backup in the last ${NO_SUCCESS_WARN_HOURS} h (the last one ended ${formatAge(nowMs - lastSuccess)}).`,
      );
    }
    if (state.lastRun && state.lastRun.status !== 'ok') {
      warnings.push(`the last run (${formatAge(nowMs - state.lastRun.finishedAtMs)}, ${state.lastRun.disk ? `disk ${state.lastRun.disk}` : 'no disk'}) ended ${state.lastRun.status}: ${state.lastRun.error ?? 'no error recorded'}`);
    }
  }
  for (const d of disks) {
    if (d.overdue) {
      warnings.push(
        d.lastSuccessAtMs === null
          ? `disk ${d.name} has never had a successful backup (rotation period ${d.rotationDays} days): connect it and run \`home-lab backup --disk ${d.name}\`.`
          : `disk ${d.name}: last success ${formatAge(nowMs - d.lastSuccessAtMs)}, longer than its rotation period of ${d.rotationDays} days: ` +
              `swap it in and run a backup (still in the drawer?).`,
      );
    }
    if (d.drill?.lastResult === 'failed') warnings.push(`disk ${d.name}: the last restore drill (${formatAge(nowMs - d.drill.lastRunAtMs)}) FAILED: run \`home-lab restore --drill\` to see why.`);
    if (d.corruptFoundLastRun > 0) warnings.push(`disk ${d.name}: its last run found ${d.corruptFoundLastRun} corrupt backup file(s): run \`home-lab scrub\` on it.`);
  }
  return { nowMs, stateFile: input.stateFile, neverRun, lastRun: state.lastRun, running, disks, warnings, ok: warnings.length === 0 };
}

export function renderStatus(report: StatusReport, options: { timeZone?: string } = {}): string[] {
  const at = (ms: number) => `${formatTime(ms, options.timeZone)} (${formatAge(report.nowMs - ms)})`;
  const lines: string[] = [];
  if (report.neverRun) {
    lines.push(`Never run: no backup has run on this machine yet (no state at ${report.stateFile}).`);
  } else if (report.lastRun) {
    const r = report.lastRun;
    lines.push(
      `Last run: ${at(r.finishedAtMs)}: ${r.status.toUpperCase()} on ${r.disk ?? 'no disk'}, took ${formatDuration(r.finishedAtMs - r.startedAtMs)}` +
        (r.status === 'ok' ? '' : ` — ${r.error ?? 'no error recorded'}`),
    );
  }
  if (report.running?.alive) lines.push(`Running: a backup started ${at(report.running.startedAtMs)} (pid ${report.running.pid}).`);
  for (const d of report.disks) {
    lines.push('', `Disk ${d.name}${d.mountPoint ? ` (${d.mountPoint})` : ''}${d.live ? ', mounted' : ''}`);
    if (d.lastAttemptAtMs === null) {
      lines.push('  never used');
    } else {
      lines.push(`  last success  ${d.lastSuccessAtMs === null ? 'never' : at(d.lastSuccessAtMs)}`);
      lines.push(`  last attempt  ${at(d.lastAttemptAtMs)}: ${d.lastStatus?.toUpperCase() ?? '?'}${d.lastError ? ` — ${d.lastError}` : ''}`);
    }
    if (d.rotationDays !== null) lines.push(`  rotation      every ${d.rotationDays} days: ${d.overdue ? 'OVERDUE' : 'on time'}`);
    if (d.coverage) {
      const c = d.coverage;
      lines.push(
        `  scrub         ${(c.verifiedShare100d * 100).toFixed(1)} % of ${c.rows} files verified in the last 100 days; oldest check ` +
          `${c.oldestVerifiedAtMs === null ? 'none' : formatTime(c.oldestVerifiedAtMs, options.timeZone).slice(0, 10)}` +
          (c.neverVerified > 0 ? `; ${c.neverVerified} never verified` : ''),
      );
    }
    if (d.freeBytes !== null) lines.push(`  free          ${formatBytes(d.freeBytes)}${d.live ? '' : ' (at its last run)'}`);
    if (d.live) {
      lines.push(
        `  restore drill ${d.drill === null ? 'never rehearsed: run `home-lab restore --drill`' : `last passed ${d.drill.lastPassedAtMs === null ? 'never' : at(d.drill.lastPassedAtMs)}${d.drill.lastResult === 'failed' ? `; the last one (${formatAge(report.nowMs - d.drill.lastRunAtMs)}) FAILED` : ''}`}`,
      );
    }
  }
  lines.push('');
  if (report.warnings.length === 0) lines.push('OK: nothing needs attention.');
  else {
    lines.push(`Needs attention (${report.warnings.length}):`);
    for (const w of report.warnings) lines.push(`  ! ${w}`);
  }
  return lines;
}
