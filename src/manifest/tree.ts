// The files a manifest covers under its root: every regular file, except home-lab's own
// `.home-lab/` at the root and the temp files of a copy in flight (`.home-lab.tmp.*`). Walked one
// directory at a time in byte order with Buffer names; symlinks are never followed. Memory holds the
// pending subdirectories of the directories on the current path, not the tree.
import fs from 'node:fs';
import { joinPath, toBuffer, trimSlashes } from '../engine/bytes.js';
import { TEMP_PREFIX } from '../engine/copy-file.js';
import { MANIFEST_DIR } from './store.js';

export type EntryType = 'file' | 'dir' | 'other';

export interface DirListing {
  /** Relative to the root ('' for the root itself). */
  dir: Buffer;
  /** Regular files and other non-directories, sorted by name bytes (subdirectories are walked). */
  entries: { name: Buffer; type: EntryType }[];
  /** readdir failed: the directory's contents are unknown. */
  error: string | null;
}

const TEMP = Buffer.from(TEMP_PREFIX);
const OWN_DIR = Buffer.from(MANIFEST_DIR);

export function isTempName(name: Buffer): boolean {
  return name.length >= TEMP.length && name.subarray(0, TEMP.length).equals(TEMP);
}

/** The entry's type from readdir; its path is built only when the filesystem did not say. */
function typeOf(absDir: Buffer, d: fs.Dirent<Buffer>): EntryType {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink() || d.isFIFO() || d.isSocket() || d.isCharacterDevice() || d.isBlockDevice()) return 'other';
  // DT_UNKNOWN (some filesystems): ask lstat.
  try {
    const st = fs.lstatSync(joinPath(absDir, d.name));
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'other';
  }
}

/** One directory's listing (dir relative to the root) and its subdirectories' relative paths, in byte order. */
function readListing(rootBuf: Buffer, dir: Buffer): { listing: DirListing; subdirs: Buffer[] } {
  const abs = dir.length === 0 ? rootBuf : joinPath(rootBuf, dir);
  let dirents: fs.Dirent<Buffer>[];
  try {
    dirents = fs.readdirSync(abs, { withFileTypes: true, encoding: 'buffer' });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { listing: { dir, entries: [], error: e.code ? `${e.code} (readdir)` : String(e.message) }, subdirs: [] };
  }
  dirents.sort((a, b) => Buffer.compare(a.name, b.name));
  const entries: DirListing['entries'] = [];
  const subdirs: Buffer[] = [];
  for (const d of dirents) {
    if (dir.length === 0 && d.name.equals(OWN_DIR)) continue;
    if (isTempName(d.name)) continue;
    const type = typeOf(abs, d);
    if (type === 'dir') subdirs.push(joinPath(dir, d.name));
    else entries.push({ name: d.name, type });
  }
  return { listing: { dir, entries, error: null }, subdirs };
}

/** One directory of the tree, listed as walkTree lists it. */
export function listDirectory(root: string | Buffer, dir: Buffer): DirListing {
  return readListing(trimSlashes(toBuffer(root)), dir).listing;
}

/** Depth-first, each directory's listing before its subdirectories, all in byte order. */
export function* walkTree(root: string | Buffer): Generator<DirListing> {
  const rootBuf = trimSlashes(toBuffer(root));
  // Each stack frame: subdirectories still to visit, in reverse order (pop takes the smallest).
  const stack: Buffer[][] = [[Buffer.alloc(0)]];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Buffer[];
    const dir = frame.pop();
    if (dir === undefined) {
      stack.pop();
      continue;
    }
    const { listing, subdirs } = readListing(rootBuf, dir);
    yield listing;
    if (subdirs.length > 0) stack.push(subdirs.reverse());
  }
}
