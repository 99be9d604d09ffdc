// src/scrub/ledger.ts on a real manifest: what each page's outcomes become in the rows, whether the
// page is stamped as one key range (verify) or row by row (scrub, a partial flush, a range that no
// longer holds exactly the rows checked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestStore } from '../src/manifest/store.js';
import { pageByPath, type KeyedRow } from '../src/manifest/queries.js';
import { Ledger, type Outcome } from '../src/scrub/ledger.js';
import { tempDir } from './helpers/tmp.js';

const AT = 1_800_000_000_000;
const NAMES = ['a/1', 'a/2', 'a/3', 'b/1', 'b/2', 'c/1'];

function manifest(t: Parameters<typeof tempDir>[0]): ManifestStore {
  const store = ManifestStore.open(tempDir(t), { create: true });
  t.after(() => store.close());
  for (const name of NAMES) store.upsert({ path: Buffer.from(name), sizeBytes: 1, mtimeNs: 5n, hash: '0123456789abcdef', hashedAtMs: 1 });
  return store;
}

function stamps(store: ManifestStore): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['a/0', ...NAMES]) {
    const r = store.get(Buffer.from(name));
    if (r) out[name] = r.verifiedAtMs === null ? 'never' : `${r.verifyStatus}@${r.verifiedAtMs - AT}`;
  }
  return out;
}

/** Checks every row of one page with the outcome `outcomeOf(name)` gives (default ok). */
function checkPage(ledger: Ledger, rows: KeyedRow[], outcomeOf: (name: string) => Outcome = () => ({ status: 'ok' })) {
  const page = ledger.openPage();
  for (const row of rows) {
    page.rows.push(row);
    ledger.record(page, row, outcomeOf(row.path.toString()));
  }
  page.closed = true;
  return page;
}

for (const keyRanges of [true, false]) {
  test(`${keyRanges ? 'verify (key ranges)' : 'scrub (row by row)'}: ok, corrupt, missing and repaired rows are stamped with their outcome`, (t) => {
    const store = manifest(t);
    const ledger = new Ledger(store, keyRanges);
    const outcomes: Record<string, Outcome> = {
      'a/2': { status: 'corrupt' },
      'b/1': { status: 'missing' },
      'b/2': { status: 'repaired', repaired: { sizeBytes: 7, mtimeNs: 9n, hash: 'fedcba9876543210' } },
    };
    checkPage(ledger, pageByPath(store, null, 4), (n) => outcomes[n] ?? { status: 'ok' });
    checkPage(ledger, pageByPath(store, { dir: Buffer.from('b'), name: Buffer.from('1') }, 4), (n) => outcomes[n] ?? { status: 'ok' });
    ledger.flush(AT + 1);
    assert.deepEqual(stamps(store), { 'a/1': 'ok@1', 'a/2': 'corrupt@1', 'a/3': 'ok@1', 'b/1': 'missing@1', 'b/2': 'repaired@1', 'c/1': 'ok@1' });
    const repaired = store.get(Buffer.from('b/2'));
    assert.deepEqual(repaired && [repaired.sizeBytes, repaired.mtimeNs, repaired.hash, repaired.hashedAtMs], [7, 9n, 'fedcba9876543210', AT + 1]);
  });
}

test('a page is written only once closed and every row has its outcome', (t) => {
  const store = manifest(t);
  const ledger = new Ledger(store, true);
  const rows = pageByPath(store, null, 3);
  const page = ledger.openPage();
  for (const row of rows) page.rows.push(row);
  ledger.record(page, rows[0] as KeyedRow, { status: 'ok' });
  ledger.record(page, rows[2] as KeyedRow, { status: 'ok' });
  ledger.flush(AT + 1);
  page.closed = true;
  ledger.flush(AT + 2);
  assert.deepEqual(stamps(store), { 'a/1': 'never', 'a/2': 'never', 'a/3': 'never', 'b/1': 'never', 'b/2': 'never', 'c/1': 'never' }, 'one row still out');
  ledger.record(page, rows[1] as KeyedRow, { status: 'corrupt' });
  ledger.flush(AT + 3);
  assert.deepEqual(stamps(store), { 'a/1': 'ok@3', 'a/2': 'corrupt@3', 'a/3': 'ok@3', 'b/1': 'never', 'b/2': 'never', 'c/1': 'never' });
});

test('a row that appeared inside the range since the page was read is not stamped: the page goes row by row', (t) => {
  const store = manifest(t);
  const ledger = new Ledger(store, true);
  const rows = pageByPath(store, null, 6).filter((r) => r.path.toString() !== 'a/1');
  checkPage(ledger, rows);
  store.upsert({ path: Buffer.from('a/2x'), sizeBytes: 1, mtimeNs: 5n, hash: '0123456789abcdef', hashedAtMs: 1 });
  ledger.flush(AT + 1);
  assert.deepEqual(stamps(store), { 'a/1': 'never', 'a/2': 'ok@1', 'a/3': 'ok@1', 'b/1': 'ok@1', 'b/2': 'ok@1', 'c/1': 'ok@1' });
  assert.equal(store.get(Buffer.from('a/2x'))?.verifiedAtMs, null, 'the row nobody checked');
});

test('a partial flush writes what is known; the rest of the page is then stamped row by row, never over it', (t) => {
  const store = manifest(t);
  const ledger = new Ledger(store, true);
  const rows = pageByPath(store, null, 6);
  const page = ledger.openPage();
  for (const row of rows) page.rows.push(row);
  page.closed = true;
  ledger.record(page, rows[1] as KeyedRow, { status: 'corrupt' });
  ledger.record(page, rows[0] as KeyedRow, { status: 'ok' });
  ledger.flush(AT + 1, true);
  assert.deepEqual(stamps(store), { 'a/1': 'ok@1', 'a/2': 'corrupt@1', 'a/3': 'never', 'b/1': 'never', 'b/2': 'never', 'c/1': 'never' });
  for (const row of rows.slice(2)) ledger.record(page, row, { status: 'ok' });
  ledger.flush(AT + 2);
  assert.deepEqual(stamps(store), { 'a/1': 'ok@1', 'a/2': 'corrupt@1', 'a/3': 'ok@2', 'b/1': 'ok@2', 'b/2': 'ok@2', 'c/1': 'ok@2' });
});
