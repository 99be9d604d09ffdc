// The copy of one regular file, shared by the worker pool and by scrub's repair: read the source
// once, hash every byte with XXH64 while writing a temp file in the destination directory, set mode,
// owner and times on the temp file, then rename it over the real name. A half-written file never
// carries the real name; a killed run leaves only temp files, which the next run removes.
import fs from 'node:fs';
import util from 'node:util';
import { threadId } from 'node:worker_threads';
import { createHasher, fstatBrief, ioChunk } from './hash.js';
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

// O_NONBLOCK: if a fifo was swapped in since the walk, open must not block (fstat then rejects it).
const O_READ = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
const O_TEMP = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

// Temp names: pid, thread and a counter are unique within a run; O_EXCL settles the rest, so the
// random part need not be cryptographic (node:crypto is not loaded for it: start-up time).
const tempStem = `${TEMP_PREFIX}${process.pid.toString(36)}.${threadId.toString(36)}.${Math.floor(Math.random() * 0x1000000).toString(16).padStart(6, '0')}.`;
let tempCounter = 0;

const tempStemBytes = Buffer.from(tempStem);

export function tempPathFor(dst: Buffer): Buffer {
  const { dir } = splitPath(dst);
  return joinPath(dir, Buffer.from(tempStem + (tempCounter++).toString(16)));
}

/**
 * Copies job.src to job.dst through `buffer`. The source must still be the file the walk saw: if its
 * size or mtime differ from the walk's, or change while it is read, the copy is abandoned with code
 * 'CHANGED' (the next run picks up the new state). Returns a value; throws only for bugs.
 *
 * Syscalls for a small new file, counted because they are the floor on small-file trees (DESIGN.md):
 * open, read (one, of size+1 bytes, so EOF needs no second read), fstat, close; open (O_EXCL), write,
 * futimens, close, rename. fchown/fchmod only when the new file does not already have the owner/mode.
 * A file smaller than the buffer makes them all in one native call (copySmallSync).
 */
export function copyFileSync(job: CopyJob, given: Buffer): CopyResult {
  const buffer = ioChunk(given);
  if (job.sizeBytes < buffer.length) return copySmallSync(job, buffer);
  let fdIn = -1;
  let fdOut = -1;
  let temp: Buffer | null = null;
  try {
    fdIn = fs.openSync(job.src, O_READ);
    const perm = job.mode & 0o7777;
    for (let attempt = 0; ; attempt++) {
      temp = tempPathFor(job.dst);
      try {
        fdOut = fs.openSync(temp, O_TEMP, perm & 0o777);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 5) {
          temp = null;
          throw error;
        }
      }
    }
    let copied = 0;
    const h = createHasher();
    for (;;) {
      const n = fs.readSync(fdIn, buffer, 0, buffer.length, null);
      if (n === 0) break;
      h.update(buffer.subarray(0, n));
      writeAll(fdOut, buffer, n);
      copied += n;
      if (copied > job.sizeBytes) break;
    }
    const digest = h.digestHex();
    const after = fstatBrief(fdIn);
    if (!after.isFile) return changedResult(STAGE_NOT_REG, copied, job.sizeBytes);
    if ((job.ino !== undefined && after.ino !== job.ino) || (job.dev !== undefined && after.dev !== job.dev)) {
      // Replaced, or a directory on its path was swapped for a symlink: never copy what is behind it.
      return changedResult(STAGE_REPLACED, copied, job.sizeBytes);
    }
    if (copied !== job.sizeBytes || after.sizeBytes !== job.sizeBytes || after.mtimeNs !== job.mtimeNs) {
      return changedResult(STAGE_CHANGED, copied, job.sizeBytes);
    }
    // chown before chmod: chown clears setuid/setgid.
    if (job.chown) fs.fchownSync(fdOut, job.uid, job.gid);
    if (job.chown || job.umask === undefined || (perm & ~job.umask) !== perm || perm > 0o777) fs.fchmodSync(fdOut, perm);
    hlfs.futimens(fdOut, job.atimeNs, job.mtimeNs);
    fs.closeSync(fdOut);
    fdOut = -1;
    fs.renameSync(temp as Buffer, job.dst);
    temp = null;
    return { ok: true, hash: digest, sizeBytes: copied, mtimeNs: job.mtimeNs };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const code = e.code ?? 'EIO';
    // Never e.message: it holds the raw path, which could forge log lines (the caller shows the
    // escaped path beside this text).
    return { ok: false, code, error: `${code} (${e.syscall ?? 'copy'})${e.code ? '' : `: ${e.message}`}` };
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

// Stages of hlfs.copySmall, in native/hlfs.c's order: the syscall each failed in (Node's names).
const STAGE_SYSCALL = ['', 'open', 'read', 'fstat', '', '', '', 'open', 'write', 'fchown', 'fchmod', 'futimens', 'close', 'rename'];
const STAGE_NOT_REG = 4 as const;
const STAGE_REPLACED = 5 as const;
const STAGE_CHANGED = 6 as const;
const smallNums = new Float64Array(6);
const smallTimes = new BigInt64Array(4);
const smallOut = new Int32Array(3);

/**
 * copyFileSync for a file that fits the buffer: the same system calls and checks, made in one native
 * call (hlfs.copySmall) instead of ten from JavaScript, then the bytes written are hashed.
 */
function copySmallSync(job: CopyJob, buffer: Buffer): CopyResult {
  const perm = job.mode & 0o7777;
  const chmod = job.chown || job.umask === undefined || (perm & ~job.umask) !== perm || perm > 0o777;
  smallNums[0] = job.sizeBytes;
  smallNums[1] = perm;
  smallNums[2] = job.uid;
  smallNums[3] = job.gid;
  smallNums[4] = (job.chown ? 1 : 0) | (chmod ? 2 : 0) | (job.ino !== undefined ? 4 : 0) | (job.dev !== undefined ? 8 : 0);
  smallNums[5] = tempCounter;
  smallTimes[0] = job.mtimeNs;
  smallTimes[1] = job.atimeNs;
  smallTimes[2] = job.ino ?? 0n;
  smallTimes[3] = job.dev ?? 0n;
  const n = hlfs.copySmall(job.src, job.dst, tempStemBytes, buffer, smallNums, smallTimes, smallOut);
  tempCounter += smallOut[2] as number;
  if (n >= 0) return { ok: true, hash: hlfs.xxh64Hex(buffer, 0, n), sizeBytes: n, mtimeNs: job.mtimeNs };
  return smallFailure(smallOut[0] as number, smallOut[1] as number, -1 - n, job.sizeBytes);
}

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
function smallFailure(stage: number, errno: number, readBytes: number, sizeBytes: number): CopyResult {
  if (stage === STAGE_NOT_REG || stage === STAGE_REPLACED || stage === STAGE_CHANGED) return changedResult(stage, readBytes, sizeBytes);
  const code = util.getSystemErrorName(-errno);
  return { ok: false, code, error: `${code} (${STAGE_SYSCALL[stage] ?? 'copy'})` };
}

/**
 * Copies every small file of a packed batch in one native call (hlfs.copyBatch), then hashes each
 * one's bytes from `data`. The result is null for a task left to the caller: not a copy, a file of
 * the buffer's size or more, or no room left in `data`. Same calls, checks and results as
 * copyFileSync, file by file.
 */
export function copyBatchSync(batch: EncodedTasks, data: Buffer): (CopyResult | null)[] {
  const res = new Float64Array(batch.count * 4);
  tempCounter += hlfs.copyBatch(batch.buffer, batch.count, tempStemBytes, tempCounter, data, res);
  const nums = taskNums(batch);
  const bigs = taskBigs(batch);
  const results: (CopyResult | null)[] = [];
  for (let i = 0; i < batch.count; i++) {
    const status = res[i * 4];
    const sizeBytes = nums[i * TASK_NUMS + 1] as number;
    if (status === 1) {
      const off = res[i * 4 + 1] as number;
      const n = res[i * 4 + 2] as number;
      results.push({ ok: true, hash: hlfs.xxh64Hex(data, off, n), sizeBytes: n, mtimeNs: bigs[i * TASK_BIGS] as bigint });
    } else if (status === 2) {
      results.push(smallFailure(res[i * 4 + 1] as number, res[i * 4 + 2] as number, res[i * 4 + 3] as number, sizeBytes));
    } else {
      results.push(null);
    }
  }
  return results;
}

function writeAll(fd: number, buffer: Buffer, n: number): void {
  let off = 0;
  while (off < n) off += fs.writeSync(fd, buffer, off, n - off);
}
