// Typed loader for the native addon (native/hlfs.c, built by `node-gyp rebuild` on install).
// It exists because Node's fs keeps only microseconds in utimes (rsync keeps nanoseconds) and has no
// mknod (fifos, sockets, device nodes). Works in worker threads: it is a context-aware N-API module.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export type ScanSide = [names: Buffer, stats: ArrayBuffer, self: ArrayBuffer] | Error;

/** The native copier (native/copier.c); opaque to JS. */
export type CopierHandle = { readonly __copier: unique symbol };
/** A native walker (native/walker.c); opaque to JS. */
export type WalkerHandle = { readonly __walker: unique symbol };

export interface Hlfs {
  /** Sets atime and mtime to the nanosecond; noFollow acts on a symlink itself. */
  utimensat(file: Buffer, atimeNs: bigint, mtimeNs: bigint, noFollow: boolean): void;
  futimens(fd: number, atimeNs: bigint, mtimeNs: bigint): void;
  /** mode holds the file type bits (S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK) and the permission bits. */
  mknod(file: Buffer, mode: number, rdev: bigint): void;
  /** Flushes the filesystem holding the directory `dir` to disk (syncfs(2), as `sync -f` does). Throws fs-style errors. */
  syncfs(dir: Buffer): void;
  /**
   * Lists and lstats directories (null: skipped) in one job on libuv's pool, each sorted by name
   * bytes, its last component never a symlink: names NUL-terminated one after another; 10 int64 per
   * entry (mode, uid, gid, size, mtime ns, atime ns, rdev, errno of a failed lstat, inode, device);
   * the directory's own [device, inode]. A directory that failed is its Error; null for null.
   */
  /**
   * Copies one regular file through buffer, hashing it as it goes; see native/hlfs.c for nums, times
   * and out. Returns the bytes copied, their XXH64 in hex (16 hex digits), or -1 - bytes read.
   */
  copyFile(src: Buffer, dst: Buffer, stem: Buffer, buffer: Buffer, nums: Float64Array, times: BigInt64Array, out: Int32Array, hex: Buffer): number;
  /**
   * Starts `threads` copy threads (native/copier.c); onDone(id) runs on this thread once the batch
   * submitted as id is copied (res: 4 numbers a task, hex: 16 hex digits a task copied; see copy_batch_run in native/hlfs.c).
   */
  copierOpen(threads: number, stem: Buffer, onDone: (id: number) => void): CopierHandle;
  /** Queues a packed batch; packed, res and hex must stay alive and untouched until onDone(id). */
  copierSubmit(copier: CopierHandle, id: number, packed: ArrayBuffer, count: number, res: Float64Array, hex: Buffer): void;
  /** Batches not started are done at once (res all 0), a running one stops before its next file. */
  copierStop(copier: CopierHandle): void;
  /** Joins the threads; no onDone after it. Idempotent. */
  copierClose(copier: CopierHandle): void;
  scandirBatchAsync(dirs: (Buffer | null)[]): Promise<(ScanSide | null)[]>;
  /**
   * Starts listing SRC's directories depth first (subdirectories by name bytes), each with the same
   * relative path under DST (dstRoot null: never), on two threads of its own, at most maxDirs
   * directories or maxEntries entries ahead of what walkTake took. gated: a directory's subdirectories
   * are listed only after walkDone names them.
   */
  walkOpen(srcRoot: Buffer, dstRoot: Buffer | null, maxDirs: number, maxEntries: number, gated: boolean): WalkerHandle;
  /**
   * Up to max listed directories in walk order, packed into one ArrayBuffer; false when none is
   * ready; null when the walk is over. Decoded by walkTake (src/engine/tree-walker.ts), which
   * documents the layout with native/walker.c.
   */
  walkTakePacked(walker: WalkerHandle, max: number): ArrayBuffer | false | null;
  /** Resolves when atLeast directories are ready, or fewer will come before some are taken, or the walk is over. */
  walkWait(walker: WalkerHandle, atLeast: number): Promise<void>;
  /** Do not list rel nor anything under it. */
  walkSkip(walker: WalkerHandle, rel: Buffer): void;
  /** Gated: [rel, its subdirectories' names] of the directory the walk waits on, once; else null. */
  walkPending(walker: WalkerHandle): [rel: Buffer, names: Buffer] | null;
  /** Gated: of rel's subdirectories, list these (names NUL-terminated one after another, in byte order). */
  walkDone(walker: WalkerHandle, rel: Buffer, names: Buffer): void;
  /** Stops and joins the threads; idempotent. */
  walkClose(walker: WalkerHandle): void;
  /** XXH64 (seed 0) of data[offset, offset + length), as 16 lowercase hex digits. */
  xxh64Hex(data: Uint8Array, offset: number, length: number): string;
  /**
   * Hashes one regular file through buffer (64 KiB or more), never following a symlink or blocking on
   * a fifo: its XXH64 in hex, out = [bytes read, mtime ns]; null when it is not a regular file.
   * Throws fs-style errors.
   */
  hashFile(path: Buffer, buffer: Buffer, out: BigInt64Array): string | null;
  /**
   * hashFile for `count` files (paths NUL-terminated one after another) in one job on libuv's pool:
   * 3 float64 per file, [0, bytes, 0] or [errno, 0, failed call: 0 open, 1 fstat, 2 read] (errno -1:
   * not a regular file), and 16 hex digits per file.
   */
  hashFilesAsync(paths: Buffer, count: number): Promise<[results: ArrayBuffer, hex: Buffer]>;
  /**
   * Every directory under root listed on libuv's pool, its regular files' names fingerprinted as
   * src/scrub/name-set.ts does; ownDir skipped at the root, names starting with tempPrefix everywhere.
   * Per directory five uint32 [rel length, errno, files, sumA, sumB], then rel, padded to 4 bytes.
   */
  treeNameSumsAsync(root: Buffer, ownDir: Buffer, tempPrefix: Buffer): Promise<ArrayBuffer>;
}

// dist/src/native/hlfs.js -> <repo>/build/Release/hlfs.node (also right for src/native/ under tsx).
const here = path.dirname(fileURLToPath(import.meta.url));
const candidates = [
  path.resolve(here, '../../../build/Release/hlfs.node'),
  path.resolve(here, '../../build/Release/hlfs.node'),
];

function load(): Hlfs {
  const require = createRequire(import.meta.url);
  let lastError: unknown;
  for (const file of candidates) {
    try {
      return require(file) as Hlfs;
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(
    `home-lab's native addon is not built (looked for ${candidates.join(', ')}): ` +
      `run \`npm install\` (or \`npm run install\`) in the home-lab directory. Cause: ${String(lastError)}`,
  );
}

export const hlfs: Hlfs = load();
