// Reads one directory at a time (bounded memory: never the whole tree), with Buffer names and lstat.
// Entries come back sorted by name bytes, the order plan.ts merges in and the manifest stores.
import fs from 'node:fs';
import { joinPath } from './bytes.js';
import { kindOf, type Entry } from './entry.js';
import { hlfs, type ScanSide } from '../native/hlfs.js';

export type ListResult =
  | { ok: true; entries: Entry[]; failures: { name: Buffer; error: string }[] }
  | { ok: false; code: string; error: string };

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
    ino: st.ino,
    dev: st.dev,
  };
}

/**
 * What the native scan returns for one directory, or why it failed: the names (each followed by a
 * NUL), SCAN_FIELDS int64 per entry (see native/scan.h) and the directory's own [device, inode], as
 * views that may share one buffer with other directories' listings (src/engine/tree-walker.ts).
 */
export type RawListing = { ok: true; names: Buffer; stats: BigInt64Array; self: BigInt64Array } | { ok: false; code: string; error: string };

/** The listed directory's own [device, inode]. */
export function listedIdentity(raw: RawListing & { ok: true }): { dev: bigint; ino: bigint } {
  return { dev: raw.self[0] as bigint, ino: raw.self[1] as bigint };
}

/** The stats of a listing as 32-bit words (two per int64 field, low word first). */
export function statWords(stats: BigInt64Array): Uint32Array {
  return new Uint32Array(stats.buffer, stats.byteOffset, stats.length * 2);
}

function scanFailure(error: unknown): RawListing {
  const e = error as NodeJS.ErrnoException;
  return { ok: false, code: e.code ?? 'EIO', error: `${e.code ?? 'EIO'}: cannot read directory` };
}

/** The listing of a directory that does not exist yet (just created, or a side not listed). */
export const EMPTY_LISTING: RawListing = { ok: true, names: Buffer.alloc(0), stats: new BigInt64Array(0), self: new BigInt64Array(2) };

export function sideOf(side: ScanSide): RawListing {
  if (side instanceof Error) return scanFailure(side);
  const [names, stats, self] = side;
  return { ok: true, names, stats: new BigInt64Array(stats), self: new BigInt64Array(self) };
}

/**
 * Lists directories' two sides (destination null: just created, so empty) in one job on libuv's
 * pool: a hand-off between threads costs tens of µs here, so the walk sends several directories.
 */
export function scanPairsAsync(pairs: [src: Buffer, dst: Buffer | null][]): Promise<[RawListing, RawListing][]> {
  return hlfs.scandirBatchAsync(pairs.flat()).then((sides) =>
    pairs.map((_, k): [RawListing, RawListing] => {
      const dst = sides[2 * k + 1];
      return [sideOf(sides[2 * k] as ScanSide), dst === null || dst === undefined ? EMPTY_LISTING : sideOf(dst)];
    }),
  );
}

/**
 * Decodes a scan, keeping the names `keep(name, isDir)` accepts (excludes, the manifest directory).
 * An entry that vanished between readdir and lstat is reported in failures (rsync: "vanished").
 */
export function decodeListing(absDir: Buffer, raw: RawListing, keep: (name: Buffer, isDir: boolean) => boolean): ListResult {
  if (!raw.ok) return raw;
  const names = raw.names;
  const views = viewsOf(raw);
  const entries: Entry[] = [];
  const failures: { name: Buffer; error: string }[] = [];
  let off = 0;
  for (let i = 0; off < names.length; i++) {
    const end = names.indexOf(0, off);
    const name = names.subarray(off, end);
    off = end + 1;
    const mode = views.u32[i * 20] as number;
    const errno = views.u32[i * 20 + 14] as number;
    if (!keep(name, (mode & S_IFMT) === S_IFDIR)) continue;
    if (errno !== 0) {
      failures.push({ name, error: errno === ENOENT ? 'vanished before it could be read' : `errno ${errno}: cannot lstat` });
      continue;
    }
    entries.push(entryOf(absDir, views, i, name));
  }
  return { ok: true, entries, failures };
}

interface Views {
  big: BigInt64Array;
  u32: Uint32Array;
}

function viewsOf(raw: RawListing & { ok: true }): Views {
  return { big: raw.stats, u32: statWords(raw.stats) };
}

// Numbers that fit in 32 bits are read from a Uint32 view: one BigInt per field would be garbage.
function entryOf(absDir: Buffer, { big, u32 }: Views, i: number, name: Buffer): Entry {
  const w = i * 20; // 10 int64 fields = 20 uint32 words
  const b = i * 10;
  const mode = u32[w] as number;
  const kind = kindOfMode(mode);
  return {
    name,
    kind,
    perm: mode & 0o7777,
    uid: u32[w + 2] as number,
    gid: u32[w + 4] as number,
    sizeBytes: (u32[w + 7] as number) * 4294967296 + (u32[w + 6] as number),
    mtimeNs: big[b + 4] as bigint,
    atimeNs: big[b + 5] as bigint,
    rdev: kind === 'char' || kind === 'block' ? (big[b + 6] as bigint) : 0n,
    linkTarget: kind === 'symlink' ? readLink(joinPath(absDir, name)) : null,
    ino: big[b + 8] as bigint,
    dev: big[b + 9] as bigint,
  };
}

/** The entry at `index` of a successful listing (whose lstat succeeded), named `name`. */
export function entryAt(absDir: Buffer, raw: RawListing & { ok: true }, index: number, name: Buffer): Entry {
  return entryOf(absDir, viewsOf(raw), index, name);
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const ENOENT = 2;

export function kindOfMode(mode: number): Entry['kind'] {
  switch (mode & S_IFMT) {
    case 0o100000: return 'file';
    case 0o040000: return 'dir';
    case 0o120000: return 'symlink';
    case 0o010000: return 'fifo';
    case 0o140000: return 'socket';
    case 0o020000: return 'char';
    default: return 'block';
  }
}

function readLink(p: Buffer): Buffer {
  try {
    return fs.readlinkSync(p, { encoding: 'buffer' }) as Buffer;
  } catch {
    return Buffer.alloc(0); // replaced since the scan: the copy of it will fail and be reported
  }
}
