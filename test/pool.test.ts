// CopyPool (src/engine/pool.ts) with real threads: copies go to the copier's threads in batches;
// the other tasks (here --checksum's, which copy when DST differs) run inline first, then in batches
// on piscina's workers, where big batches wait for an idle worker. Whatever the mix, every task must
// be answered exactly once and drain must return (a pending big batch behind inline tasks once could
// not be posted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CopyPool } from '../src/engine/pool.js';
import { copyJobFromStat } from '../src/engine/copy-file.js';
import { hashBytes } from '../src/engine/hash.js';
import type { TaskResult } from '../src/engine/tasks.js';
import { tempDir } from './helpers/tmp.js';

function files(dir: string, sizes: number[]): { src: string; dst: string; data: Buffer }[] {
  fs.mkdirSync(path.join(dir, 'src'));
  fs.mkdirSync(path.join(dir, 'dst'));
  return sizes.map((size, i) => {
    const data = Buffer.alloc(size, i + 1);
    const src = path.join(dir, 'src', `f${i}`);
    fs.writeFileSync(src, data);
    return { src, dst: path.join(dir, 'dst', `f${i}`), data };
  });
}

const MODES = [{ threads: 2, inline: true }, { threads: 1, inline: false }, { threads: 2, inline: false }];
for (const { threads, inline, kind } of MODES.flatMap((m) => (['copy', 'checksum'] as const).map((kind) => ({ ...m, kind })))) {
  test(`${kind}, ${threads} thread(s), inline ${inline}: small and big batches all answered, drain returns`, async (t) => {
    const dir = tempDir(t);
    // Batch limit 1 KiB: each 3 KiB file is a big batch of its own; the 100-byte ones batch together.
    const specs = files(dir, [100, 3000, 100, 3000, 3000, 100, 3000, 3000, 100, 100, 3000]);
    const pool = new CopyPool(threads, 1024, inline);
    t.after(() => pool.close());
    const results = new Map<number, TaskResult[]>();
    specs.forEach((f, i) => {
      const job = copyJobFromStat(Buffer.from(f.src), Buffer.from(f.dst), fs.lstatSync(f.src, { bigint: true }), false);
      pool.submit({ kind, job }, f.data.length, (r) => results.set(i, [...(results.get(i) ?? []), r]));
    });
    assert.ok(pool.busy);
    await pool.drain();
    assert.equal(pool.busy, false);
    assert.equal(pool.batchesInFlight, 0);
    specs.forEach((f, i) => {
      const r = results.get(i);
      assert.equal(r?.length, 1, `task ${i} answered once`);
      assert.deepEqual(r?.[0] && r[0].ok && [r[0].hash, r[0].copied], [hashBytes(f.data), true]);
      assert.deepEqual(fs.readFileSync(f.dst), f.data);
    });
  });
}

test('copies go to the copier, hashing and --checksum tasks to the workers: each answered once, rightly', async (t) => {
  const dir = tempDir(t);
  const specs = files(dir, [100, 5000, 70_000, 1, 0]);
  // DST copies for the hash and checksum tasks: one the same, one different.
  fs.writeFileSync((specs[3] as { dst: string }).dst, (specs[3] as { data: Buffer }).data);
  fs.writeFileSync((specs[4] as { dst: string }).dst, 'not the same');
  const pool = new CopyPool(2, 1024, false);
  t.after(() => pool.close());
  const results = new Map<string, TaskResult[]>();
  const answer = (key: string) => (r: TaskResult) => results.set(key, [...(results.get(key) ?? []), r]);
  const job = (i: number) => {
    const f = specs[i] as { src: string; dst: string };
    return copyJobFromStat(Buffer.from(f.src), Buffer.from(f.dst), fs.lstatSync(f.src, { bigint: true }), false);
  };
  for (const i of [0, 1, 2]) pool.submit({ kind: 'copy', job: job(i) }, (specs[i] as { data: Buffer }).data.length, answer(`copy${i}`));
  const hashed = job(3);
  const st = fs.lstatSync(hashed.dst, { bigint: true });
  pool.submit({ kind: 'hash', path: hashed.dst, sizeBytes: 1, mtimeNs: st.mtimeNs }, 1, answer('hash'));
  pool.submit({ kind: 'checksum', job: job(3) }, 2, answer('same'));
  pool.submit({ kind: 'checksum', job: job(4) }, 0, answer('differs'));
  // A destination path longer than PATH_MAX: the native loop leaves it, the pool answers it here.
  pool.submit({ kind: 'copy', job: { ...job(0), dst: Buffer.from(path.join(dir, 'x'.repeat(4100))) } }, 100, answer('long'));
  await pool.drain();
  for (const [key, r] of results) assert.equal(r.length, 1, `${key} answered once`);
  for (const i of [0, 1, 2]) {
    const f = specs[i] as { dst: string; data: Buffer };
    const r = results.get(`copy${i}`)?.[0];
    assert.deepEqual(r?.ok && [r.hash, r.sizeBytes, r.copied], [hashBytes(f.data), f.data.length, true]);
    assert.deepEqual(fs.readFileSync(f.dst), f.data);
  }
  const h = results.get('hash')?.[0];
  assert.deepEqual(h?.ok && [h.hash, h.copied], [hashBytes((specs[3] as { data: Buffer }).data), false]);
  const same = results.get('same')?.[0];
  assert.deepEqual(same?.ok && same.copied, false);
  const differs = results.get('differs')?.[0];
  assert.deepEqual(differs?.ok && [differs.hash, differs.copied], [hashBytes(Buffer.alloc(0)), true]);
  assert.deepEqual(fs.readFileSync((specs[4] as { dst: string }).dst), Buffer.alloc(0));
  const long = results.get('long')?.[0];
  assert.equal(long?.ok === false && long.code, 'ENAMETOOLONG');
});

test('closing with batches out: every task answered once, copied whole or not at all, no temp file left', async (t) => {
  const dir = tempDir(t);
  const specs = files(dir, Array.from({ length: 3000 }, (_, i) => 1000 + (i % 7) * 3000));
  const pool = new CopyPool(2, 1 << 20, false);
  const results = new Map<number, TaskResult[]>();
  specs.forEach((f, i) => {
    const job = copyJobFromStat(Buffer.from(f.src), Buffer.from(f.dst), fs.lstatSync(f.src, { bigint: true }), false);
    pool.submit({ kind: 'copy', job }, f.data.length, (r) => results.set(i, [...(results.get(i) ?? []), r]));
  });
  pool.flush();
  assert.ok(pool.batchesInFlight > 1, 'several batches out');
  await pool.close();
  assert.equal(pool.batchesInFlight, 0);
  let copied = 0;
  let cancelled = 0;
  specs.forEach((f, i) => {
    const r = results.get(i);
    assert.equal(r?.length, 1, `task ${i} answered once`);
    const only = r?.[0] as TaskResult;
    if (only.ok) {
      copied++;
      assert.deepEqual(fs.readFileSync(f.dst), f.data);
    } else {
      cancelled++;
      assert.deepEqual([only.code, fs.existsSync(f.dst)], ['ECANCELED', false]);
    }
  });
  assert.ok(cancelled > 0, `the close cut the run short (${copied} copied first)`);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'dst')).filter((n) => n.startsWith('.home-lab.tmp.')), []);
});
