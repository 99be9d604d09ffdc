// ManifestStore (src/manifest/store.ts) writes upserts made inside a transaction many rows to a
// statement. A row waiting for its statement must still be seen by every other use of the database,
// in order: reads, deletes, the raw handle's queries, the commit; a rollback drops it; outside a
// transaction nothing waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestStore } from '../src/manifest/store.js';
import { dirSummary } from '../src/manifest/queries.js';
import { tempDir } from './helpers/tmp.js';

const row = (path: string, sizeBytes = 1, hash = '0000000000000001') => ({ path: Buffer.from(path), sizeBytes, mtimeNs: 5n, hash, hashedAtMs: 1 });

test('upserts waiting inside a transaction are seen by reads, deletes, raw queries and the commit, in order', (t) => {
  const dir = tempDir(t);
  const store = ManifestStore.open(dir, { create: true });
  t.after(() => store.close());
  store.begin();
  // 150 rows: two full statements of 64 and 22 rows waiting.
  for (let i = 0; i < 150; i++) store.upsert(row(`d/f${String(i).padStart(3, '0')}`, i));
  store.upsert(row('d/f000', 7, '00000000000000ff'));
  const first = store.get(Buffer.from('d/f000'));
  assert.deepEqual([first?.sizeBytes, first?.hash], [7, '00000000000000ff']);
  store.upsert(row('d/f149', 3));
  assert.equal(dirSummary(store, Buffer.from('d')).files, 150);
  store.upsert(row('e/x'));
  store.removeFile(Buffer.from('e/x'));
  store.upsert(row('g/a/b'));
  store.removeTree(Buffer.from('g'));
  store.upsert(row('d/late', 9));
  store.commit();
  // Sizes 0..149 (sum 11,175), then f000 0 -> 7, f149 149 -> 3, and d/late 9.
  assert.deepEqual(store.count(), { files: 151, bytes: 11_175 + 7 - 149 + 3 + 9 });
  assert.equal(store.get(Buffer.from('e/x')), undefined);
  assert.equal(store.get(Buffer.from('g/a/b')), undefined);
  assert.equal(store.listDir(Buffer.from('d')).length, 151);
});

test('a rollback drops the waiting upserts; outside a transaction an upsert is written at once', (t) => {
  const dir = tempDir(t);
  const store = ManifestStore.open(dir, { create: true });
  store.begin();
  for (let i = 0; i < 70; i++) store.upsert(row(`r/f${i}`));
  store.rollback();
  assert.deepEqual(store.count(), { files: 0, bytes: 0 });
  store.upsert(row('a/kept', 4));
  store.close();
  const again = ManifestStore.open(dir);
  t.after(() => again.close());
  assert.deepEqual(again.count(), { files: 1, bytes: 4 });
});

test('transaction(fn) writes the rows fn left waiting before it commits, and drops them when fn throws', (t) => {
  const dir = tempDir(t);
  const store = ManifestStore.open(dir, { create: true });
  t.after(() => store.close());
  store.transaction(() => {
    for (let i = 0; i < 10; i++) store.upsert(row(`t/f${i}`));
  });
  assert.throws(() => store.transaction(() => {
    for (let i = 0; i < 10; i++) store.upsert(row(`u/f${i}`));
    throw new Error('stop');
  }), /stop/);
  store.upsert(row('v/after'));
  assert.deepEqual(store.count(), { files: 11, bytes: 11 });
  assert.equal(store.listDir(Buffer.from('u')).length, 0);
});
