// XXH64 (seed 0, as xxhsum -H64 prints it), computed in C by native/xxh64.c on the bytes where they
// are: xxhash-wasm copied each byte into WebAssembly memory first, which cost a scrub of the bench's
// 2 GiB mixed tree ~0.5 s of its 2.9 s of CPU (see native/xxh64.c).
import fs from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { hlfs } from '../native/hlfs.js';

export interface Hasher64 {
  update(data: Uint8Array): Hasher64;
  /** 16 lowercase hex digits, as xxhsum prints XXH64. */
  digestHex(): string;
}

/** A fresh streaming XXH64 state (seed 0, the seed xxhsum uses). */
export function createHasher(): Hasher64 {
  const state = Buffer.alloc(hlfs.xxh64StateBytes);
  hlfs.xxh64Reset(state);
  const h: Hasher64 = {
    update(data) {
      hlfs.xxh64Update(state, data, 0, data.byteLength);
      return h;
    },
    digestHex: () => hlfs.xxh64DigestHex(state),
  };
  return h;
}

/** XXH64 of a whole buffer (cheaper than a streaming state for small files), as 16 hex digits. */
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
 * Hashes one file, reading it once through `buffer` (reuse one per thread). Never follows a symlink
 * (O_NOFOLLOW) and refuses anything but a regular file. Synchronous: measured faster than
 * fs.promises per file on this machine type (DESIGN.md, "Performance facts").
 */
export function hashFileSync(file: Buffer, given: Buffer): HashFileResult {
  const buffer = ioChunk(given);
  // A file that fits the buffer: open, fstat, read and close in one native call (scrub and verify
  // of small files were bound by the four calls from JavaScript).
  let n: number;
  try {
    n = hlfs.readSmall(file, buffer, smallOut);
  } catch (error) {
    return fail(error);
  }
  if (n >= 0) return { ok: true, hash: hlfs.xxh64Hex(buffer, 0, n), sizeBytes: n, mtimeNs: smallOut[1] as bigint };
  if (n === READ_NOT_REG) return { ok: false, code: 'ENOTREG', error: 'not a regular file' };
  return hashStreamed(file, buffer);
}

const smallOut = new BigInt64Array(2);

export type HashOutcome = { ok: true; hash: string; sizeBytes: number } | { ok: false; code: string; error: string };

/**
 * Hashes files off this thread, in one native job on libuv's pool (hlfs.hashFilesAsync): the same
 * checks as hashFileSync (regular files only, no symlink followed, a fifo never waited on), without
 * the mtime. For scrub and verify, which hand over a page of the manifest at a time.
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
    const status = nums[2 * i] as number;
    if (status === 0) return { ok: true, hash: hex.toString('latin1', 16 * i, 16 * i + 16), sizeBytes: nums[2 * i + 1] as number };
    if (status === NATIVE_NOT_REG) return { ok: false, code: 'ENOTREG', error: 'not a regular file' };
    const code = getSystemErrorName(-status);
    return { ok: false, code, error: `${code} (read)` };
  });
}

const NATIVE_NOT_REG = -1;
const READ_NOT_REG = -1;

/** hashFileSync for a file bigger than the buffer, or one that grew while read: stream it whole. */
function hashStreamed(file: Buffer, buffer: Buffer): HashFileResult {
  let fd: number;
  try {
    // O_NONBLOCK: a fifo swapped in since is refused by the fstat below instead of blocking open.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    return fail(error);
  }
  try {
    const st = fstatBrief(fd);
    if (!st.isFile) return { ok: false, code: 'ENOTREG', error: 'not a regular file' };
    const h = createHasher();
    let size = 0;
    let position = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, position);
      if (n === 0) break;
      h.update(buffer.subarray(0, n));
      size += n;
      position += n;
    }
    return { ok: true, hash: h.digestHex(), sizeBytes: size, mtimeNs: st.mtimeNs };
  } catch (error) {
    return fail(error);
  } finally {
    fs.closeSync(fd);
  }
}

const statOut = new BigInt64Array(5);
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/**
 * The five numbers a copy or a hash needs from fstat, without fs.fstatSync's Stats object and its
 * four Dates (~0.3 s of a worker's 7.8 s on a 50,000-file copy). Throws fs-style errors.
 */
export function fstatBrief(fd: number): { isFile: boolean; sizeBytes: number; mtimeNs: bigint; ino: bigint; dev: bigint } {
  hlfs.fstat(fd, statOut);
  return {
    isFile: (Number(statOut[0]) & S_IFMT) === S_IFREG,
    sizeBytes: Number(statOut[1]),
    mtimeNs: statOut[2] as bigint,
    ino: statOut[3] as bigint,
    dev: statOut[4] as bigint,
  };
}

function fail(error: unknown): { ok: false; code: string; error: string } {
  const e = error as NodeJS.ErrnoException;
  return { ok: false, code: e.code ?? 'EIO', error: e.code ? `${e.code} (${e.syscall ?? 'io'})` : String(e.message) };
}
