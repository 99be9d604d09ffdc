// CopyPool (src/engine/pool.ts) with real worker threads: tasks run inline first, then in batches;
// big batches wait for an idle worker. Whatever the mix, every task must be answered exactly once
// and drain must return (a pending big batch behind inline tasks once could not be posted).
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

for (const { threads, inline } of [{ threads: 2, inline: true }, { threads: 1, inline: false }, { threads: 2, inline: false }]) {
  test(`${threads} thread(s), inline ${inline}: small and big batches all answered, drain returns`, async (t) => {
    const dir = tempDir(t);
    // Batch limit 1 KiB: each 3 KiB file is a big batch of its own; the 100-byte ones batch together.
    const specs = files(dir, [100, 3000, 100, 3000, 3000, 100, 3000, 3000, 100, 100, 3000]);
    const pool = new CopyPool(threads, 1024, inline);
    t.after(() => pool.close());
    const results = new Map<number, TaskResult[]>();
    specs.forEach((f, i) => {
      const job = copyJobFromStat(Buffer.from(f.src), Buffer.from(f.dst), fs.lstatSync(f.src, { bigint: true }), false);
      pool.submit({ kind: 'copy', job }, f.data.length, (r) => results.set(i, [...(results.get(i) ?? []), r]));
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
