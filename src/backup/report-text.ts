// Pure: a BackupOutcome as a push notification (title + markdown body). What happened, on which
// disk, how long, how much was copied, deleted and verified, and the first errors with their paths.
// The outcome holds no secrets by contract (outcome.ts); nothing else is added here.
import type { BackupOutcome, RunStatus, StepOutcome } from './outcome.js';
import { formatBytes, formatCount } from '../units.js';

export { formatBytes };

export interface Report {
  title: string;
  markdown: string;
  failure: boolean;
}

export interface ReportOptions {
  /** How many errors (and failed files) to list before "… and N more". */
  maxErrors?: number;
  /** Shown in the title, so several machines can share one notification channel. */
  host?: string;
  /** IANA zone for the start time; default: this machine's. */
  timeZone?: string;
}

const STATUS_WORD: Record<RunStatus, string> = {
  ok: 'OK',
  partial: 'PARTIAL',
  refused: 'REFUSED',
  fatal: 'FAILED',
  busy: 'BUSY',
};

export function formatDuration(ms: number): string {
  const totalSeconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** "2024-05-01 03:00:12" in the given zone (sv-SE formats dates the ISO way). */
export function formatTime(ms: number, timeZone?: string): string {
  return new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(new Date(ms));
}

function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** Markdown inline code that survives backticks in names. */
function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${fence === '``' ? ' ' : ''}${text}${fence === '``' ? ' ' : ''}${fence}`;
}

function totals(steps: StepOutcome[]) {
  const sum = (pick: (s: StepOutcome) => number) => steps.reduce((acc, s) => acc + pick(s), 0);
  return {
    filesCopied: sum((s) => s.filesCopied),
    bytesCopied: sum((s) => s.bytesCopied),
    filesDeleted: sum((s) => s.filesDeleted),
    bytesDeleted: sum((s) => s.bytesDeleted),
    filesVerified: sum((s) => s.filesVerified),
    failedFiles: sum((s) => s.failures.length),
  };
}

export function outcomeTotals(outcome: BackupOutcome): ReturnType<typeof totals> & { errors: number } {
  const t = totals(outcome.steps);
  return { ...t, errors: Math.max(outcome.errors.length, t.failedFiles) };
}

export function renderReport(outcome: BackupOutcome, options: ReportOptions = {}): Report {
  const maxErrors = options.maxErrors ?? 10;
  const t = outcomeTotals(outcome);
  const failure = outcome.status !== 'ok' || outcome.corruptFound > 0;
  const disk = outcome.disk ? outcome.disk.name : 'no disk';
  const duration = formatDuration(outcome.finishedAtMs - outcome.startedAtMs);
  const host = options.host ? ` on ${options.host}` : '';
  let title = `home-lab backup${host} ${STATUS_WORD[outcome.status]}: ${disk}`;
  if (outcome.status === 'ok') title += ` (${duration})`;
  else if (t.errors > 0) title += `, ${plural(t.errors, 'error')}`;
  if (outcome.corruptFound > 0) title += `, ${formatCount(outcome.corruptFound)} CORRUPT`;
  if (outcome.dryRun) title += ' (dry run)';

  const lines: string[] = [];
  const diskLine = outcome.disk
    ? `${outcome.disk.name} (${code(outcome.disk.mountPoint)})${outcome.disk.freeBytes === null ? '' : `, ${formatBytes(outcome.disk.freeBytes)} free`}`
    : 'none could be mounted';
  lines.push(`**Status:** ${STATUS_WORD[outcome.status]}${outcome.dryRun ? ' (dry run: nothing changed)' : ''}`);
  lines.push(`**Disk:** ${diskLine}`);
  lines.push(`**Started:** ${formatTime(outcome.startedAtMs, options.timeZone)}, took ${duration}`);
  lines.push(
    `**Copied:** ${plural(t.filesCopied, 'file')} (${formatBytes(t.bytesCopied)}) · ` +
      `**Deleted:** ${plural(t.filesDeleted, 'file')} (${formatBytes(t.bytesDeleted)}) · ` +
      `**Verified:** ${plural(t.filesVerified, 'file')}`,
  );
  if (outcome.corruptFound > 0) {
    lines.push(`**Corrupt backup files found:** ${formatCount(outcome.corruptFound)} (run \`home-lab scrub\` on the disk for the list)`);
  }
  if (outcome.coverage) {
    const c = outcome.coverage;
    const oldest = c.oldestVerifiedAtMs === null ? 'never' : formatTime(c.oldestVerifiedAtMs, options.timeZone).slice(0, 10);
    lines.push(
      `**Scrub coverage:** ${(c.verifiedShare100d * 100).toFixed(1)} % verified in the last 100 days; oldest check ${oldest}` +
        (c.neverVerified > 0 ? `; ${formatCount(c.neverVerified)} never verified` : ''),
    );
  }

  if (outcome.errors.length > 0) {
    lines.push('', '### Errors');
    for (const error of outcome.errors.slice(0, maxErrors)) lines.push(`- ${error}`);
    if (outcome.errors.length > maxErrors) lines.push(`- … and ${formatCount(outcome.errors.length - maxErrors)} more`);
  }

  // File failures not already named among the run's errors.
  const failures = outcome.steps.flatMap((s) => s.failures.map((f) => ({ step: s.name, ...f })));
  const unlisted = failures.filter((f) => !outcome.errors.some((e) => e.includes(f.path)));
  if (unlisted.length > 0) {
    lines.push('', `### Failed files (${formatCount(unlisted.length)})`);
    for (const f of unlisted.slice(0, maxErrors)) lines.push(`- ${code(f.path)} (${f.step}): ${f.error}`);
    if (unlisted.length > maxErrors) lines.push(`- … and ${formatCount(unlisted.length - maxErrors)} more`);
  }

  if (outcome.refusal) {
    const r = outcome.refusal;
    lines.push('', '### Deletions refused', `${plural(r.files, 'file')} (${formatBytes(r.bytes)}) would have been deleted: ${r.reason}`);
    for (const d of r.topDirs.slice(0, 5)) lines.push(`- ${code(d.dir)}: ${plural(d.files, 'file')}`);
  }

  if (outcome.steps.length > 0) {
    lines.push('', '### Steps');
    for (const s of outcome.steps) {
      const parts = [
        `${STATUS_WORD[s.status]}`,
        formatDuration(s.durationMs),
        `${formatCount(s.filesCopied)} copied (${formatBytes(s.bytesCopied)})`,
        `${formatCount(s.filesDeleted)} deleted`,
        `${formatCount(s.filesVerified)} verified`,
      ];
      if (s.failures.length > 0) parts.push(plural(s.failures.length, 'failure'));
      lines.push(`- **${s.name}**: ${parts.join(', ')}${s.notes.length > 0 ? ` — ${s.notes.join('; ')}` : ''}`);
    }
  }
  return { title, markdown: lines.join('\n'), failure };
}

/** The message of the OnFailure= unit: the service failed (or died) without reporting itself. */
export function renderUnitFailure(info: {
  unit: string;
  host?: string;
  result: string | null;
  exitStatus: string | null;
  lastError: string | null;
  journal: string[];
}): Report {
  const host = info.host ? ` on ${info.host}` : '';
  const lines = [
    `**Unit:** ${code(info.unit)}`,
    `**Result:** ${info.result ?? 'unknown'}${info.exitStatus ? ` (exit status ${info.exitStatus})` : ''}`,
  ];
  if (info.lastError) lines.push(`**Last recorded error:** ${info.lastError}`);
  lines.push('', `Check with \`journalctl --user -u ${info.unit}\` and \`home-lab status\`.`);
  if (info.journal.length > 0) lines.push('', '### Last log lines', '```', ...info.journal, '```');
  return { title: `home-lab backup${host} FAILED: ${info.unit} ${info.result ?? 'failed'}`, markdown: lines.join('\n'), failure: true };
}
