// What a scrub or verify found, as data; the human summary and the JSON object made from it. Pure.
import { displayPath } from '../engine/bytes.js';
import type { CoverageCounts } from '../manifest/queries.js';
import { formatBytes } from '../units.js';

export { formatBytes };

export type FindingKind = 'corrupt' | 'missing' | 'source-rot' | 'repaired' | 'unmanifested' | 'unsafe';

export interface Finding {
  kind: FindingKind;
  /** Relative to TARGET (bytes; escaped only when shown). */
  path: Buffer;
  detail: string;
}

/** The window of the coverage figure: 1 %/night covers everything in 100 nights. */
export const COVERAGE_WINDOW_DAYS = 100;
const DAY_MS = 86_400_000;

export interface Coverage {
  files: number;
  windowDays: number;
  verifiedInWindow: number;
  /** verifiedInWindow / files (1 when the manifest is empty). */
  shareVerifiedInWindow: number;
  oldestVerifiedAtMs: number | null;
  oldestVerificationAgeDays: number | null;
  neverVerified: number;
  /** Rows whose last verification found them corrupt or missing (this run or earlier ones). */
  standingCorruptOrMissing: number;
  standingSourceRot: number;
}

export function coverageFrom(c: CoverageCounts, nowMs: number): Coverage {
  return {
    files: c.files,
    windowDays: COVERAGE_WINDOW_DAYS,
    verifiedInWindow: c.verifiedSince,
    shareVerifiedInWindow: c.files === 0 ? 1 : c.verifiedSince / c.files,
    oldestVerifiedAtMs: c.oldestVerifiedAtMs,
    oldestVerificationAgeDays: c.oldestVerifiedAtMs === null ? null : Math.max(0, (nowMs - c.oldestVerifiedAtMs) / DAY_MS),
    neverVerified: c.neverVerified,
    standingCorruptOrMissing: c.standingBad,
    standingSourceRot: c.standingSourceRot,
  };
}

export function coverageSinceMs(nowMs: number): number {
  return nowMs - COVERAGE_WINDOW_DAYS * DAY_MS;
}

export interface Counts {
  ok: number;
  corrupt: number;
  missing: number;
  sourceRot: number;
  repaired: number;
  unmanifested: number;
  unsafe: number;
  /** Files whose source changed size/mtime or was gone: compared with the manifest only. */
  sourceSkipped: number;
}

export function emptyCounts(): Counts {
  return { ok: 0, corrupt: 0, missing: 0, sourceRot: 0, repaired: 0, unmanifested: 0, unsafe: 0, sourceSkipped: 0 };
}

export interface ScrubReport {
  mode: 'scrub' | 'verify';
  target: string;
  sources: string[];
  startedAtMs: number;
  durationMs: number;
  rowsInManifest: number;
  filesPlanned: number;
  filesChecked: number;
  bytesChecked: number;
  sourceBytesRead: number;
  /** (bytesChecked + sourceBytesRead) per second of the run. */
  throughputBytesPerSec: number;
  /** Why selection ended: the sample was done, a budget ran out, or every row was checked. */
  stoppedBy: 'count' | 'bytes' | 'time' | 'end';
  counts: Counts;
  findings: Finding[];
  /** Findings beyond the kept list (memory stays bounded on a wiped disk); counts are complete. */
  findingsOmitted: number;
  /** Rows whose verification time lay in the future (a wrong clock): reset to never verified. */
  futureVerificationsReset: number;
  coverage: Coverage;
}

/** Findings that make the exit code "findings" (5); repairs alone make it "repaired" (6). */
export function outcomeOf(r: ScrubReport): 'findings' | 'repaired' | 'ok' {
  const c = r.counts;
  if (c.corrupt + c.missing + c.sourceRot + c.unmanifested + c.unsafe > 0) return 'findings';
  if (c.repaired > 0) return 'repaired';
  return 'ok';
}

function formatDays(days: number): string {
  return days < 1 ? `${(days * 24).toFixed(1)} hours` : `${days.toFixed(1)} days`;
}

const LABEL: Record<FindingKind, string> = {
  corrupt: 'CORRUPT',
  missing: 'MISSING',
  'source-rot': 'SOURCE ROT',
  repaired: 'repaired',
  unmanifested: 'NOT IN MANIFEST',
  unsafe: 'UNSAFE ROW',
};

export function findingLine(f: Finding): string {
  return `${LABEL[f.kind]}: ${displayPath(f.path)}: ${f.detail}`;
}

/** The human summary (one string per line). */
export function summaryLines(r: ScrubReport): string[] {
  const c = r.counts;
  const secs = r.durationMs / 1000;
  const lines: string[] = [];
  const stop = r.stoppedBy === 'bytes' ? ' (byte budget reached)' : r.stoppedBy === 'time' ? ' (time budget reached)' : '';
  lines.push(
    `${r.mode}: checked ${r.filesChecked} of ${r.rowsInManifest} files, ${formatBytes(r.bytesChecked)}` +
      `${r.sourceBytesRead > 0 ? ` (+ ${formatBytes(r.sourceBytesRead)} read from the source)` : ''}` +
      ` in ${secs.toFixed(1)} s, ${formatBytes(r.throughputBytesPerSec)}/s${stop}`,
  );
  const parts = [`${c.ok} ok`];
  if (c.repaired) parts.push(`${c.repaired} repaired`);
  if (c.corrupt) parts.push(`${c.corrupt} corrupt`);
  if (c.missing) parts.push(`${c.missing} missing`);
  if (c.sourceRot) parts.push(`${c.sourceRot} source rot`);
  if (c.unmanifested) parts.push(`${c.unmanifested} not in the manifest`);
  if (c.unsafe) parts.push(`${c.unsafe} unsafe manifest rows`);
  if (c.sourceSkipped) parts.push(`${c.sourceSkipped} not compared with the source (changed or gone there)`);
  lines.push(`results: ${parts.join(', ')}`);
  for (const f of r.findings) lines.push(`  ${findingLine(f)}`);
  if (r.findingsOmitted > 0) lines.push(`  ... and ${r.findingsOmitted} more findings (recorded in the manifest)`);
  if (c.sourceRot > 0) {
    lines.push('SOURCE ROT found: the backup copies above are the last good ones and were kept. Check the source files.');
  }
  if (r.futureVerificationsReset > 0) {
    lines.push(`warning: ${r.futureVerificationsReset} rows had verification times in the future (the clock was wrong); they count as never verified now`);
  }
  const v = r.coverage;
  const oldest = v.oldestVerificationAgeDays === null ? 'none verified yet' : `oldest verification ${formatDays(v.oldestVerificationAgeDays)} ago`;
  lines.push(
    `coverage: ${(v.shareVerifiedInWindow * 100).toFixed(1)} % of ${v.files} files verified in the last ${v.windowDays} days; ` +
      `${oldest}; ${v.neverVerified} never verified`,
  );
  if (v.standingCorruptOrMissing > 0 || v.standingSourceRot > 0) {
    lines.push(
      `standing findings in the manifest: ${v.standingCorruptOrMissing} corrupt or missing, ${v.standingSourceRot} source rot ` +
        `(run \`home-lab verify\` to list them all)`,
    );
  }
  return lines;
}

/** The --json object: everything in the summary, paths escaped with displayPath. */
export function reportJson(r: ScrubReport): Record<string, unknown> {
  return {
    ...r,
    findings: r.findings.map((f) => ({ kind: f.kind, path: displayPath(f.path), detail: f.detail })),
    outcome: outcomeOf(r),
  };
}
