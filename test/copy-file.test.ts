// copyFileSync (src/engine/copy-file.ts) on real files: one native call (hlfs.copyFile), which reads a
// file smaller than the buffer in one read and streams a bigger one a buffer at a time. Both ways
// must copy the same bytes and attributes and refuse the same changed sources, leaving no temp file.
// The copier (src/engine/copier.ts, the mirror's path) copies a whole packed batch on its own threads.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { copyFileSync, copyJobFromStat, TEMP_PREFIX, type CopyJob, type CopyResult } from '../src/engine/copy-file.js';
import { Copier } from '../src/engine/copier.js';
import { encodeTasks } from '../src/engine/batch-codec.js';
import type { Task } from '../src/engine/tasks.js';
import { hashBytes, ioBuffer, IO_CHUNK_BYTES } from '../src/engine/hash.js';
import { tempDir, isRoot } from './helpers/tmp.js';
import { mountTmpfs } from './helpers/mount.js';
import { hlfs } from '../src/native/hlfs.js';

const SIZES = { small: 3000, streamed: IO_CHUNK_BYTES * 2 + 17 } as const;

function setup(t: import('node:test').TestContext, sizeBytes: number) {
  const dir = tempDir(t);
  const src = path.join(dir, 'src.bin');
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const data = Buffer.alloc(sizeBytes, 0);
  for (let i = 0; i < sizeBytes; i++) data[i] = (i * 31 + 7) & 0xff;
  fs.writeFileSync(src, data, { mode: 0o640 });
  fs.utimesSync(src, new Date(1_600_000_000_000), new Date(1_650_000_000_000));
  const job = (chown = false): CopyJob =>
    copyJobFromStat(Buffer.from(src), Buffer.from(path.join(out, 'dst.bin')), fs.lstatSync(src, { bigint: true }), chown);
  return { dir, src, out, data, job, dst: path.join(out, 'dst.bin') };
}

function tempsIn(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.startsWith(TEMP_PREFIX));
}

for (const [label, sizeBytes] of Object.entries(SIZES)) {
  test(`${label} file: bytes, hash, mode and nanosecond times copied`, (t) => {
    const { data, job, dst, out, src } = setup(t, sizeBytes);
    const j = job();
    const r = copyFileSync(j, ioBuffer());
    assert.deepEqual(r, { ok: true, hash: hashBytes(data), sizeBytes, mtimeNs: j.mtimeNs });
    // Stat before reading: reading moves atime (relatime), on both sides.
    const b = fs.lstatSync(dst, { bigint: true });
    assert.deepEqual(fs.readFileSync(dst), data);
    assert.equal(b.mode, fs.lstatSync(src, { bigint: true }).mode);
    assert.equal(b.mtimeNs, j.mtimeNs);
    assert.equal(b.atimeNs, j.atimeNs);
    assert.deepEqual(tempsIn(out), []);
  });

  test(`${label} file: an existing destination is replaced whole`, (t) => {
    const { data, job, dst } = setup(t, sizeBytes);
    fs.writeFileSync(dst, 'old contents');
    const r = copyFileSync(job(), ioBuffer());
    assert.equal(r.ok, true);
    assert.deepEqual(fs.readFileSync(dst), data);
  });

  test(`${label} file: a source that changed since the walk is refused, nothing written`, (t) => {
    const { job, src, out } = setup(t, sizeBytes);
    const j = job();
    fs.appendFileSync(src, 'more');
    fs.utimesSync(src, new Date(1_600_000_000_000), new Date(1_650_000_000_000));
    const grown = copyFileSync(j, ioBuffer());
    assert.equal(grown.ok, false);
    assert.equal(!grown.ok && grown.code, 'CHANGED');
    const touched = copyFileSync({ ...j, mtimeNs: j.mtimeNs + 1n }, ioBuffer());
    assert.equal(!touched.ok && touched.code, 'CHANGED');
    assert.deepEqual(fs.readdirSync(out), []);
  });

  test(`${label} file: vanished, replaced or no longer regular: refused`, (t) => {
    const { job, src, out, dir } = setup(t, sizeBytes);
    const j = job();
    const other = path.join(dir, 'other');
    fs.copyFileSync(src, other);
    fs.renameSync(other, src);
    const replaced = copyFileSync(j, ioBuffer());
    assert.equal(!replaced.ok && replaced.code, 'CHANGED');
    assert.match(!replaced.ok ? replaced.error : '', /replaced/);
    fs.rmSync(src);
    execFileSync('mkfifo', [src]);
    const fifo = copyFileSync(j, ioBuffer());
    assert.equal(!fifo.ok && fifo.code, 'CHANGED');
    fs.rmSync(src);
    const vanished = copyFileSync(j, ioBuffer());
    assert.equal(!vanished.ok && vanished.code, 'ENOENT');
    assert.match(!vanished.ok ? vanished.error : '', /\(open\)/);
    assert.deepEqual(fs.readdirSync(out), []);
  });

  test(`${label} file: a destination that cannot be written fails with the syscall, no temp left`, (t) => {
    const { job, out, dst } = setup(t, sizeBytes);
    const missingDir = copyFileSync({ ...job(), dst: Buffer.from(path.join(out, 'nodir', 'dst.bin')) }, ioBuffer());
    assert.equal(!missingDir.ok && missingDir.code, 'ENOENT');
    fs.mkdirSync(dst);
    fs.writeFileSync(path.join(dst, 'keep'), 'x');
    const ontoDir = copyFileSync(job(), ioBuffer());
    assert.equal(ontoDir.ok, false);
    assert.match(!ontoDir.ok ? ontoDir.error : '', /\(rename\)/);
    assert.deepEqual(tempsIn(out), []);
  });

  test(`${label} file: owner and setgid bit kept when chown is asked (root)`, { skip: isRoot ? false : 'chown needs root' }, (t) => {
    const { job, src, dst } = setup(t, sizeBytes);
    fs.chownSync(src, 1234, 5678);
    fs.chmodSync(src, 0o2755);
    const r = copyFileSync(job(true), ioBuffer());
    assert.equal(r.ok, true);
    const b = fs.lstatSync(dst);
    assert.equal(b.uid, 1234);
    assert.equal(b.gid, 5678);
    assert.equal(b.mode & 0o7777, 0o2755);
  });
}

test('the native and streamed copies hash an empty file alike', (t) => {
  const { job, dst } = setup(t, 0);
  const r = copyFileSync(job(), ioBuffer());
  assert.deepEqual(r.ok && [r.hash, r.sizeBytes], [hashBytes(Buffer.alloc(0)), 0]);
  assert.equal(fs.statSync(dst).size, 0);
});

test('the copier: a packed batch is copied natively, each result as copyFileSync gives it', async (t) => {
  const dir = tempDir(t);
  const src = path.join(dir, 'src');
  const out = path.join(dir, 'out');
  fs.mkdirSync(src);
  fs.mkdirSync(out);
  const write = (name: string, size: number): CopyJob => {
    const file = path.join(src, name);
    fs.writeFileSync(file, Buffer.alloc(size, name), { mode: 0o604 });
    return copyJobFromStat(Buffer.from(file), Buffer.from(path.join(out, name)), fs.lstatSync(file, { bigint: true }), false);
  };
  const ok1 = write('ok1', 100);
  const empty = write('empty', 0);
  const changed = write('changed', 50);
  fs.appendFileSync(changed.src, 'x');
  const gone = write('gone', 10);
  fs.rmSync(gone.src);
  const big = write('big', IO_CHUNK_BYTES);
  const noDir = { ...write('nodir', 10), dst: Buffer.from(path.join(out, 'missing', 'nodir')) };
  const ok2 = write('ok2', 3000);
  const grown = write('grown', IO_CHUNK_BYTES * 2 + 5);
  fs.appendFileSync(grown.src, 'y');
  const tasks: Task[] = [ok1, empty, changed, gone, big, noDir, ok2, grown].map((job) => ({ kind: 'copy', job }));
  tasks.push({ kind: 'hash', path: ok1.src, sizeBytes: 100, mtimeNs: ok1.mtimeNs });
  // A path too long for the native batch's stack buffers is left to the caller, like the hash task.
  const longDst = Buffer.from(path.join(out, 'x'.repeat(4100)));
  tasks.push({ kind: 'copy', job: { ...ok1, dst: longDst } });
  const results = await copyBatch(t, tasks);
  const hashOf = (job: CopyJob) => hashBytes(fs.readFileSync(job.src));
  assert.deepEqual(results[0], { ok: true, hash: hashOf(ok1), sizeBytes: 100, mtimeNs: ok1.mtimeNs });
  assert.deepEqual(results[1], { ok: true, hash: hashOf(empty), sizeBytes: 0, mtimeNs: empty.mtimeNs });
  assert.equal(results[2]?.ok === false && results[2].code, 'CHANGED');
  assert.match(results[2]?.ok === false ? results[2].error : '', /read 51 of 50 bytes/);
  assert.deepEqual(results[3], { ok: false, code: 'ENOENT', error: 'ENOENT (open)' });
  // A file of the buffer's size or more is streamed, in the same call.
  assert.deepEqual(results[4], { ok: true, hash: hashOf(big), sizeBytes: IO_CHUNK_BYTES, mtimeNs: big.mtimeNs });
  assert.deepEqual(results[5], { ok: false, code: 'ENOENT', error: 'ENOENT (open)' });
  assert.deepEqual(results[6], { ok: true, hash: hashOf(ok2), sizeBytes: 3000, mtimeNs: ok2.mtimeNs });
  assert.equal(results[7]?.ok === false && results[7].code, 'CHANGED');
  assert.match(results[7]?.ok === false ? results[7].error : '', new RegExp(`read ${IO_CHUNK_BYTES * 2 + 6} of ${IO_CHUNK_BYTES * 2 + 5} bytes`));
  assert.equal(results[8], null);
  assert.equal(results[9], null);
  for (const job of [ok1, empty, ok2, big]) {
    const st = fs.lstatSync(job.dst, { bigint: true });
    assert.deepEqual(fs.readFileSync(job.dst), fs.readFileSync(job.src));
    assert.equal(st.mtimeNs, job.mtimeNs);
    assert.equal(Number(st.mode) & 0o7777, 0o604);
  }
  assert.deepEqual(fs.readdirSync(out).sort(), ['big', 'empty', 'ok1', 'ok2']);
});

test('the copier on a full disk: ENOSPC per file, no temp file left, every copied file whole', { skip: isRoot ? false : 'needs root to mount a size-limited tmpfs' }, async (t) => {
  const dir = tempDir(t);
  const out = mountTmpfs(t, '64k');
  const jobs: CopyJob[] = [];
  for (let i = 0; i < 20; i++) {
    const file = path.join(dir, `f${i}`);
    fs.writeFileSync(file, Buffer.alloc(8000, i));
    jobs.push(copyJobFromStat(Buffer.from(file), Buffer.from(path.join(out, `f${i}`)), fs.lstatSync(file, { bigint: true }), false));
  }
  const results = await copyBatch(t, jobs.map((job): Task => ({ kind: 'copy', job })));
  const failed = results.filter((r) => r?.ok === false);
  assert.ok(failed.length > 0, 'the disk filled up');
  for (const r of failed) assert.equal(r?.ok === false && r.code, 'ENOSPC');
  assert.deepEqual(tempsIn(out), []);
  results.forEach((r, i) => {
    const job = jobs[i] as CopyJob;
    if (r?.ok) assert.deepEqual(fs.readFileSync(job.dst), fs.readFileSync(job.src));
    else assert.equal(fs.existsSync(job.dst), false);
  });
});

/** One batch through a copier of two threads (src/engine/copier.ts), closed after the test. */
async function copyBatch(t: TestContext, tasks: Task[]): Promise<(CopyResult | null)[]> {
  const copier = new Copier(2);
  t.after(() => copier.close());
  return copier.copy(encodeTasks(tasks));
}

test('hlfs.syncfs flushes the filesystem of a directory; a missing one or a file is an fs-style error', (t) => {
  const dir = tempDir(t);
  hlfs.syncfs(Buffer.from(dir));
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, 'x');
  assert.throws(() => hlfs.syncfs(Buffer.from(file)), { code: 'ENOTDIR', syscall: 'open' });
  assert.throws(() => hlfs.syncfs(Buffer.from(path.join(dir, 'missing'))), { code: 'ENOENT', syscall: 'open' });
});
