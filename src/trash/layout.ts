// Where trash lives on a backup disk: <disk>/.home-lab/trash/<YYYY-MM-DD>/<original path relative to
// the disk>. One directory per day makes retention a matter of removing whole directories, oldest
// first, and lets the owner find yesterday's deletions with ls. Pure.
import path from 'node:path';
import { joinPath } from '../engine/bytes.js';
import { unsafeRelativePath } from './safe-path.js';

export const TRASH_SUBDIR = path.join('.home-lab', 'trash');

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

export function trashRoot(diskRoot: string): string {
  return path.join(diskRoot, TRASH_SUBDIR);
}

/** True for a well-formed calendar date 'YYYY-MM-DD' (the only names retention ever removes). */
export function isTrashDay(name: string): boolean {
  return dayNumber(name) !== null;
}

/** Days since 1970-01-01 for 'YYYY-MM-DD', or null when it is not a real date. */
export function dayNumber(date: string): number | null {
  const m = DAY.exec(date);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return ms / 86_400_000;
}

/**
 * The trash day of a moment, in the machine's local time zone: the owner looking for "what was
 * deleted last night" thinks in local dates.
 */
export function trashDayOf(atMs: number): string {
  const d = new Date(atMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function trashDayDir(diskRoot: string, date: string): string {
  if (!isTrashDay(date)) throw new Error(`not a trash day (YYYY-MM-DD): ${JSON.stringify(date)}`);
  return path.join(trashRoot(diskRoot), date);
}

/**
 * <disk>/.home-lab/trash/<date>/<relPath>. relPath is relative to the disk (a mirror at
 * <disk>/bare gives 'bare/...'). Throws for an unsafe relPath: the engine only passes paths from its
 * own walk, so one would be a bug, and joining it could escape the trash.
 */
export function trashPathFor(diskRoot: string, date: string, relPath: Buffer): Buffer {
  const problem = unsafeRelativePath(relPath);
  if (problem !== null) throw new Error(`trashPathFor: unsafe relative path (${problem})`);
  return joinPath(Buffer.from(trashDayDir(diskRoot, date)), relPath);
}
