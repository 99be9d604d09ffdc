// Reads one directory at a time (bounded memory: never the whole tree), with Buffer names and lstat.
// Entries come back sorted by name bytes, the order plan.ts merges in and the manifest stores.
import fs from 'node:fs';
import { joinPath } from './bytes.js';
import { kindOf, type Entry } from './entry.js';

export type ListResult =
  | { ok: true; entries: Entry[]; failures: { name: Buffer; error: string }[] }
  | { ok: false; code: string; error: string };

export function compareNames(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

/** lstat of one path as an Entry (name = the given name). Throws fs errors. */
export function statEntry(absPath: Buffer, name: Buffer): Entry {
  const st = fs.lstatSync(absPath, { bigint: true });
  const kind = kindOf(st);
  return {
    name,
    kind,
    perm: Number(st.mode) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    sizeBytes: Number(st.size),
    mtimeNs: st.mtimeNs,
    atimeNs: st.atimeNs,
    rdev: kind === 'char' || kind === 'block' ? st.rdev : 0n,
    linkTarget: kind === 'symlink' ? (fs.readlinkSync(absPath, { encoding: 'buffer' }) as Buffer) : null,
  };
}

/**
 * Lists absDir. `keep(name, isDir)` filters names before any lstat (excludes, the manifest directory).
 * An entry that vanishes between readdir and lstat is reported in failures (rsync: "vanished").
 */
export function listDirectory(absDir: Buffer, keep: (name: Buffer, isDir: boolean) => boolean = () => true): ListResult {
  let dirents: fs.Dirent<Buffer>[];
  try {
    // withFileTypes: the type comes free with getdents, so excludes are decided before any lstat.
    dirents = fs.readdirSync(absDir, { encoding: 'buffer', withFileTypes: true });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { ok: false, code: e.code ?? 'EIO', error: `${e.code ?? 'EIO'}: cannot read directory` };
  }
  const names: Buffer[] = [];
  for (const d of dirents) if (keep(d.name, d.isDirectory())) names.push(d.name);
  names.sort(compareNames);
  const entries: Entry[] = [];
  const failures: { name: Buffer; error: string }[] = [];
  for (const name of names) {
    try {
      entries.push(statEntry(joinPath(absDir, name), name));
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      failures.push({ name, error: e.code === 'ENOENT' ? 'vanished before it could be read' : `${e.code ?? 'EIO'}: cannot lstat` });
    }
  }
  return { ok: true, entries, failures };
}
