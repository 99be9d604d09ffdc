// Pure: which entries of a directory changed since the last run? The fast path of a nightly mirror.
//
// A nightly run finds almost every directory as it left it. Decoding both listings into Entry
// objects and reading the directory's manifest rows cost ~10 µs per entry in JS (profile of a
// 50,000-file no-op: most of its user CPU). This compares the two native listings word by word
// instead (merging them by name when the names differ), allocating nothing per unchanged entry, and
// sums what the manifest must agree with. What it cannot decide (a failed lstat, a kind change under
// excludes, a leftover temp file) returns null and the directory takes the full path, which
// decides everything.
import { kindOfMode, statWords, type RawListing } from './walk.js';

/** An entry of the directory by its index in each listing (-1: the name is not on that side). */
export interface ListedName {
  name: Buffer;
  src: number;
  dst: number;
}

export interface UnchangedDir {
  /** Regular files (kept, not excluded) and their size and mtime sums: see ManifestStore.dirSummary. */
  files: number;
  sizeSum: number;
  /** Sums of the low (unsigned) and high (signed) 32-bit words of the mtimes in ns. */
  mtimeLoSum: number;
  mtimeHiSum: number;
  /** The subdirectories on both sides to descend into (excluded ones left out), in name order. */
  subdirs: ListedName[];
  /**
   * Entries (not excluded) that differ, or are on one side only: the caller plans just these, in
   * name order. Not in the sums above.
   */
  changed: ListedName[];
}

export interface UnchangedOptions {
  /** Owner and group are preserved (rsync -a as root): they must match too. */
  owner: boolean;
  /** Whether a name is mirrored at all (excludes); null when nothing is excluded. */
  keep: ((name: Buffer, isDir: boolean) => boolean) | null;
  /** Symlink targets of both sides, read only for symlinks whose other attributes match. */
  readLinks: (name: Buffer) => [Buffer, Buffer] | null;
  /** A name only the destination has that the full path treats apart (a temp file of a killed run). */
  leftover?: (name: Buffer) => boolean;
}

const WORDS = 20; // 10 int64 fields per entry

/**
 * What the unchanged entries of a directory sum to, its subdirectories, and the entries that differ
 * or are on one side only (a nightly run adds, changes and deletes a few files in a directory: only
 * those need planning). Null when an lstat failed, an entry changed kind while excludes apply (an
 * exclude can depend on the kind), or the destination holds a leftover temp file: the full path
 * handles those.
 */
export function unchangedDirectory(src: RawListing, dst: RawListing, o: UnchangedOptions): UnchangedDir | null {
  if (!src.ok || !dst.ok) return null;
  // The same names in the same order (a no-op): one comparison for the whole directory, then the
  // entries pair up by index.
  const sameNames = src.names.equals(dst.names);
  const s = statWords(src.stats);
  const d = statWords(dst.stats);
  const sHi = new Int32Array(src.stats.buffer, src.stats.byteOffset, src.stats.length * 2);
  const out: UnchangedDir = { files: 0, sizeSum: 0, mtimeLoSum: 0, mtimeHiSum: 0, subdirs: [], changed: [] };
  const sNames = src.names;
  const dNames = dst.names;
  let si = 0;
  let sOff = 0;
  let di = 0;
  let dOff = 0;
  while (sOff < sNames.length || dOff < dNames.length) {
    const sEnd = sOff < sNames.length ? sNames.indexOf(0, sOff) : -1;
    const dEnd = sameNames ? sEnd : dOff < dNames.length ? dNames.indexOf(0, dOff) : -1;
    const order = sameNames ? 0 : sEnd < 0 ? 1 : dEnd < 0 ? -1 : Buffer.compare(sNames.subarray(sOff, sEnd), dNames.subarray(dOff, dEnd));
    if (order < 0) {
      // Only in the source: to create (or skip when excluded).
      const name = sNames.subarray(sOff, sEnd);
      if (s[si * WORDS + 14] !== 0) return null;
      const isDir = kindOfMode(s[si * WORDS] as number) === 'dir';
      if (o.keep === null || o.keep(name, isDir)) out.changed.push({ name, src: si, dst: -1 });
      si++;
      sOff = sEnd + 1;
      continue;
    }
    if (order > 0) {
      // Only in the destination: an extra to delete (excluded ones are kept, as the full path does).
      const name = dNames.subarray(dOff, dEnd);
      if (d[di * WORDS + 14] !== 0) return null;
      const isDir = kindOfMode(d[di * WORDS] as number) === 'dir';
      if (!isDir && o.leftover?.(name) === true) return null;
      if (o.keep === null || o.keep(name, isDir)) out.changed.push({ name, src: -1, dst: di });
      di++;
      dOff = dEnd + 1;
      continue;
    }
    const name = sNames.subarray(sOff, sEnd);
    const entry = { name, src: si, dst: di };
    const w = si * WORDS;
    const v = di * WORDS;
    si++;
    di++;
    sOff = sEnd + 1;
    dOff = dEnd + 1;
    // errno of the lstat (word 14): the full path reports the failure.
    if (s[w + 14] !== 0 || d[v + 14] !== 0) return null;
    const kind = kindOfMode(s[w] as number);
    const sameKind = kind === kindOfMode(d[v] as number);
    if (!sameKind) {
      if (o.keep !== null) return null;
      out.changed.push(entry);
      continue;
    }
    if (kind === 'dir') {
      // A directory's own attributes are checked when the walk visits it.
      if (o.keep === null || o.keep(name, true)) out.subdirs.push(entry);
      continue;
    }
    // An excluded entry is none of the mirror's business, whatever it differs in.
    if (o.keep !== null && !o.keep(name, false)) continue;
    if (differs(s, w, d, v, kind, o.owner) || (kind === 'symlink' && !sameLinks(o.readLinks(name)))) {
      out.changed.push(entry);
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

/** Whether two entries of the same kind differ in what rsync -a keeps (words of the listings, at w and v). */
function differs(s: Uint32Array, w: number, d: Uint32Array, v: number, kind: string, owner: boolean): boolean {
  // mode (type and permissions), owner when kept, mtime (words 8, 9: rsync -a sets it on all but dirs).
  if (s[w] !== d[v] || s[w + 8] !== d[v + 8] || s[w + 9] !== d[v + 9]) return true;
  if (owner && (s[w + 2] !== d[v + 2] || s[w + 4] !== d[v + 4])) return true;
  if (kind === 'file') return s[w + 6] !== d[v + 6] || s[w + 7] !== d[v + 7];
  if (kind === 'char' || kind === 'block') return s[w + 12] !== d[v + 12] || s[w + 13] !== d[v + 13];
  return false;
}

function sameLinks(links: [Buffer, Buffer] | null): boolean {
  return links !== null && links[0].equals(links[1]);
}
