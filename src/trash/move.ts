// Moving a deleted or overwritten entry into today's trash: one rename on the same filesystem, so
// trashing costs what unlinking costs and never copies data. Parent directories inside the trash are
// created as needed and never followed through a symlink. A name already taken in that day's trash
// (the same file trashed twice in one day, or a file where a directory is needed) gets a numbered
// suffix, as `cp --backup=numbered` does: 'a.jpg', then 'a.jpg.~1~', 'a.jpg.~2~'.
import fs from 'node:fs';
import { displayPath, joinPath, splitPath } from '../engine/bytes.js';
import { trashDayDir } from './layout.js';
import { unsafeRelativePath } from './safe-path.js';

export type TrashMoveResult = { ok: true; trashPath: Buffer } | { ok: false; code: string; error: string };

const MAX_SUFFIX = 1000;

export class TrashMover {
  private readonly dayDir: Buffer;
  /** Relative dir (latin1 key) -> the directory in the trash that holds its entries. */
  private readonly dirs = new Map<string, Buffer>();

  /** date: 'YYYY-MM-DD' (see trashDayOf). */
  constructor(
    readonly diskRoot: string,
    readonly date: string,
  ) {
    this.dayDir = Buffer.from(trashDayDir(diskRoot, date));
  }

  /**
   * Renames `entry` (an absolute path on the disk) to <disk>/.home-lab/trash/<date>/<relPath>.
   * relPath is the entry's path relative to the disk. Returns where it went, or an error value
   * (EXDEV when the entry is on another filesystem: the caller then deletes or keeps it).
   */
  move(entry: Buffer, relPath: Buffer): TrashMoveResult {
    const problem = unsafeRelativePath(relPath);
    if (problem !== null) return { ok: false, code: 'EINVAL', error: `not moved to trash: unsafe path ${displayPath(relPath)} (${problem})` };
    const { dir, name } = splitPath(relPath);
    try {
      const parent = this.directoryFor(dir);
      const target = freeName(parent, name);
      fs.renameSync(entry, target);
      return { ok: true, trashPath: target };
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const code = e.code ?? 'EIO';
      const hint = code === 'EXDEV' ? ' (the trash must be on the same filesystem as the mirror)' : '';
      return { ok: false, code, error: `cannot move ${displayPath(entry)} to the trash of ${this.date}: ${code}${hint}` };
    }
  }

  private directoryFor(relDir: Buffer): Buffer {
    const key = relDir.toString('latin1');
    const known = this.dirs.get(key);
    if (known) return known;
    let current: Buffer;
    if (relDir.length === 0) {
      fs.mkdirSync(this.dayDir, { recursive: true, mode: 0o700 });
      if (!fs.lstatSync(this.dayDir).isDirectory()) throw Object.assign(new Error('trash day is not a directory'), { code: 'ENOTDIR' });
      current = this.dayDir;
    } else {
      const { dir, name } = splitPath(relDir);
      current = ensureDir(this.directoryFor(dir), name);
    }
    this.dirs.set(key, current);
    return current;
  }
}

/** parent/name as a real directory (not a symlink), or parent/name.~N~ when the name is taken. */
function ensureDir(parent: Buffer, name: Buffer): Buffer {
  for (let n = 0; n <= MAX_SUFFIX; n++) {
    const p = joinPath(parent, n === 0 ? name : suffixed(name, n));
    try {
      fs.mkdirSync(p, { mode: 0o700 });
      return p;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (fs.lstatSync(p).isDirectory()) return p;
    }
  }
  throw Object.assign(new Error('too many entries with the same name in one trash day'), { code: 'EEXIST' });
}

function freeName(parent: Buffer, name: Buffer): Buffer {
  for (let n = 0; n <= MAX_SUFFIX; n++) {
    const p = joinPath(parent, n === 0 ? name : suffixed(name, n));
    if (!exists(p)) return p;
  }
  throw Object.assign(new Error('too many entries with the same name in one trash day'), { code: 'EEXIST' });
}

/** name.~n~, cutting the name so the result still fits NAME_MAX (255 bytes). */
function suffixed(name: Buffer, n: number): Buffer {
  const suffix = Buffer.from(`.~${n}~`);
  return Buffer.concat([name.subarray(0, Math.min(name.length, 255 - suffix.length)), suffix]);
}

function exists(p: Buffer): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
