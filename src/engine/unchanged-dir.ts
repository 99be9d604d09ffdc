// Pure: is a directory unchanged since the last run? The fast path of a no-op mirror.
//
// A nightly run finds almost every directory as it left it. Decoding both listings into Entry
// objects and reading the directory's manifest rows cost ~10 µs per entry in JS (profile of a
// 50,000-file no-op: most of its user CPU). This compares the two native listings word by word
// instead, allocating nothing per entry, and sums what the manifest must agree with. Anything it
// cannot prove unchanged (a name differs, an attribute differs, a failed lstat, an excluded entry
// that differs) returns null and the directory takes the full path, which decides everything.
import { kindOfMode, statWords, type RawListing } from './walk.js';

export interface UnchangedDir {
  /** Regular files (kept, not excluded) and their size and mtime sums: see ManifestStore.dirSummary. */
  files: number;
  sizeSum: number;
  /** Sums of the low (unsigned) and high (signed) 32-bit words of the mtimes in ns. */
  mtimeLoSum: number;
  mtimeHiSum: number;
  /** The subdirectories to descend into (excluded ones left out), in name order. */
  subdirs: { index: number; name: Buffer }[];
  /** Entries (not excluded) that differ: the caller plans just these. Not in the sums above. */
  changed: { index: number; name: Buffer }[];
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
 * When both sides hold the same names: what the unchanged entries sum to, the subdirectories, and
 * the entries that differ (a nightly run changes a few files in a directory: only those need
 * planning). Null when the names differ, an lstat failed, or an entry changed kind while excludes
 * apply (an exclude can depend on the kind): the full path handles those.
 */
export function unchangedDirectory(src: RawListing, dst: RawListing, o: UnchangedOptions): UnchangedDir | null {
  if (!src.ok || !dst.ok) return null;
  // The same names in the same order: one comparison for the whole directory.
  if (!src.names.equals(dst.names)) return null;
  const s = statWords(src.stats);
  const d = statWords(dst.stats);
  const sHi = new Int32Array(src.stats.buffer, src.stats.byteOffset, src.stats.length * 2);
  const out: UnchangedDir = { files: 0, sizeSum: 0, mtimeLoSum: 0, mtimeHiSum: 0, subdirs: [], changed: [] };
  const names = src.names;
  let off = 0;
  for (let i = 0; off < names.length; i++) {
    const end = names.indexOf(0, off);
    const w = i * WORDS;
    const name = names.subarray(off, end);
    off = end + 1;
    // errno of the lstat (word 14): the full path reports the failure.
    if (s[w + 14] !== 0 || d[w + 14] !== 0) return null;
    const kind = kindOfMode(s[w] as number);
    const sameKind = kind === kindOfMode(d[w] as number);
    if (!sameKind) {
      if (o.keep !== null) return null;
      out.changed.push({ index: i, name });
      continue;
    }
    if (kind === 'dir') {
      // A directory's own attributes are checked when the walk visits it.
      if (o.keep === null || o.keep(name, true)) out.subdirs.push({ index: i, name });
      continue;
    }
    // An excluded entry is none of the mirror's business, whatever it differs in.
    if (o.keep !== null && !o.keep(name, false)) continue;
    if (differs(s, d, w, kind, o.owner) || (kind === 'symlink' && !sameLinks(o.readLinks(name)))) {
      out.changed.push({ index: i, name });
      continue;
    }
    if (kind === 'file') {
      out.files++;
      out.sizeSum += (s[w + 7] as number) * 4294967296 + (s[w + 6] as number);
      out.mtimeLoSum += s[w + 8] as number;
      out.mtimeHiSum += sHi[w + 9] as number;
    }
  }
  return out;
}

/** Whether two entries of the same kind differ in what rsync -a keeps (words of the listing). */
function differs(s: Uint32Array, d: Uint32Array, w: number, kind: string, owner: boolean): boolean {
  // mode (type and permissions), owner when kept, mtime (words 8, 9: rsync -a sets it on all but dirs).
  if (s[w] !== d[w] || s[w + 8] !== d[w + 8] || s[w + 9] !== d[w + 9]) return true;
  if (owner && (s[w + 2] !== d[w + 2] || s[w + 4] !== d[w + 4])) return true;
  if (kind === 'file') return s[w + 6] !== d[w + 6] || s[w + 7] !== d[w + 7];
  if (kind === 'char' || kind === 'block') return s[w + 12] !== d[w + 12] || s[w + 13] !== d[w + 13];
  return false;
}

function sameLinks(links: [Buffer, Buffer] | null): boolean {
  return links !== null && links[0].equals(links[1]);
}
