// Round trips of src/engine/batch-codec.ts: every task kind and result kind must come back equal,
// names as raw bytes (non-UTF-8 included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { decodeResults, decodeTasks, encodeResults, encodeTasks, type EncodedTasks } from '../src/engine/batch-codec.js';
import type { Task, TaskResult } from '../src/engine/tasks.js';

const odd = Buffer.from([0x2f, 0x74, 0xff, 0xfe, 0x0a, 0x20, 0xc3]);

const tasks: Task[] = [
  {
    kind: 'copy',
    job: { src: Buffer.from('/s/a'), dst: Buffer.from('/d/a'), sizeBytes: 5_000_000_000, mtimeNs: -1_234_567_987_654_321n, atimeNs: 1_700_000_000_123_456_789n, mode: 0o104755, uid: 4_000_000_000, gid: 65534, chown: true, umask: 0o022, ino: 9_007_199_254_740_993n, dev: 64769n },
  },
  { kind: 'copy', job: { src: odd, dst: Buffer.concat([odd, odd]), sizeBytes: 0, mtimeNs: 0n, atimeNs: 0n, mode: 0o100600, uid: 0, gid: 0, chown: false } },
  { kind: 'checksum', job: { src: Buffer.from('/s/b'), dst: Buffer.from('/d/b'), sizeBytes: 12, mtimeNs: 5n, atimeNs: 6n, mode: 0o100644, uid: 1, gid: 2, chown: false, umask: 0 } },
  { kind: 'hash', path: odd, sizeBytes: 77, mtimeNs: 1_600_000_000_000_000_001n },
];

function plain(t: Task[]): unknown {
  // Buffers compare by bytes; deepEqual would also compare Buffer against Buffer view types.
  return JSON.parse(JSON.stringify(t, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
}

test('tasks of every kind survive encoding, a structured clone and decoding', () => {
  const encoded = encodeTasks(tasks);
  const cloned = v8.deserialize(v8.serialize(encoded)) as EncodedTasks;
  const back = decodeTasks(cloned);
  assert.deepEqual(plain(back), plain(tasks));
  for (const t of back) {
    const bufs = t.kind === 'copy' || t.kind === 'checksum' ? [t.job.src, t.job.dst] : [t.path];
    for (const b of bufs) assert.ok(Buffer.isBuffer(b));
  }
  // Optional fields stay absent when they were absent (the copy decides on `umask === undefined`).
  const second = back[1] as Task & { kind: 'copy' };
  assert.equal('umask' in second.job, false);
  assert.equal('ino' in second.job, false);
});

test('an empty batch encodes and decodes', () => {
  assert.deepEqual(decodeTasks(encodeTasks([])), []);
  assert.deepEqual(decodeResults(encodeResults([])), []);
});

test('results of every kind survive encoding and decoding', () => {
  const results: TaskResult[] = [
    { ok: true, hash: '0123456789abcdef', sizeBytes: 5_000_000_000, mtimeNs: -5n, copied: true },
    { ok: false, code: 'CHANGED', error: 'changed since the walk' },
    { ok: true, hash: 'ef46db3751d8e999', sizeBytes: 0, mtimeNs: 1_700_000_000_123_456_789n, copied: false },
    { ok: false, code: 'ENOSPC', error: 'ENOSPC (write)' },
  ];
  const encoded = v8.deserialize(v8.serialize(encodeResults(results))) as ReturnType<typeof encodeResults>;
  assert.deepEqual(decodeResults(encoded), results);
});
