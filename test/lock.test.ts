// The disk lock: O_EXCL creation, busy for a live holder, stale locks taken over with a log line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { tempDir } from './helpers/tmp.js';
import { memoryLogger } from '../src/log.js';
import { FatalError } from '../src/errors.js';
import { acquireDiskLock, judgeLock, parseLock, withDiskLock, LOCK_FILE, type LockInfo } from '../src/backup/lock.js';

const HOUR = 3_600_000;

function lockFile(disk: string): string {
  return path.join(disk, LOCK_FILE);
}

function plant(disk: string, info: LockInfo | string): void {
  fs.mkdirSync(path.join(disk, '.home-lab'), { recursive: true });
  fs.writeFileSync(lockFile(disk), typeof info === 'string' ? info : JSON.stringify(info));
}

function busy(fn: () => unknown): FatalError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof FatalError, String(error));
    assert.equal(error.kind, 'busy');
    return error;
  }
  assert.fail('expected the lock to be busy');
}

/** A pid that is certainly not running: a child that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid as number;
}

test('judgeLock: table', () => {
  const nowMs = 1_000 * HOUR;
  const base: Parameters<typeof judgeLock>[1] = { hostname: 'here', nowMs, maxAgeMs: 24 * HOUR, fileMtimeMs: nowMs, isAlive: (pid: number) => pid === 42, processStartMs: () => nowMs - 10 * HOUR };
  const info = (over: Partial<LockInfo>): LockInfo => ({ pid: 42, hostname: 'here', startedAtMs: nowMs - HOUR, ...over });
  const cases: [string, LockInfo | null, Partial<typeof base>, boolean, RegExp][] = [
    ['live holder', info({}), {}, false, /pid 42 on here/],
    ['dead pid', info({ pid: 7 }), {}, true, /not running/],
    ['too old, even alive', info({ startedAtMs: nowMs - 25 * HOUR }), {}, true, /older than the maximum age of 24\.0 h/],
    ['other host, young', info({ hostname: 'elsewhere', pid: 7 }), {}, false, /another machine/],
    ['other host, old', info({ hostname: 'elsewhere', startedAtMs: nowMs - 30 * HOUR }), {}, true, /older than/],
    ['pid reused after the lock', info({}), { processStartMs: () => nowMs - 60_000 }, true, /started after the lock/],
    ['start time unknown', info({}), { processStartMs: () => null }, false, /pid 42/],
    ['unreadable, fresh', null, {}, false, /writing it right now/],
    ['unreadable, old', null, { fileMtimeMs: nowMs - 120_000 }, true, /unreadable/],
  ];
  for (const [name, lock, over, stale, pattern] of cases) {
    const j = judgeLock(lock, { ...base, ...over });
    assert.equal(j.stale, stale, name);
    assert.match(j.stale ? j.why : j.holder, pattern, name);
  }
});

test('parseLock accepts only well-formed locks', () => {
  assert.deepEqual(parseLock('{"pid":5,"hostname":"h","startedAtMs":1}'), { pid: 5, hostname: 'h', startedAtMs: 1 });
  for (const bad of ['', '{', 'null', '{"pid":0,"hostname":"h","startedAtMs":1}', '{"pid":5,"hostname":1,"startedAtMs":1}', '{"pid":5,"hostname":"h"}']) {
    assert.equal(parseLock(bad), null, bad);
  }
});

test('acquire writes pid, hostname and start time; a second acquire is busy; release frees it', (t) => {
  const disk = tempDir(t);
  const logger = memoryLogger();
  const startedAtMs = Date.now();
  const lock = acquireDiskLock({ diskRoot: disk, logger, command: 'backup', now: () => startedAtMs });
  const info = JSON.parse(fs.readFileSync(lockFile(disk), 'utf8'));
  assert.deepEqual(info, { pid: process.pid, hostname: os.hostname(), startedAtMs, command: 'backup' });
  const e = busy(() => acquireDiskLock({ diskRoot: disk, logger, now: () => startedAtMs + 60_000 }));
  assert.match(e.message, new RegExp(`pid ${process.pid} on ${os.hostname()} \\(home-lab backup\\)`));
  assert.match(e.message, /remove .*\.home-lab\/lock/);
  lock.release();
  lock.release();
  assert.equal(fs.existsSync(lockFile(disk)), false);
  acquireDiskLock({ diskRoot: disk, logger }).release();
});

test('withDiskLock releases the lock when the run throws', async (t) => {
  const disk = tempDir(t);
  await assert.rejects(withDiskLock({ diskRoot: disk, logger: memoryLogger() }, () => {
    assert.ok(fs.existsSync(lockFile(disk)));
    throw new Error('boom');
  }), /boom/);
  assert.equal(fs.existsSync(lockFile(disk)), false);
  assert.equal(await withDiskLock({ diskRoot: disk, logger: memoryLogger() }, async () => 7), 7);
});

test('a stale lock (dead pid on this host) is taken over with a log line', (t) => {
  const disk = tempDir(t);
  plant(disk, { pid: deadPid(), hostname: os.hostname(), startedAtMs: Date.now() - 60_000 });
  const logger = memoryLogger();
  const lock = acquireDiskLock({ diskRoot: disk, logger });
  assert.equal(JSON.parse(fs.readFileSync(lockFile(disk), 'utf8')).pid, process.pid);
  assert.ok(logger.lines.some((l) => l.level === 'warn' && /taking over the stale lock .*its process is not running/.test(l.message)), JSON.stringify(logger.lines));
  lock.release();
  assert.deepEqual(fs.readdirSync(path.join(disk, '.home-lab')), [], 'no leftovers of the takeover');
});

test('stale by age and by pid reuse; a live lock from another host is respected', (t) => {
  const disk = tempDir(t);
  const logger = memoryLogger();
  plant(disk, { pid: process.pid, hostname: 'other-host', startedAtMs: Date.now() - HOUR });
  busy(() => acquireDiskLock({ diskRoot: disk, logger }));
  plant(disk, { pid: process.pid, hostname: 'other-host', startedAtMs: Date.now() - 2 * HOUR });
  acquireDiskLock({ diskRoot: disk, logger, maxAgeMs: HOUR }).release();
  // Our own pid, but the lock predates this process by a day: the pid was reused.
  plant(disk, { pid: process.pid, hostname: os.hostname(), startedAtMs: Date.now() - 24 * HOUR });
  acquireDiskLock({ diskRoot: disk, logger, maxAgeMs: 48 * HOUR }).release();
  assert.equal(logger.lines.filter((l) => l.message.startsWith('taking over')).length, 2);
});

test('an unreadable lock is busy while fresh, taken over once old; a symlink lock is never followed', (t) => {
  const disk = tempDir(t);
  const outside = tempDir(t);
  plant(disk, '');
  busy(() => acquireDiskLock({ diskRoot: disk, logger: memoryLogger() }));
  acquireDiskLock({ diskRoot: disk, logger: memoryLogger(), now: () => Date.now() + 5 * 60_000 }).release();
  fs.writeFileSync(path.join(outside, 'target'), 'keep');
  fs.symlinkSync(path.join(outside, 'target'), lockFile(disk));
  busy(() => acquireDiskLock({ diskRoot: disk, logger: memoryLogger() }));
  acquireDiskLock({ diskRoot: disk, logger: memoryLogger(), now: () => Date.now() + 5 * 60_000 }).release();
  assert.equal(fs.readFileSync(path.join(outside, 'target'), 'utf8'), 'keep');
});

test('release leaves a lock that another run has taken since', (t) => {
  const disk = tempDir(t);
  const logger = memoryLogger();
  const lock = acquireDiskLock({ diskRoot: disk, logger });
  fs.unlinkSync(lockFile(disk));
  plant(disk, { pid: 1, hostname: os.hostname(), startedAtMs: Date.now() });
  lock.release();
  assert.equal(JSON.parse(fs.readFileSync(lockFile(disk), 'utf8')).pid, 1);
  assert.ok(logger.lines.some((l) => l.message.includes('replaced by another run')));
});

function child(disk: string): { proc: ChildProcessWithoutNullStreams; lines: AsyncIterator<string> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/lock-child.ts', disk]);
  proc.stdout.setEncoding('utf8');
  const queue: string[] = [];
  const waiters: ((v: IteratorResult<string>) => void)[] = [];
  let buffered = '';
  proc.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let at: number;
    while ((at = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      const w = waiters.shift();
      if (w) w({ value: line, done: false });
      else queue.push(line);
    }
  });
  proc.on('close', () => {
    for (const w of waiters.splice(0)) w({ value: undefined, done: true });
  });
  const lines: AsyncIterator<string> = {
    next: () => {
      const line = queue.shift();
      if (line !== undefined) return Promise.resolve({ value: line, done: false });
      if (proc.exitCode !== null) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
  return { proc, lines };
}

test('two runs at once (timer and manual): exactly one gets the lock, the other is busy', async (t) => {
  const disk = tempDir(t);
  const children = [child(disk), child(disk)];
  t.after(() => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  });
  const first = await Promise.all(children.map((c) => c.lines.next().then((r) => String(r.value))));
  assert.equal(first.filter((l) => l === 'acquired').length, 1, first.join('\n'));
  // The loser names the holder's pid, or, when it looked while the winner was still writing the lock
  // file, says so (both are "busy"; lock.ts's judgeLock).
  const holder = /^busy another home-lab run holds the lock on this disk: (pid \d+|a run that is writing it right now)/;
  for (const l of first.filter((x) => x !== 'acquired')) assert.match(l, holder);
  const owner = children[first.indexOf('acquired')];
  assert.ok(owner);
  owner.proc.stdin.end();
  assert.equal((await owner.lines.next()).value, 'released');
  await Promise.all(children.map((c) => (c.proc.exitCode === null ? once(c.proc, 'close') : null)));
  assert.equal(fs.existsSync(lockFile(disk)), false);
});

test('a run killed with SIGKILL leaves a lock that the next run takes over', async (t) => {
  const disk = tempDir(t);
  const c = child(disk);
  assert.equal((await c.lines.next()).value, 'acquired');
  const killedPid = c.proc.pid;
  c.proc.kill('SIGKILL');
  await once(c.proc, 'close');
  assert.equal(JSON.parse(fs.readFileSync(lockFile(disk), 'utf8')).pid, killedPid, 'the killed run left its lock');
  const logger = memoryLogger();
  const lock = acquireDiskLock({ diskRoot: disk, logger });
  assert.ok(logger.lines.some((l) => l.message.includes(`pid ${killedPid}`) && l.message.includes('not running')));
  lock.release();
});
