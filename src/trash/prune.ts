// Trash retention, run at the start of each mirror onto a disk: remove trash days older than
// keepDays, then more (oldest first) while the disk is short of space. Decisions come from
// retention.ts; this file lists, measures and removes.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { displayPath } from '../engine/bytes.js';
import { formatBytes } from '../engine/guard.js';
import { isTrashDay, trashDayOf, trashRoot } from './layout.js';
import { expiredTrashDays, trashDaysForSpace, type PruneReason } from './retention.js';
import { removeTreeSync, treeSizeSync } from './remove-tree.js';

export const DEFAULT_KEEP_DAYS = 30;
/** Without a configured minimum, trash gives way when less than this share of the disk is free. */
export const DEFAULT_MIN_FREE_PERCENT = 5;

export interface PruneOptions {
  diskRoot: string;
  nowMs: number;
  keepDays: number;
  /** Keep at least this much free on the disk; default DEFAULT_MIN_FREE_PERCENT of its size. */
  minFreeBytes?: number;
  logger: Logger;
  /** Free and total bytes of the filesystem holding `dir` (tests pass their own). */
  space?: (dir: string) => { freeBytes: number; totalBytes: number };
}

export interface PruneResult {
  pruned: { date: string; reason: PruneReason; bytesFreed: number }[];
  failed: { date: string; error: string }[];
  /** Entries of the trash directory that are not days: never removed. */
  ignored: string[];
  freeBytes: number;
  minFreeBytes: number;
  /** > 0 when even removing all trash (but what failed) left the disk short of minFreeBytes. */
  stillShortBytes: number;
}

export function diskSpace(dir: string): { freeBytes: number; totalBytes: number } {
  const s = fs.statfsSync(dir);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
}

export function pruneTrash(options: PruneOptions): PruneResult {
  const root = trashRoot(options.diskRoot);
  const space = options.space ?? diskSpace;
  const result: PruneResult = { pruned: [], failed: [], ignored: [], freeBytes: 0, minFreeBytes: 0, stillShortBytes: 0 };
  let names: Buffer[];
  try {
    names = fs.readdirSync(root, { encoding: 'buffer' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    names = [];
  }
  const days: string[] = [];
  for (const name of names) {
    const text = name.toString('latin1');
    if (isTrashDay(text)) days.push(text);
    else result.ignored.push(displayPath(name));
  }
  if (result.ignored.length > 0) options.logger.debug(`trash: leaving ${result.ignored.length} entries that are not days alone: ${result.ignored.slice(0, 5).join(', ')}`);

  const remove = (date: string, reason: PruneReason, why: string) => {
    const removed = removeTreeSync(Buffer.from(path.join(root, date)));
    if (removed.ok) {
      result.pruned.push({ date, reason, bytesFreed: removed.bytesFreed });
      options.logger.info(`trash: removed ${date} (${why}; ${formatBytes(removed.bytesFreed)} freed)`);
    } else {
      result.failed.push({ date, error: removed.error });
      options.logger.warn(`trash: could not remove ${date}: ${removed.error}`);
    }
  };

  const expired = expiredTrashDays(days, trashDayOf(options.nowMs), options.keepDays);
  for (const date of expired) remove(date, 'expired', `older than ${options.keepDays} days`);

  const probe = fs.existsSync(root) ? root : options.diskRoot;
  const { freeBytes, totalBytes } = space(probe);
  const minFreeBytes = options.minFreeBytes ?? Math.floor((totalBytes * DEFAULT_MIN_FREE_PERCENT) / 100);
  result.minFreeBytes = minFreeBytes;
  result.freeBytes = freeBytes;
  if (freeBytes < minFreeBytes) {
    const gone = new Set(expired);
    const rest = days.filter((d) => !gone.has(d)).map((date) => ({ date, sizeBytes: treeSizeSync(Buffer.from(path.join(root, date))) }));
    const plan = trashDaysForSpace(rest, freeBytes, minFreeBytes);
    for (const date of plan.prune) {
      remove(date, 'space', `early: ${formatBytes(freeBytes)} free on the disk, below the ${formatBytes(minFreeBytes)} to keep free`);
    }
    result.freeBytes = space(probe).freeBytes;
    result.stillShortBytes = Math.max(0, minFreeBytes - result.freeBytes);
    if (result.stillShortBytes > 0) {
      options.logger.warn(`trash: the disk is still short of space after pruning (${formatBytes(result.freeBytes)} free, ${formatBytes(minFreeBytes)} wanted)`);
    }
  }
  return result;
}
