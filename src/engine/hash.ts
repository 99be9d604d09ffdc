// XXH64 (seed 0, as xxhsum -H64 prints it), computed in C by native/xxh64.c on the bytes where they
// are: xxhash-wasm copied each byte into WebAssembly memory first, which cost a scrub of the bench's
// 2 GiB mixed tree ~0.5 s of its 2.9 s of CPU (see native/xxh64.c).
import { getSystemErrorName } from 'node:util';
import { hlfs } from '../native/hlfs.js';

/** XXH64 of a whole buffer, as 16 hex digits. */
export function hashBytes(data: Buffer): string {
  return hlfs.xxh64Hex(data, 0, data.length);
}

/**
 * Bytes per read (and write) when streaming a file. Measured here on tmpfs, 256 MiB file: read+hash
 * took 105-119 ms in 64 KiB chunks against 212-263 ms in 1 MiB or 4 MiB chunks (a 64 KiB chunk is
 * still in the CPU cache when it is hashed and written; reading alone was 2-3x faster too).
 */
export const IO_CHUNK_BYTES = 64 * 1024;

/** The part of a caller's buffer used per read: a bigger one is used in cache-sized chunks all the same. */
export function ioChunk(buffer: Buffer): Buffer {
  return buffer.length > IO_CHUNK_BYTES ? buffer.subarray(0, IO_CHUNK_BYTES) : buffer;
}

/** A buffer for hashFileSync/copyFileSync: one per thread, reused for every file. */
export function ioBuffer(): Buffer {
  return Buffer.allocUnsafe(IO_CHUNK_BYTES);
}

export type HashFileResult =
  | { ok: true; hash: string; sizeBytes: number; mtimeNs: bigint }
  | { ok: false; code: string; error: string };

/**
 * Hashes one file, reading it once through `buffer` (IO_CHUNK_BYTES or more; reuse one per thread),
 * in one native call (hlfs.hashFile, the same code as hashFilesAsync). Never follows a symlink
 * (O_NOFOLLOW), never waits on a fifo, and refuses anything but a regular file. Synchronous: measured
 * faster than fs.promises per file on this machine type (DESIGN.md, "Performance facts").
 */
export function hashFileSync(file: Buffer, buffer: Buffer): HashFileResult {
  let hash: string | null;
  try {
    hash = hlfs.hashFile(file, buffer, hashOut);
  } catch (error) {
    return fail(error);
  }
  if (hash === null) return NOT_REGULAR;
  return { ok: true, hash, sizeBytes: Number(hashOut[0]), mtimeNs: hashOut[1] as bigint };
}

const hashOut = new BigInt64Array(2);
const NOT_REGULAR = { ok: false, code: 'ENOTREG', error: 'not a regular file' } as const;

export type HashOutcome = { ok: true; hash: string; sizeBytes: number } | { ok: false; code: string; error: string };

/**
 * hashFileSync for many files off this thread, in one native job on libuv's pool
 * (hlfs.hashFilesAsync), without the mtime. For scrub and verify, which hand over a page of the
 * manifest at a time.
 */
export async function hashFilesAsync(paths: readonly Buffer[]): Promise<HashOutcome[]> {
  const packed = Buffer.allocUnsafe(paths.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const p of paths) {
    if (p.includes(0)) throw new TypeError('a path contains a NUL byte');
    at += p.copy(packed, at);
    packed[at++] = 0;
  }
  const [results, hex] = await hlfs.hashFilesAsync(packed, paths.length);
  const nums = new Float64Array(results);
  return paths.map((_, i): HashOutcome => {
    const status = nums[3 * i] as number;
    if (status === 0) return { ok: true, hash: hex.toString('latin1', 16 * i, 16 * i + 16), sizeBytes: nums[3 * i + 1] as number };
    if (status === NATIVE_NOT_REG) return NOT_REGULAR;
    const code = getSystemErrorName(-status);
    return { ok: false, code, error: `${code} (${HASH_SYSCALLS[nums[3 * i + 2] as number] ?? 'io'})` };
  });
}

const NATIVE_NOT_REG = -1;
const HASH_SYSCALLS = ['open', 'fstat', 'read'];

function fail(error: unknown): { ok: false; code: string; error: string } {
  const e = error as NodeJS.ErrnoException;
  return { ok: false, code: e.code ?? 'EIO', error: e.code ? `${e.code} (${e.syscall ?? 'io'})` : String(e.message) };
}
