// Pure parts of the trash: layout, safe relative paths, retention selection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dayNumber, isTrashDay, trashDayOf, trashPathFor } from '../src/trash/layout.js';
import { expiredTrashDays, selectTrashDaysToPrune, trashDaysForSpace } from '../src/trash/retention.js';
import { normalizeRelativePath, unsafeRelativePath } from '../src/trash/safe-path.js';

test('trashPathFor: <disk>/.home-lab/trash/<date>/<relative path>, bytes kept', () => {
  const rel = Buffer.concat([Buffer.from('bare/photos/'), Buffer.from([0xff, 0x0a]), Buffer.from('.jpg')]);
  const p = trashPathFor('/mnt/backup', '2024-06-30', rel);
  assert.deepEqual(p, Buffer.concat([Buffer.from('/mnt/backup/.home-lab/trash/2024-06-30/'), rel]));
  assert.equal(trashPathFor('/mnt/backup/', '2024-06-30', Buffer.from('a')).toString(), '/mnt/backup/.home-lab/trash/2024-06-30/a');
});

test('trashPathFor refuses what could escape the trash', () => {
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', '', 'a\0b', '..']) {
    assert.throws(() => trashPathFor('/mnt/b', '2024-06-30', Buffer.from(bad)), /unsafe relative path/, JSON.stringify(bad));
  }
  for (const bad of ['2024-6-30', '2024-02-30', '../2024-06-30', 'x']) {
    assert.throws(() => trashPathFor('/mnt/b', bad, Buffer.from('a')), /not a trash day/, bad);
  }
});

test('unsafeRelativePath and normalizeRelativePath: table', () => {
  const cases: [string | Buffer, string | null, string | null][] = [
    // input, problem, normalized (null when refused)
    ['a/b', null, 'a/b'],
    ['a//b/./c/', null, 'a/b/c'],
    ['./a', null, 'a'],
    ['.', null, ''],
    ['..a/b..', null, '..a/b..'],
    ['...', null, '...'],
    ['a/..', "contains a '..' component", null],
    ['../x', "contains a '..' component", null],
    ['a/../../x', "contains a '..' component", null],
    ['/etc/passwd', 'absolute path (must be relative to the root)', null],
    ['//x', 'absolute path (must be relative to the root)', null],
    [Buffer.from([0x61, 0x00, 0x62]), 'contains a NUL byte', null],
    ['a\nb', null, 'a\nb'],
  ];
  for (const [input, problem, normalized] of cases) {
    const buf = Buffer.from(input);
    assert.equal(unsafeRelativePath(buf), problem, `problem of ${JSON.stringify(String(input))}`);
    const n = normalizeRelativePath(buf);
    if (normalized === null) assert.equal(n.ok, false, `normalize ${JSON.stringify(String(input))}`);
    else assert.deepEqual(n.ok && n.path.toString(), normalized, `normalize ${JSON.stringify(String(input))}`);
  }
  assert.equal(unsafeRelativePath(Buffer.alloc(0)), 'empty path');
});

test('trash days: only real calendar dates', () => {
  assert.equal(isTrashDay('2024-02-29'), true);
  assert.equal(isTrashDay('2023-02-29'), false);
  assert.equal(isTrashDay('2024-13-01'), false);
  assert.equal(isTrashDay('2024-06-30.tmp'), false);
  assert.equal(isTrashDay('lost+found'), false);
  assert.equal(dayNumber('1970-01-02'), 1);
  const noon = new Date(2024, 5, 30, 12).getTime();
  assert.equal(trashDayOf(noon), '2024-06-30');
});

test('expiredTrashDays: strictly older than keepDays, oldest first, non-dates never chosen', () => {
  const days = ['2024-06-30', '2024-05-31', 'junk', '2024-05-30', '2024-01-01', '2023-12-31', '2024-06-29'];
  assert.deepEqual(expiredTrashDays(days, '2024-06-30', 30), ['2023-12-31', '2024-01-01', '2024-05-30']);
  assert.deepEqual(expiredTrashDays(days, '2024-06-30', 0), ['2023-12-31', '2024-01-01', '2024-05-30', '2024-05-31', '2024-06-29']);
  assert.deepEqual(expiredTrashDays([], '2024-06-30', 30), []);
  // A day "in the future" (clock set back) is never expired.
  assert.deepEqual(expiredTrashDays(['2030-01-01'], '2024-06-30', 30), []);
});

test('trashDaysForSpace: oldest first until enough is free', () => {
  const days = [
    { date: '2024-06-03', sizeBytes: 300 },
    { date: '2024-06-01', sizeBytes: 100 },
    { date: '2024-06-02', sizeBytes: 200 },
  ];
  assert.deepEqual(trashDaysForSpace(days, 1000, 1000), { prune: [], stillShortBytes: 0 });
  assert.deepEqual(trashDaysForSpace(days, 950, 1000), { prune: ['2024-06-01'], stillShortBytes: 0 });
  assert.deepEqual(trashDaysForSpace(days, 850, 1000), { prune: ['2024-06-01', '2024-06-02'], stillShortBytes: 0 });
  assert.deepEqual(trashDaysForSpace(days, 0, 1000), { prune: ['2024-06-01', '2024-06-02', '2024-06-03'], stillShortBytes: 400 });
});

test('selectTrashDaysToPrune: expired first, then space, with reasons', () => {
  const days = [
    { date: '2024-06-30', sizeBytes: 10 },
    { date: '2024-06-20', sizeBytes: 10 },
    { date: '2024-06-10', sizeBytes: 10 },
    { date: '2024-05-01', sizeBytes: 50 },
  ];
  const base = { days, today: '2024-06-30', keepDays: 30 };
  assert.deepEqual(selectTrashDaysToPrune({ ...base, freeBytes: 100, minFreeBytes: 10 }).prune, [{ date: '2024-05-01', reason: 'expired' }]);
  // Freed 50 by the expired day: 20 + 50 = 70 < 85, so two more go.
  assert.deepEqual(selectTrashDaysToPrune({ ...base, freeBytes: 20, minFreeBytes: 85 }), {
    prune: [
      { date: '2024-05-01', reason: 'expired' },
      { date: '2024-06-10', reason: 'space' },
      { date: '2024-06-20', reason: 'space' },
    ],
    stillShortBytes: 0,
  });
  assert.equal(selectTrashDaysToPrune({ ...base, freeBytes: 0, minFreeBytes: 1000 }).stillShortBytes, 920);
});
