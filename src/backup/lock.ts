// One run per disk at a time (the timer and a manual run must not mirror into the same disk at once):
// <disk>/.home-lab/lock holds the owner's pid, hostname and start time. It is created with O_EXCL, so
// exactly one of two racing runs gets it. A lock left by a killed run is stale when its pid is not
// running on this host (or was reused by a younger process, e.g. after a reboot), or when it is older
// than maxAgeMs (the only test possible for a lock written by another machine); a stale lock is taken
// over with a log line. The lock is released in finally (withDiskLock).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FatalError } from '../errors.js';
import type { Logger } from '../log.js';

export const LOCK_FILE = path.join('.home-lab', 'lock');
/** A first full backup of several TB can take most of a day; a lock older than this is a hung run. */
export const DEFAULT_LOCK_MAX_AGE_MS = 24 * 3_600_000;
/** An unreadable lock younger than this may be one being written right now by another run. */
export const UNREADABLE_GRACE_MS = 60_000;
/** /proc start times have 1 s granularity (btime) plus tick rounding. */
const START_SLACK_MS = 5_000;

export interface LockInfo {
  pid: number;
  hostname: string;
  startedAtMs: number;
  /** What took it ('backup', 'mirror'): shown to the run that finds it busy. */
  command?: string;
}

export interface LockOptions {
  diskRoot: string;
  logger: Logger;
  command?: string;
  maxAgeMs?: number;
  now?: () => number;
  hostname?: string;
  pid?: number;
  /** Is this pid running on this host? (default: kill(pid, 0)) */
  isAlive?: (pid: number) => boolean;
  /** When did this pid start, ms since the epoch, or null when unknown (default: /proc). */
  processStartMs?: (pid: number) => number | null;
}

export type LockJudgement = { stale: false; holder: string } | { stale: true; why: string };

/** Pure: is the lock found on the disk stale? `info` is null when the file could not be parsed. */
export function judgeLock(
  info: LockInfo | null,
  ctx: { hostname: string; nowMs: number; maxAgeMs: number; fileMtimeMs: number; isAlive: (pid: number) => boolean; processStartMs: (pid: number) => number | null },
): LockJudgement {
  if (info === null) {
    if (ctx.nowMs - ctx.fileMtimeMs > UNREADABLE_GRACE_MS) return { stale: true, why: 'its content is unreadable and it is older than a minute' };
    return { stale: false, holder: 'a run that is writing it right now (its content is not complete yet)' };
  }
  const ageMs = ctx.nowMs - info.startedAtMs;
  const holder = `pid ${info.pid} on ${info.hostname}${info.command ? ` (home-lab ${info.command})` : ''}, started ${new Date(info.startedAtMs).toISOString()}, ${formatAge(ageMs)} ago`;
  if (ageMs > ctx.maxAgeMs) return { stale: true, why: `it is older than the maximum age of ${formatAge(ctx.maxAgeMs)} (${holder})` };
  if (info.hostname !== ctx.hostname) return { stale: false, holder: `${holder}; a lock from another machine is only taken over after ${formatAge(ctx.maxAgeMs)}` };
  if (!ctx.isAlive(info.pid)) return { stale: true, why: `its process is not running (${holder})` };
  const startMs = ctx.processStartMs(info.pid);
  if (startMs !== null && startMs > info.startedAtMs + START_SLACK_MS) {
    return { stale: true, why: `pid ${info.pid} now belongs to a process started after the lock was taken (the machine restarted?) (${holder})` };
  }
  return { stale: false, holder };
}

export class DiskLock {
  private released = false;

  constructor(
    readonly file: string,
    readonly info: LockInfo,
    private readonly ino: bigint,
    private readonly logger: Logger,
  ) {}

  /** Removes the lock if it is still ours; idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const found = readLock(this.file);
    if (found.kind === 'missing') {
      this.logger.warn(`lock ${this.file} was already gone when this run ended`);
      return;
    }
    if (found.kind !== 'file' || found.ino !== this.ino || found.info?.pid !== this.info.pid) {
      this.logger.warn(`lock ${this.file} was replaced by another run while this one held it; leaving it in place`);
      return;
    }
    try {
      fs.unlinkSync(this.file);
    } catch (error) {
      this.logger.warn(`could not remove lock ${this.file}: ${(error as Error).message}`);
    }
  }
}

/** Takes the disk's lock or throws FatalError('busy') naming who holds it. */
export function acquireDiskLock(options: LockOptions): DiskLock {
  const file = path.join(options.diskRoot, LOCK_FILE);
  const now = options.now ?? Date.now;
  const hostname = options.hostname ?? os.hostname();
  const pid = options.pid ?? process.pid;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FatalError(`cannot create ${path.dirname(file)} for the lock: ${unwritable(code) ?? (error as Error).message}. Nothing was changed.`, 'fatal');
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const info: LockInfo = { pid, hostname, startedAtMs: now(), ...(options.command ? { command: options.command } : {}) };
    const created = tryCreate(file, info);
    if (created !== null) return new DiskLock(file, info, created, options.logger);

    const found = readLock(file);
    if (found.kind === 'missing') continue; // released between our open and our read: try again
    const judgement = judgeLock(found.info, {
      hostname,
      nowMs: now(),
      maxAgeMs: options.maxAgeMs ?? DEFAULT_LOCK_MAX_AGE_MS,
      fileMtimeMs: found.mtimeMs,
      isAlive: options.isAlive ?? isAlive,
      processStartMs: options.processStartMs ?? processStartMs,
    });
    if (!judgement.stale) {
      throw new FatalError(
        `another home-lab run holds the lock on this disk: ${judgement.holder}. Wait for it to finish. ` +
          `If you are sure no run is active, remove ${file}.`,
        'busy',
      );
    }
    options.logger.warn(`taking over the stale lock ${file}: ${judgement.why}`);
    takeOver(file, found.ino);
  }
  throw new FatalError(`could not take the lock ${file}: other runs keep taking it. Try again later.`, 'busy');
}

/**
 * For the commands that write into an existing mirror from the command line (mirror, scrub, verify,
 * manifest rebuild): runs fn holding the lock of the mirror root `root`, the lock the nightly backup
 * takes on its disk, so a manual run and the timer's never interleave in one manifest. A root with no
 * .home-lab/ yet is not a mirror (or a mistyped path): fn runs without a lock, and nothing is created
 * here. A dry run writes nothing and takes no lock either.
 */
export async function withMirrorLock<T>(root: string, options: Omit<LockOptions, 'diskRoot'> & { dryRun?: boolean }, fn: () => Promise<T> | T): Promise<T> {
  let isMirror = false;
  try {
    isMirror = !options.dryRun && fs.statSync(path.join(root, path.dirname(LOCK_FILE))).isDirectory();
  } catch {
    // not there: not a mirror yet
  }
  if (!isMirror) return fn();
  return withDiskLock({ ...options, diskRoot: root }, fn);
}

/** Runs fn holding the disk's lock; the lock is released whatever happens. */
export async function withDiskLock<T>(options: LockOptions, fn: (lock: DiskLock) => Promise<T> | T): Promise<T> {
  const lock = acquireDiskLock(options);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}

/** The inode of the new lock, or null when one exists. */
function tryCreate(file: string, info: LockInfo): bigint | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return null;
    throw new FatalError(`cannot create the lock ${file}: ${unwritable(code) ?? (error as Error).message}. Nothing was changed.`, 'fatal');
  }
  try {
    fs.writeSync(fd, JSON.stringify(info) + '\n');
    fs.fsyncSync(fd);
    return fs.fstatSync(fd, { bigint: true }).ino;
  } catch (error) {
    fs.closeSync(fd);
    fd = -1;
    try {
      fs.unlinkSync(file);
    } catch {
      // leave it: an unreadable lock is taken over after UNREADABLE_GRACE_MS
    }
    throw new FatalError(`cannot write the lock ${file}: ${(error as Error).message}`, 'fatal');
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** The fix for a disk this run cannot write, by error code (null: another error). */
function unwritable(code: string | undefined): string | null {
  if (code === 'EROFS') return 'the disk is mounted read-only (EROFS); remount it read-write (`mount -o remount,rw` on its mount point)';
  if (code === 'EACCES' || code === 'EPERM') return `this user cannot write there (${code}); run as the user that owns it (the nightly backup runs as root)`;
  return null;
}

type Found = { kind: 'missing' } | { kind: 'file'; info: LockInfo | null; ino: bigint; mtimeMs: number };

function readLock(file: string): Found {
  try {
    const st = fs.lstatSync(file, { bigint: true });
    if (!st.isFile()) return { kind: 'file', info: null, ino: st.ino, mtimeMs: Number(st.mtimeMs) };
    const text = fs.readFileSync(file, 'utf8');
    return { kind: 'file', info: parseLock(text), ino: st.ino, mtimeMs: Number(st.mtimeMs) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
}

export function parseLock(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (!Number.isSafeInteger(v.pid) || (v.pid as number) <= 0) return null;
    if (typeof v.hostname !== 'string' || typeof v.startedAtMs !== 'number' || !Number.isFinite(v.startedAtMs)) return null;
    return { pid: v.pid as number, hostname: v.hostname, startedAtMs: v.startedAtMs, ...(typeof v.command === 'string' ? { command: v.command } : {}) };
  } catch {
    return null;
  }
}

/**
 * Moves the stale lock aside, then checks that what moved is the lock judged stale (same inode):
 * if another run replaced it in between, that fresh lock is put back (link fails rather than
 * overwrite a third one) and the next attempt finds it busy.
 */
function takeOver(file: string, staleIno: bigint): void {
  // Unique enough for a name only this process uses (node:crypto would cost every command ~5 ms to load).
  const aside = `${file}.stale.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (fs.lstatSync(aside, { bigint: true }).ino !== staleIno) {
      try {
        fs.linkSync(aside, file);
      } catch {
        // a third run created a lock meanwhile: it wins
      }
    }
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Linux: boot time (/proc/stat btime) + the process's start in clock ticks (/proc/PID/stat field 22). */
function processStartMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    if (!btime || !Number.isFinite(ticks)) return null;
    const CLK_TCK = 100; // USER_HZ: fixed at 100 in the Linux user ABI
    return Number(btime[1]) * 1000 + (ticks * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}
