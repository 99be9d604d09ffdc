// Which trash days to remove: pure, so every rule is a table test. Trash older than keepDays goes
// first; when the disk is still short of space, more days go, oldest first, until enough is free
// (today's trash last of all: it holds the most recent mistakes).
import { dayNumber } from './layout.js';

export type PruneReason = 'expired' | 'space';

export interface PruneChoice {
  date: string;
  reason: PruneReason;
}

/**
 * Days strictly older than keepDays before today, oldest first. With keepDays 30 on 2024-06-30,
 * 2024-05-31 (30 days old) is kept and 2024-05-30 goes. Names that are not dates are never chosen.
 */
export function expiredTrashDays(dates: readonly string[], today: string, keepDays: number): string[] {
  const now = dayNumber(today);
  if (now === null) throw new Error(`expiredTrashDays: today is not a date: ${today}`);
  return sortDays(dates).filter((d) => now - (dayNumber(d) as number) > keepDays);
}

/**
 * More days to remove, oldest first, until freeBytes + their sizes reaches minFreeBytes. When even
 * all of them are not enough, all are chosen and stillShortBytes says by how much it falls short.
 */
export function trashDaysForSpace(
  days: readonly { date: string; sizeBytes: number }[],
  freeBytes: number,
  minFreeBytes: number,
): { prune: string[]; stillShortBytes: number } {
  const prune: string[] = [];
  let free = freeBytes;
  const byDate = new Map(days.map((d) => [d.date, d.sizeBytes]));
  for (const date of sortDays(days.map((d) => d.date))) {
    if (free >= minFreeBytes) break;
    prune.push(date);
    free += byDate.get(date) as number;
  }
  return { prune, stillShortBytes: Math.max(0, minFreeBytes - free) };
}

/** Both rules at once, for callers that know every day's size up front. */
export function selectTrashDaysToPrune(input: {
  days: readonly { date: string; sizeBytes: number }[];
  today: string;
  keepDays: number;
  freeBytes: number;
  minFreeBytes: number;
}): { prune: PruneChoice[]; stillShortBytes: number } {
  const expired = expiredTrashDays(input.days.map((d) => d.date), input.today, input.keepDays);
  const gone = new Set(expired);
  let free = input.freeBytes;
  for (const d of input.days) if (gone.has(d.date)) free += d.sizeBytes;
  const rest = trashDaysForSpace(input.days.filter((d) => !gone.has(d.date)), free, input.minFreeBytes);
  return {
    prune: [...expired.map((date) => ({ date, reason: 'expired' as const })), ...rest.prune.map((date) => ({ date, reason: 'space' as const }))],
    stillShortBytes: rest.stillShortBytes,
  };
}

/** Valid dates only, oldest first (duplicates dropped). */
function sortDays(dates: readonly string[]): string[] {
  return [...new Set(dates)].filter((d) => dayNumber(d) !== null).sort();
}
