// The copy of one regular file, shared by the worker pool and by scrub's repair: read the source
// once, hash every byte with XXH64 while writing a temp file in the destination directory, set mode,
// owner and times on the temp file, then rename it over the real name. A half-written file never
// carries the real name; a killed run leaves only temp files, which the next run removes.
import type fs from 'node:fs';
import util from 'node:util';
import { ioChunk } from './hash.js';
import { hlfs } from '../native/hlfs.js';
import { splitPath, joinPath } from './bytes.js';
import { TASK_BIGS, TASK_NUMS, taskBigs, taskNums, type EncodedTasks } from './batch-codec.js';

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
  /** chown the copy (rsync -a does when root; the mirror skips it when the new file already has them). */
  chown: boolean;
  /** The process umask, when known: lets the copy skip fchmod when open() already set the mode. */
  umask?: number;
  /** The source's identity at the walk, when known: a path now resolving to another file is refused. */
  ino?: bigint;
  dev?: bigint;
}

/**
 * A copy job for a file as an lstat just saw it: the copy then refuses a file that changed, or that
 * another inode replaced, since that lstat.
 */
export function copyJobFromStat(src: Buffer, dst: Buffer, st: fs.BigIntStats, chown: boolean): CopyJob {
  return {
    src,
    dst,
    sizeBytes: Number(st.size),
    mtimeNs: st.mtimeNs,
    atimeNs: st.atimeNs,
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    chown,
    ino: st.ino,
    dev: st.dev,
  };
}

export type CopyResult =
  | { ok: true; hash: string; sizeBytes: number; mtimeNs: bigint }
  | { ok: false; code: string; error: string };

// Temp names: the pid, 48 random bits per thread (each worker thread loads this module anew) and a
// counter; O_EXCL settles the rest, so the random part need not be cryptographic (node:crypto is not
// loaded for it, nor node:worker_threads for a thread id: start-up time).
const tempStem = `${TEMP_PREFIX}${process.pid.toString(36)}.${Math.floor(Math.random() * 2 ** 48).toString(36)}.`;
let tempCounter = 0;

/** The temp-name stem of this thread, for native copies (the copier adds a part per thread of its own). */
export const tempStemBytes = Buffer.from(tempStem);

export function tempPathFor(dst: Buffer): Buffer {
  const { dir } = splitPath(dst);
  return joinPath(dir, Buffer.from(tempStem + (tempCounter++).toString(16)));
}

/**
 * Copies job.src to job.dst through `buffer`, in one native call (hlfs.copyFile). The source must
 * still be the file the walk saw: if its size or mtime differ from the walk's, or change while it is
 * read, the copy is abandoned with code 'CHANGED' (the next run picks up the new state). Returns a
 * value; throws only for bugs.
 *
 * Syscalls for a small new file, counted because they are the floor on small-file trees (DESIGN.md):
 * open, read (one, of size+1 bytes, so EOF needs no second read), fstat, close; open (O_EXCL), write,
 * futimens, close, rename. fchown/fchmod only when the new file does not already have the owner/mode.
 * A file of the buffer's size or more is read, hashed and written a buffer at a time, in C too:
 * measured on the bench's mixed tree (3,769 of its 20,000 files are 64 KiB or more), the JavaScript
 * loop and calls around each such file were ~0.15-0.2 s of each worker's ~3 s.
 */
export function copyFileSync(job: CopyJob, given: Buffer): CopyResult {
  const buffer = ioChunk(given);
  const perm = job.mode & 0o7777;
  const chmod = job.chown || job.umask === undefined || (perm & ~job.umask) !== perm || perm > 0o777;
  fileNums[0] = job.sizeBytes;
  fileNums[1] = perm;
  fileNums[2] = job.uid;
  fileNums[3] = job.gid;
  fileNums[4] = (job.chown ? 1 : 0) | (chmod ? 2 : 0) | (job.ino !== undefined ? 4 : 0) | (job.dev !== undefined ? 8 : 0);
  fileNums[5] = tempCounter;
  fileTimes[0] = job.mtimeNs;
  fileTimes[1] = job.atimeNs;
  fileTimes[2] = job.ino ?? 0n;
  fileTimes[3] = job.dev ?? 0n;
  const n = hlfs.copyFile(job.src, job.dst, tempStemBytes, buffer, fileNums, fileTimes, fileOut, fileHex);
  tempCounter += fileOut[2] as number;
  if (n >= 0) return { ok: true, hash: fileHex.toString('latin1'), sizeBytes: n, mtimeNs: job.mtimeNs };
  return copyFailure(fileOut[0] as number, fileOut[1] as number, -1 - n, job.sizeBytes);
}

// Stages of hlfs.copyFile, in native/hlfs.c's order: the syscall each failed in (Node's names).
const STAGE_SYSCALL = ['', 'open', 'read', 'fstat', '', '', '', 'open', 'write', 'fchown', 'fchmod', 'futimens', 'close', 'rename'];
const STAGE_NOT_REG = 4 as const;
const STAGE_REPLACED = 5 as const;
const STAGE_CHANGED = 6 as const;
const fileNums = new Float64Array(6);
const fileTimes = new BigInt64Array(4);
const fileOut = new Int32Array(3);
const fileHex = Buffer.alloc(16);

/** A source that is not what the walk saw (the next run picks up its new state). */
function changedResult(stage: typeof STAGE_NOT_REG | typeof STAGE_REPLACED | typeof STAGE_CHANGED, readBytes: number, sizeBytes: number): CopyResult {
  const error =
    stage === STAGE_NOT_REG
      ? 'no longer a regular file'
      : stage === STAGE_REPLACED
        ? 'replaced since the walk (another file now answers to this path)'
        : `changed since the walk or while being copied (read ${readBytes} of ${sizeBytes} bytes; size or mtime moved)`;
  return { ok: false, code: 'CHANGED', error };
}

/** A failed native copy as a CopyResult: the stage it failed in, its errno, the bytes it had read. */
function copyFailure(stage: number, errno: number, readBytes: number, sizeBytes: number): CopyResult {
  if (stage === STAGE_NOT_REG || stage === STAGE_REPLACED || stage === STAGE_CHANGED) return changedResult(stage, readBytes, sizeBytes);
  const code = util.getSystemErrorName(-errno);
  return { ok: false, code, error: `${code} (${STAGE_SYSCALL[stage] ?? 'copy'})` };
}

/**
 * The results of a batch copied by the copier (native/copier.c): res holds 4
 * numbers a task, hex 16 hex digits a task copied. Null: a task the native loop left to the caller.
 */
export function batchResults(batch: EncodedTasks, res: Float64Array, hex: Buffer): (CopyResult | null)[] {
  const nums = taskNums(batch);
  const bigs = taskBigs(batch);
  const results: (CopyResult | null)[] = [];
  for (let i = 0; i < batch.count; i++) {
    const status = res[i * 4];
    if (status === 1) {
      results.push({ ok: true, hash: hex.toString('latin1', i * 16, i * 16 + 16), sizeBytes: res[i * 4 + 1] as number, mtimeNs: bigs[i * TASK_BIGS] as bigint });
    } else if (status === 2) {
      results.push(copyFailure(res[i * 4 + 1] as number, res[i * 4 + 2] as number, res[i * 4 + 3] as number, nums[i * TASK_NUMS + 1] as number));
    } else {
      results.push(null);
    }
  }
  return results;
}
