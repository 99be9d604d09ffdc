// One directory entry as the engine sees it: from an lstat (never following symlinks).
import type fs from 'node:fs';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';

export interface Entry {
  name: Buffer;
  kind: EntryKind;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  perm: number;
  uid: number;
  gid: number;
  sizeBytes: number;
  mtimeNs: bigint;
  atimeNs: bigint;
  /** Device number for char/block devices (0n otherwise). */
  rdev: bigint;
  /** Link target bytes for symlinks (read during the walk), else null. */
  linkTarget: Buffer | null;
  /** Identity at the walk: a path that later resolves to another inode was replaced (or redirected). */
  ino: bigint;
  dev: bigint;
}

export function kindOf(st: fs.BigIntStats): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  return 'block';
}

/** S_IF* type bits for mknod. */
export const TYPE_BITS: Record<'fifo' | 'socket' | 'char' | 'block', number> = {
  fifo: 0o010000,
  char: 0o020000,
  block: 0o060000,
  socket: 0o140000,
};
