// The deletion guard (threat 1 of DESIGN.md): a nightly mirror faithfully copies mistakes, and the
// classic way mirrors destroy backups is a source that looked empty because its disk was not mounted.
// Pure: the engine counts what it would delete, asks here, and deletes nothing on a refusal.
//
// Rules, in order:
// 1. Nothing to delete: allowed.
// 2. An empty source (no regular files) against a destination that has files: always refused, even
//    with --allow-deletions. That is the unmounted-disk case; no owner means to mirror "nothing".
// 3. --allow-deletions (limits.allow): allowed.
// 4. The limit is maxFiles files or maxPercent % of the destination's files, whichever is larger;
//    when only one of them is given (--max-delete N or --max-delete-percent P alone), only that one
//    applies; when neither is given, the defaults are 1,000 files and 10 %. So by default a small tree
//    may lose up to 1,000 files a night and a big tree up to a tenth of itself, and a refusal means
//    something unusual happened. (The config's deletions.maxFiles/maxPercent always give both.)
import type { DeletionLimits } from './types.js';
import { formatCount } from '../units.js';

export const DEFAULT_MAX_DELETE_FILES = 1000;
export const DEFAULT_MAX_DELETE_PERCENT = 10;
/** How many directories a refusal names. */
export const TOP_DIRS = 5;

export interface DeletionPlan {
  /** Regular files that would be deleted (files inside deleted directories included). */
  files: number;
  bytes: number;
  /** Regular files in the destination before the run. */
  destFiles: number;
  /** Regular files in the source. */
  sourceFiles: number;
  /** Escaped directory path -> files that would be deleted there. */
  byDir: ReadonlyMap<string, number>;
}

export type GuardDecision =
  | { ok: true }
  | { ok: false; reason: string; files: number; bytes: number; topDirs: { dir: string; files: number }[] };

const CONFIRM = 'Nothing was deleted; copies were still made.';

export function evaluateDeletions(plan: DeletionPlan, limits: DeletionLimits): GuardDecision {
  if (plan.files <= 0) return { ok: true };
  const topDirs = topDirectories(plan.byDir, TOP_DIRS);
  const where = topDirs.length > 0 ? ` Most affected: ${topDirs.map((d) => `${d.dir || '.'} (${formatCount(d.files)})`).join(', ')}.` : '';
  const what = `${formatCount(plan.files)} file${plan.files === 1 ? '' : 's'} (${formatBytes(plan.bytes)})`;
  const refuse = (reason: string): GuardDecision => ({ ok: false, reason, files: plan.files, bytes: plan.bytes, topDirs });

  if (plan.sourceFiles === 0 && plan.destFiles > 0) {
    return refuse(
      `the source has no files but the destination has ${formatCount(plan.destFiles)}: refusing to delete ${what}.${where} ` +
        `Is the source disk mounted? ${CONFIRM} This is refused even with --allow-deletions; ` +
        `if an empty mirror is really wanted, empty the destination by hand.`,
    );
  }
  if (limits.allow) return { ok: true };

  const percent = plan.destFiles > 0 ? (plan.files * 100) / plan.destFiles : 100;
  const share = `${formatPercent(percent)} of the destination's ${formatCount(plan.destFiles)} files`;
  const confirm = `${CONFIRM} If these deletions are intended, rerun with --allow-deletions.`;
  const given = limits.maxFiles !== undefined || limits.maxPercent !== undefined;
  const maxFiles = given ? limits.maxFiles : DEFAULT_MAX_DELETE_FILES;
  const maxPercent = given ? limits.maxPercent : DEFAULT_MAX_DELETE_PERCENT;
  const byPercent = maxPercent === undefined ? undefined : Math.floor((plan.destFiles * maxPercent) / 100);
  const limit = Math.max(maxFiles ?? 0, byPercent ?? 0);
  if (plan.files <= limit) return { ok: true };
  const source = given ? '' : 'default ';
  const rule =
    maxFiles !== undefined && maxPercent !== undefined
      ? `${formatCount(maxFiles)} files or ${formatPercent(maxPercent)} of the destination, whichever is larger`
      : maxFiles !== undefined
        ? '--max-delete'
        : `${formatPercent(maxPercent as number)} of the destination, --max-delete-percent`;
  return refuse(
    `refusing to delete ${what}, ${share}: over the ${source}limit of ${formatCount(limit)} files (${rule}; ` +
      `set --max-delete / --max-delete-percent to change it).${where} ${confirm}`,
  );
}

/** The directories losing the most files, most first, ties by name (deterministic output). */
export function topDirectories(byDir: ReadonlyMap<string, number>, n: number): { dir: string; files: number }[] {
  return [...byDir.entries()]
    .filter(([, files]) => files > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, n)
    .map(([dir, files]) => ({ dir, files }));
}

function formatPercent(p: number): string {
  return `${Number.isInteger(p) ? p : p.toFixed(1)} %`;
}

/** 1536 -> "1.5 KiB": binary units, as df -h and du -h print them. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
