// Pure: does this entry need work? rsync's quick check and attribute comparison.
import type { Entry } from './entry.js';

export interface CompareOptions {
  /** rsync -c: decide regular files by content hash (done later, by I/O), not by size+mtime. */
  checksum: boolean;
  /** Owner and group are preserved (rsync -a as root). */
  owner: boolean;
}

/** Same kind of entry, and for devices the same device number, for links the same target. */
export function sameIdentity(src: Entry, dst: Entry): boolean {
  if (src.kind !== dst.kind) return false;
  if (src.kind === 'symlink') return (src.linkTarget as Buffer).equals(dst.linkTarget as Buffer);
  if (src.kind === 'char' || src.kind === 'block') return src.rdev === dst.rdev;
  return true;
}

/** Quick check for regular files: size and mtime (to the nanosecond) equal. */
export function quickCheckEqual(src: Entry, dst: Entry): boolean {
  return src.sizeBytes === dst.sizeBytes && src.mtimeNs === dst.mtimeNs;
}

/** Mode, owner and mtime that rsync -a would set (mode is not meaningful on symlinks). */
export function attrsEqual(src: Entry, dst: Entry, options: CompareOptions): boolean {
  if (src.mtimeNs !== dst.mtimeNs) return false;
  if (options.owner && (src.uid !== dst.uid || src.gid !== dst.gid)) return false;
  if (src.kind !== 'symlink' && src.perm !== dst.perm) return false;
  return true;
}
