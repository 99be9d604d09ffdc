// Pure decisions of the scrub's selection: how many rows a night checks and when a budget stops it.
// The order itself (never verified first, then oldest verification, ties by (dir, name) bytes) is
// the manifest's index order, read page by page in manifest/queries.ts.
//
// The guarantee: with P % a night, ceil(100 / P) nights check every row of an unchanged manifest,
// because ceil(100 / P) * ceil(rows * P / 100) >= rows and each night takes the rows that waited
// longest. A probability (a random 1 % a night) would leave some files unchecked for years.

/**
 * A percentage as an exact fraction num/den (both positive integers), so that ceil(rows * P / 100)
 * is exact: in floating point 100 * 1.1 = 110.00000000000001, and ceil would take one row too many.
 */
export interface Percent {
  num: bigint;
  den: bigint;
}

/** Parses "1", "0.5", "12.5", "1e-3" (the text form of a JS number) into an exact fraction. */
export function parsePercent(text: string): Percent | { error: string } {
  const m = /^\s*(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$|^\s*\.(\d+)(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m) return { error: `--percent must be a number above 0 and at most 100, not '${text}'` };
  const intPart = m[1] ?? '0';
  const fracPart = m[2] ?? m[4] ?? '';
  const exp = Number(m[3] ?? m[5] ?? '0');
  let num = BigInt(intPart + fracPart);
  let den = 10n ** BigInt(fracPart.length);
  if (exp > 0) num *= 10n ** BigInt(exp);
  else if (exp < 0) den *= 10n ** BigInt(-exp);
  if (num === 0n || num > 100n * den) {
    return { error: `--percent must be above 0 and at most 100, not '${text.trim()}'` };
  }
  return { num, den };
}

/** ceil(rows * P / 100), at least 1 when there is any row, never more than rows. */
export function sampleSize(rows: number, percent: Percent): number {
  if (rows <= 0) return 0;
  const total = BigInt(rows) * percent.num;
  const per = 100n * percent.den;
  const n = Number((total + per - 1n) / per);
  return Math.min(rows, Math.max(1, n));
}

export interface Budget {
  /** Rows to check (the sample size, or every row for verify). */
  maxFiles: number;
  /** Stop before a file that would take the bytes read past this; null = no byte budget. */
  maxBytes: number | null;
  /** Stop starting new files after this long; null = no time budget. */
  maxDurationMs: number | null;
}

export interface Progress {
  filesDone: number;
  bytesDone: number;
  elapsedMs: number;
}

export type StopReason = 'count' | 'bytes' | 'time';

/**
 * Whether to stop before checking the next row (of nextSizeBytes). Budgets cut the end of the
 * queue, never skip ahead: a big file that does not fit ends the night instead of letting smaller,
 * younger files pass it, so the oldest stays first. The first file of a run is always checked, so a
 * file larger than the byte budget cannot block the rotation forever.
 */
export function stopBefore(budget: Budget, done: Progress, nextSizeBytes: number): StopReason | null {
  if (done.filesDone >= budget.maxFiles) return 'count';
  if (done.filesDone === 0) return null;
  if (budget.maxBytes !== null && done.bytesDone + nextSizeBytes > budget.maxBytes) return 'bytes';
  if (budget.maxDurationMs !== null && done.elapsedMs >= budget.maxDurationMs) return 'time';
  return null;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "500M", "2G", "1.5T", "4096" (binary units, an optional trailing B or iB) -> bytes. */
export function parseBytes(text: string): number | { error: string } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return { error: `expected a size like 500M, 2G or 4096, not '${text}'` };
  const bytes = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
  if (!(bytes > 0)) return { error: `the size must be above 0, not '${text}'` };
  return bytes;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s", "30m", "2h", "1h30m", "500ms" -> ms. A bare number is seconds. */
export function parseDuration(text: string): number | { error: string } {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    at = re.lastIndex;
  }
  if (at !== t.length || at === 0 || !(total > 0)) return { error: `expected a duration like 90s, 30m, 2h or 1h30m, not '${text}'` };
  return Math.round(total);
}
