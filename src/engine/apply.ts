// The small filesystem actions of a mirror, on absolute Buffer paths. Each never follows a symlink at
// the destination: attributes are set with lchown/utimensat(AT_SYMLINK_NOFOLLOW), new entries are
// made under a temp name and renamed over the old one, removal uses lstat-based rm.
import fs from 'node:fs';
import { hlfs } from '../native/hlfs.js';
import { joinPath, splitPath } from './bytes.js';
import { tempPathFor } from './copy-file.js';
import { TYPE_BITS, type Entry } from './entry.js';

/** Owner (when `owner`), permission bits (not on symlinks) and times to the nanosecond. */
export function setAttrs(abs: Buffer, src: Entry, owner: boolean): void {
  // chown first: it clears setuid/setgid, which chmod then restores.
  if (owner) fs.lchownSync(abs, src.uid, src.gid);
  if (src.kind !== 'symlink') fs.chmodSync(abs, src.perm);
  hlfs.utimensat(abs, src.atimeNs, src.mtimeNs, true);
}

/** Creates a symlink or special file at a temp name beside `abs`, sets attributes, renames it over. */
export function createNonRegular(abs: Buffer, src: Entry, owner: boolean): void {
  const temp = tempPathFor(abs);
  if (src.kind === 'symlink') fs.symlinkSync(src.linkTarget as Buffer, temp);
  else if (src.kind === 'fifo' || src.kind === 'socket' || src.kind === 'char' || src.kind === 'block') {
    hlfs.mknod(temp, TYPE_BITS[src.kind] | src.perm, src.rdev);
  } else throw new Error(`createNonRegular: unexpected kind ${src.kind}`);
  try {
    setAttrs(temp, src, owner);
    fs.renameSync(temp, abs);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * Removes an entry (a whole tree for a directory) or, with a trash directory, moves it there under
 * its relative path. Never follows symlinks (rmSync works from lstat).
 */
export function removeEntry(abs: Buffer, relInTrash: Buffer, trashDir: Buffer | null): void {
  if (trashDir === null) {
    fs.rmSync(abs, { recursive: true, force: true });
    return;
  }
  const wanted = joinPath(trashDir, relInTrash);
  const { dir, name } = splitPath(wanted);
  mkdirsNoFollow(trashDir, splitPath(relInTrash).dir);
  // The same path trashed twice in one day: keep both, the later one with a numbered suffix, as
  // `cp --backup=numbered` does; a long name is cut so name + suffix still fit NAME_MAX (255 bytes).
  let target = wanted;
  for (let n = 1; exists(target); n++) {
    const suffix = Buffer.from(`.~${n}~`);
    target = joinPath(dir, Buffer.concat([name.subarray(0, Math.min(name.length, NAME_MAX - suffix.length)), suffix]));
  }
  fs.renameSync(abs, target);
}

const NAME_MAX = 255;

/**
 * mkdir -p of base/rel that never goes through a symlink (one planted in the trash must not
 * redirect a move outside it) and fails on a non-directory in the way.
 */
function mkdirsNoFollow(base: Buffer, rel: Buffer): void {
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  if (!fs.lstatSync(base).isDirectory()) throw Object.assign(new Error('trash is not a directory'), { code: 'ENOTDIR', syscall: 'mkdir' });
  let at = base;
  for (const part of rel.length === 0 ? [] : splitComponents(rel)) {
    at = joinPath(at, part);
    try {
      fs.mkdirSync(at, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!fs.lstatSync(at).isDirectory()) throw Object.assign(new Error('not a directory in the trash'), { code: 'ENOTDIR', syscall: 'mkdir' });
  }
}

function splitComponents(p: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= p.length; i++) {
    if (i === p.length || p[i] === 0x2f) {
      if (i > start) parts.push(p.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

function exists(p: Buffer): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

export interface TreeCount {
  files: number;
  bytes: number;
  /** Something inside is excluded: it must be kept (rsync keeps it and the dirs that hold it). */
  keepsExcluded: boolean;
}

/** Decides whether a path (relative to DST) is protected by an exclude. */
export type IsExcluded = (rel: Buffer, isDir: boolean) => boolean;

/** Counts the regular files and bytes in a tree that is about to be deleted (for the guard). */
export function countTree(abs: Buffer, rel: Buffer, entry: Entry, isExcluded: IsExcluded | null): TreeCount {
  const total: TreeCount = { files: 0, bytes: 0, keepsExcluded: false };
  if (entry.kind !== 'dir') {
    if (entry.kind === 'file') [total.files, total.bytes] = [1, entry.sizeBytes];
    return total;
  }
  const stack: [Buffer, Buffer][] = [[abs, rel]];
  while (stack.length > 0) {
    const [dir, dirRel] = stack.pop() as [Buffer, Buffer];
    for (const d of readDirents(dir)) {
      const p = joinPath(dir, d.name);
      const r = joinPath(dirRel, d.name);
      if (isExcluded?.(r, d.isDirectory())) {
        total.keepsExcluded = true;
        continue;
      }
      if (d.isDirectory()) stack.push([p, r]);
      else if (d.isFile()) {
        total.files++;
        try {
          total.bytes += fs.lstatSync(p).size;
        } catch {
          // vanished: nothing to count
        }
      }
    }
  }
  return total;
}

/**
 * Deletes (or trashes) a tree except its excluded entries, which stay with the directories that
 * hold them: what rsync --delete does without --delete-excluded.
 */
export function removeTreeKeeping(abs: Buffer, rel: Buffer, trashRel: Buffer, trashDir: Buffer | null, isExcluded: IsExcluded): boolean {
  let kept = false;
  for (const d of readDirents(abs)) {
    const p = joinPath(abs, d.name);
    const r = joinPath(rel, d.name);
    const t = joinPath(trashRel, d.name);
    if (isExcluded(r, d.isDirectory())) kept = true;
    else if (d.isDirectory()) kept = removeTreeKeeping(p, r, t, trashDir, isExcluded) || kept;
    else removeEntry(p, t, trashDir);
  }
  if (!kept) {
    if (trashDir === null) fs.rmdirSync(abs);
    else removeEntry(abs, trashRel, trashDir);
  }
  return kept;
}

function readDirents(dir: Buffer): fs.Dirent<Buffer>[] {
  try {
    return fs.readdirSync(dir, { encoding: 'buffer', withFileTypes: true });
  } catch {
    return [];
  }
}
