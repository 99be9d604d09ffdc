// The pieces of a restore that touch one entry: checking the way in the backup and in the target,
// recreating symlinks and special files, setting attributes. Each returns an error text (escaped
// names, errno codes, never a raw fs message) or null.
import fs from 'node:fs';
import { SLASH, displayPath, joinPath, splitPath } from '../engine/bytes.js';
import { tempPathFor } from '../engine/copy-file.js';
import { hlfs } from '../native/hlfs.js';

/** What an entry's attributes are set to (a directory's once nothing more is written below it). */
export interface Attrs {
  mode: number;
  uid: number;
  gid: number;
  atimeNs: bigint;
  mtimeNs: bigint;
}

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** The source's directories on the way to rel must be real directories: a symlink is never followed. */
export function checkSourceParents(root: Buffer, rel: Buffer): string | null {
  for (let at = rel.indexOf(SLASH); at >= 0; at = rel.indexOf(SLASH, at + 1)) {
    const part = rel.subarray(0, at);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(joinPath(root, part));
    } catch (error) {
      return `not in the backup: ${displayPath(part)}: ${describe(error)}`;
    }
    if (st.isSymbolicLink()) return `${displayPath(part)} is a symlink in the backup; restore it, or the path it points to, instead (never followed)`;
    if (!st.isDirectory()) return `${displayPath(part)} is not a directory in the backup`;
  }
  return null;
}

export type DirOutcome = { ok: true; created: boolean } | { ok: false; error: string };

/**
 * Creates (or checks) the target's directories on the way to rel, never through a symlink. Returns
 * the ones it created (relative), so they get the backup's attributes once their contents are in.
 */
export function prepareTargetParents(to: Buffer, rel: Buffer): { ok: true; created: Buffer[] } | { ok: false; error: string } {
  const { dir } = splitPath(rel);
  const created: Buffer[] = [];
  if (dir.length === 0) return { ok: true, created };
  for (let at = dir.indexOf(SLASH); ; at = dir.indexOf(SLASH, at + 1)) {
    const part = dir.subarray(0, at < 0 ? dir.length : at);
    const outcome = enterTargetDir(joinPath(to, part));
    if (!outcome.ok) return outcome;
    if (outcome.created) created.push(part);
    if (at < 0) return { ok: true, created };
  }
}

/** mkdir, or accept an existing real directory; refuse a symlink or another type in the way. */
export function enterTargetDir(p: Buffer): DirOutcome {
  try {
    fs.mkdirSync(p, { mode: 0o700 });
    return { ok: true, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return { ok: false, error: `cannot create the directory in the target: ${describe(error)}` };
  }
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch (error) {
    return { ok: false, error: `cannot check the target: ${describe(error)}` };
  }
  if (st.isDirectory()) return { ok: true, created: false };
  if (st.isSymbolicLink()) return { ok: false, error: `the target has a symlink at ${displayPath(p)}: not written through (remove it or restore elsewhere)` };
  return { ok: false, error: `the target has a non-directory at ${displayPath(p)} where a directory goes: left alone` };
}

export function restoreSymlink(srcPath: Buffer, dstPath: Buffer, st: fs.BigIntStats, chown: boolean): string | null {
  let temp: Buffer | null = null;
  try {
    const target = fs.readlinkSync(srcPath, { encoding: 'buffer' });
    temp = tempPathFor(dstPath);
    fs.symlinkSync(target, temp);
    if (chown) fs.lchownSync(temp, Number(st.uid), Number(st.gid));
    hlfs.utimensat(temp, st.atimeNs, st.mtimeNs, true);
    fs.renameSync(temp, dstPath);
    temp = null;
    return null;
  } catch (error) {
    return `symlink not restored: ${describe(error)}`;
  } finally {
    if (temp !== null) fs.rmSync(temp, { force: true });
  }
}

export function restoreSpecial(dstPath: Buffer, st: fs.BigIntStats, chown: boolean): string | null {
  const mode = Number(st.mode);
  const type = mode & S_IFMT;
  if ((type === S_IFCHR || type === S_IFBLK) && process.getuid?.() !== 0) return 'device nodes can only be restored as root';
  let temp: Buffer | null = null;
  try {
    temp = tempPathFor(dstPath);
    hlfs.mknod(temp, mode, st.rdev);
    const error = setAttributes(temp, { mode, uid: Number(st.uid), gid: Number(st.gid), atimeNs: st.atimeNs, mtimeNs: st.mtimeNs }, chown);
    if (error) return error;
    fs.renameSync(temp, dstPath);
    temp = null;
    return null;
  } catch (error) {
    return `special file not restored: ${describe(error)}`;
  } finally {
    if (temp !== null) fs.rmSync(temp, { force: true });
  }
}

/** Owner (as root), mode, then times (chown clears setuid bits, and both touch ctime, not mtime). */
export function setAttributes(p: Buffer, st: Attrs, chown: boolean): string | null {
  try {
    if (chown) fs.lchownSync(p, st.uid, st.gid);
    fs.chmodSync(p, st.mode & 0o7777);
    hlfs.utimensat(p, st.atimeNs, st.mtimeNs, true);
    return null;
  } catch (error) {
    return describe(error);
  }
}

/** An errno code with a few words: never the fs message, which embeds the raw path. */
export function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? explain(code) : 'unexpected error';
}

const EXPLAIN: Record<string, string> = {
  ENOENT: 'ENOENT (not found)',
  EACCES: 'EACCES (permission denied)',
  EPERM: 'EPERM (operation not permitted)',
  ENOSPC: 'ENOSPC (no space left on the target)',
  EDQUOT: 'EDQUOT (quota exceeded on the target)',
  EROFS: 'EROFS (read-only filesystem)',
  EISDIR: 'EISDIR (a directory is in the way in the target)',
  ENOTDIR: 'ENOTDIR (a non-directory is in the way)',
  ENOTEMPTY: 'ENOTEMPTY (a directory is in the way in the target)',
  ELOOP: 'ELOOP (a symlink where a file was expected; never followed)',
  EIO: 'EIO (input/output error: the disk may be failing)',
};

export function explain(code: string): string {
  return EXPLAIN[code] ?? code;
}
