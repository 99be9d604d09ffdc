// The copy of one regular file, shared by the worker pool and by scrub's repair: read the source
// once, hash every byte with XXH64 while writing a temp file in the destination directory, set mode,
// owner and times on the temp file, then rename it over the real name. A half-written file never
// carries the real name; a killed run leaves only temp files, which the next run removes.
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createHasher, hex64 } from './hash.js';
import { hlfs } from '../native/hlfs.js';
import { splitPath, joinPath } from './bytes.js';

/** Temp files start with this; the mirror removes leftovers with this prefix that are not in SRC. */
export const TEMP_PREFIX = '.home-lab.tmp.';

export interface CopyJob {
  src: Buffer;
  dst: Buffer;
  /** Attributes from the walk's lstat of the source; the copy re-checks them with fstat. */
  sizeBytes: number;
  mtimeNs: bigint;
  atimeNs: bigint;
  mode: number;
  uid: number;
  gid: number;
  /** chown the copy (rsync -a does when root). */
  chown: boolean;
}

export type CopyResult =
  | { ok: true; hash: string; sizeBytes: number; mtimeNs: bigint }
  | { ok: false; code: string; error: string };

const O_READ = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;
const O_TEMP = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

export function tempPathFor(dst: Buffer): Buffer {
  const { dir } = splitPath(dst);
  return joinPath(dir, Buffer.from(TEMP_PREFIX + randomBytes(6).toString('hex')));
}

/**
 * Copies job.src to job.dst through `buffer`. The source must still be the file the walk saw: if its
 * size or mtime differ from the walk's, or change while it is read, the copy is abandoned with code
 * 'CHANGED' (the next run picks up the new state). Returns a value; throws only for bugs.
 */
export function copyFileSync(job: CopyJob, buffer: Buffer): CopyResult {
  let fdIn = -1;
  let fdOut = -1;
  let temp: Buffer | null = null;
  try {
    fdIn = fs.openSync(job.src, O_READ);
    const before = fs.fstatSync(fdIn, { bigint: true });
    if (!before.isFile()) return { ok: false, code: 'CHANGED', error: 'no longer a regular file' };
    if (Number(before.size) !== job.sizeBytes || before.mtimeNs !== job.mtimeNs) {
      return { ok: false, code: 'CHANGED', error: 'changed between the walk and the copy (size or mtime differ)' };
    }
    for (let attempt = 0; ; attempt++) {
      temp = tempPathFor(job.dst);
      try {
        fdOut = fs.openSync(temp, O_TEMP, 0o600);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 5) {
          temp = null;
          throw error;
        }
      }
    }
    const h = createHasher();
    let copied = 0;
    for (;;) {
      const n = fs.readSync(fdIn, buffer, 0, buffer.length, null);
      if (n === 0) break;
      h.update(buffer.subarray(0, n));
      let off = 0;
      while (off < n) off += fs.writeSync(fdOut, buffer, off, n - off);
      copied += n;
    }
    const after = fs.fstatSync(fdIn, { bigint: true });
    if (copied !== job.sizeBytes || Number(after.size) !== job.sizeBytes || after.mtimeNs !== job.mtimeNs) {
      return { ok: false, code: 'CHANGED', error: `changed while being copied (read ${copied} of ${job.sizeBytes} bytes; size or mtime moved)` };
    }
    // chown before chmod: chown clears setuid/setgid bits.
    if (job.chown) fs.fchownSync(fdOut, job.uid, job.gid);
    fs.fchmodSync(fdOut, job.mode & 0o7777);
    hlfs.futimens(fdOut, job.atimeNs, job.mtimeNs);
    fs.closeSync(fdOut);
    fdOut = -1;
    fs.renameSync(temp as Buffer, job.dst);
    temp = null;
    return { ok: true, hash: hex64(h.digest()), sizeBytes: copied, mtimeNs: job.mtimeNs };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const code = e.code ?? 'EIO';
    return { ok: false, code, error: `${code} (${e.syscall ?? 'copy'}): ${e.message}` };
  } finally {
    if (fdIn >= 0) fs.closeSync(fdIn);
    if (fdOut >= 0) fs.closeSync(fdOut);
    if (temp !== null) {
      try {
        fs.unlinkSync(temp);
      } catch {
        // best effort: a leftover temp file is removed by the next run
      }
    }
  }
}
