// Pure: is a directory unchanged since the last run? The fast path of a no-op mirror.
//
// A nightly run finds almost every directory as it left it. Decoding both listings into Entry
// objects and reading the directory's manifest rows cost ~10 µs per entry in JS (profile of a
// 50,000-file no-op: most of its user CPU). This compares the two native listings word by word
// instead, allocating nothing per entry, and sums what the manifest must agree with. Anything it
// cannot prove unchanged (a name differs, an attribute differs, a failed lstat, an excluded entry
// that differs) returns null and the directory takes the full path, which decides everything.
import { kindOfMode, type RawListing } from './walk.js';

export interface UnchangedDir {
  /** Regular files (kept, not excluded) and their size and mtime sums: see ManifestStore.dirSummary. */
  files: number;
  sizeSum: number;
  /** Sums of the low (unsigned) and high (signed) 32-bit words of the mtimes in ns. */
  mtimeLoSum: number;
  mtimeHiSum: number;
  /** The subdirectories to descend into (excluded ones left out), in name order. */
  subdirs: { index: number; name: Buffer }[];
}

export interface UnchangedOptions {
  /** Owner and group are preserved (rsync -a as root): they must match too. */
  owner: boolean;
  /** Whether a name is mirrored at all (excludes); null when nothing is excluded. */
  keep: ((name: Buffer, isDir: boolean) => boolean) | null;
  /** Symlink targets of both sides, read only for symlinks whose other attributes match. */
  readLinks: (name: Buffer) => [Buffer, Buffer] | null;
}

const WORDS = 20; // 10 int64 fields per entry

/**
 * Returns what the directory holds when every source entry has an equal destination entry under the
 * same name and the destination has nothing else; null otherwise.
 */
export function unchangedDirectory(src: RawListing, dst: RawListing, o: UnchangedOptions): UnchangedDir | null {
  if (!src.ok || !dst.ok) return null;
  // The same names in the same order: one comparison for the whole directory.
  if (!src.names.equals(dst.names)) return null;
  const s = new Uint32Array(src.stats);
  const d = new Uint32Array(dst.stats);
  const sHi = new Int32Array(src.stats);
  const out: UnchangedDir = { files: 0, sizeSum: 0, mtimeLoSum: 0, mtimeHiSum: 0, subdirs: [] };
  const names = src.names;
  let off = 0;
  for (let i = 0; off < names.length; i++) {
    const end = names.indexOf(0, off);
    const w = i * WORDS;
    const start = off;
    off = end + 1;
    // errno of the lstat (word 14) must be 0 on both sides; mode (type and permissions) equal.
    if (s[w + 14] !== 0 || d[w + 14] !== 0 || s[w] !== d[w]) return null;
    if (o.owner && (s[w + 2] !== d[w + 2] || s[w + 4] !== d[w + 4])) return null;
    const kind = kindOfMode(s[w] as number);
    const name = o.keep !== null || kind === 'symlink' || kind === 'dir' ? names.subarray(start, end) : null;
    if (kind === 'dir') {
      if (o.keep === null || o.keep(name as Buffer, true)) out.subdirs.push({ index: i, name: name as Buffer });
      continue; // a directory's own attributes are checked when it is visited
    }
    const kept = o.keep === null || o.keep(name as Buffer, false);
    // mtime (words 8, 9): rsync -a sets it on every kind but directories. (An excluded entry that
    // differs is none of the mirror's business, but it proves nothing here either: full path.)
    if (s[w + 8] !== d[w + 8] || s[w + 9] !== d[w + 9]) return null;
    if (kind === 'file') {
      if (s[w + 6] !== d[w + 6] || s[w + 7] !== d[w + 7]) return null;
      if (!kept) continue;
      out.files++;
      out.sizeSum += (s[w + 7] as number) * 4294967296 + (s[w + 6] as number);
      out.mtimeLoSum += s[w + 8] as number;
      out.mtimeHiSum += sHi[w + 9] as number;
    } else if (kind === 'char' || kind === 'block') {
      if (s[w + 12] !== d[w + 12] || s[w + 13] !== d[w + 13]) return null;
    } else if (kind === 'symlink' && kept) {
      const links = o.readLinks(name as Buffer);
      if (links === null || !links[0].equals(links[1])) return null;
    }
  }
  return out;
}
