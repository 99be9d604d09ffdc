// A manifest row names a file by a path relative to a root. The manifest lives on a disk that may
// have been tampered with or damaged, so a row is never trusted to stay inside the root: unsafe
// paths are refused outright (manifest/keys.ts), and no directory on the way to the file may be a
// symlink (O_NOFOLLOW only guards the last component).
import fs from 'node:fs';
import { SLASH, displayPath, joinPath, toBuffer, trimSlashes } from '../engine/bytes.js';
import { unsafePathReason } from '../manifest/keys.js';

export { unsafeKeyReason, unsafePathReason } from '../manifest/keys.js';

export type Resolved =
  | { ok: true; full: Buffer }
  /** unsafe: the row's path; blocked: a directory on the way is a symlink or not a directory. */
  | { ok: false; kind: 'unsafe' | 'missing' | 'blocked'; reason: string };

// Enough for the directories a page of rows touches; cleared when full (no LRU bookkeeping needed).
const MAX_CACHED_DIRS = 4096;

/**
 * Turns manifest paths into absolute Buffer paths under one root, checking every directory on the
 * way with lstat (cached per directory for the life of this object, i.e. one run).
 */
export class RootedTree {
  readonly root: Buffer;
  private readonly goodDirs = new Set<string>();
  /** The directory part (with its '/') of the last path resolved: rows come grouped by directory. */
  private lastDir: Buffer = Buffer.alloc(0);

  constructor(root: string | Buffer) {
    this.root = trimSlashes(toBuffer(root));
  }

  resolve(rel: Buffer): Resolved {
    const unsafe = unsafePathReason(rel);
    if (unsafe !== null) return { ok: false, kind: 'unsafe', reason: `unsafe path in the manifest: ${unsafe}` };
    // The same directory as the path before (verify and export read rows in (dir, name) order): its
    // directories were checked a moment ago, as the cache below would say, without a lookup per level.
    const slash = rel.lastIndexOf(SLASH);
    if (slash >= 0 && slash + 1 === this.lastDir.length && rel.subarray(0, slash + 1).equals(this.lastDir)) return { ok: true, full: joinPath(this.root, rel) };
    let at = rel.indexOf(SLASH);
    while (at >= 0) {
      const dir = rel.subarray(0, at);
      const key = dir.toString('latin1');
      if (!this.goodDirs.has(key)) {
        let st: fs.Stats;
        try {
          st = fs.lstatSync(joinPath(this.root, dir));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') return { ok: false, kind: 'missing', reason: 'its directory is gone' };
          if (code === 'ENOTDIR') return { ok: false, kind: 'blocked', reason: 'a parent is not a directory' };
          return { ok: false, kind: 'blocked', reason: `a parent directory is unreadable (${code ?? 'EIO'})` };
        }
        if (st.isSymbolicLink()) return { ok: false, kind: 'blocked', reason: `${displayPath(dir)} is a symlink, not a directory (never followed)` };
        if (!st.isDirectory()) return { ok: false, kind: 'blocked', reason: `${displayPath(dir)} is not a directory` };
        if (this.goodDirs.size >= MAX_CACHED_DIRS) this.goodDirs.clear();
        this.goodDirs.add(key);
      }
      at = rel.indexOf(SLASH, at + 1);
    }
    if (slash >= 0) this.lastDir = Buffer.from(rel.subarray(0, slash + 1));
    return { ok: true, full: joinPath(this.root, rel) };
  }
}

