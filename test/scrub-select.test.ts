import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBytes, parseDuration, parsePercent, sampleSize, stopBefore, type Percent } from '../src/scrub/select.js';
import { unsafeKeyReason, unsafePathReason } from '../src/scrub/safe-path.js';
import { decide, type BackupState, type SourceState } from '../src/scrub/verify.js';

function pct(text: string): Percent {
  const p = parsePercent(text);
  if ('error' in p) throw new Error(p.error);
  return p;
}

test('parsePercent is exact and refuses what is not in (0, 100]', () => {
  assert.deepEqual(pct('1'), { num: 1n, den: 1n });
  assert.deepEqual(pct('1.1'), { num: 11n, den: 10n });
  assert.deepEqual(pct('.5'), { num: 5n, den: 10n });
  assert.deepEqual(pct('1e-3'), { num: 1n, den: 1000n });
  assert.deepEqual(pct('100'), { num: 100n, den: 1n });
  for (const bad of ['0', '0.0', '100.01', '-1', 'abc', '', '1%', 'NaN', '1e3']) {
    assert.ok('error' in parsePercent(bad), `accepted ${bad}`);
  }
});

test('sampleSize is ceil(P % of rows), at least 1, never more than rows', () => {
  const cases: [number, string, number][] = [
    [0, '1', 0],
    [1, '1', 1],
    [99, '1', 1],
    [100, '1', 1],
    [101, '1', 2],
    [1000, '1', 10],
    [100, '1.1', 2], // 1.1 exactly: floating point would say 110.00000000000001 % -> 2 as well
    [1000, '1.1', 11], // floating point: ceil(1000 * 1.1 / 100) = ceil(11.000000000000002) = 12
    [10, '10', 1],
    [11, '10', 2],
    [7, '100', 7],
    [3, '0.001', 1],
    [1_000_000, '1', 10_000],
    [1_000_001, '1', 10_001],
  ];
  for (const [rows, p, want] of cases) assert.equal(sampleSize(rows, pct(p)), want, `${p} % of ${rows}`);
});

test('ceil(100 / P) runs of sampleSize cover every row, for many P and row counts', () => {
  for (const p of ['1', '0.5', '3', '7', '10', '12.5', '33', '33.4', '50', '99', '100']) {
    const percent = pct(p);
    const runs = Math.ceil(100 / Number(p));
    for (const rows of [1, 2, 9, 10, 99, 100, 101, 997, 10_000, 123_457]) {
      assert.ok(runs * sampleSize(rows, percent) >= rows, `${p} % of ${rows} in ${runs} runs`);
    }
  }
});

test('stopBefore: count, then byte and time budgets, never before the first file', () => {
  const b = { maxFiles: 5, maxBytes: 100, maxDurationMs: 1000 };
  assert.equal(stopBefore(b, { filesDone: 0, bytesDone: 0, elapsedMs: 5000 }, 10_000), null, 'first file always');
  assert.equal(stopBefore(b, { filesDone: 5, bytesDone: 0, elapsedMs: 0 }, 1), 'count');
  assert.equal(stopBefore(b, { filesDone: 1, bytesDone: 60, elapsedMs: 0 }, 40), null, 'exactly fits');
  assert.equal(stopBefore(b, { filesDone: 1, bytesDone: 60, elapsedMs: 0 }, 41), 'bytes');
  assert.equal(stopBefore(b, { filesDone: 1, bytesDone: 0, elapsedMs: 1000 }, 1), 'time');
  assert.equal(stopBefore({ maxFiles: 5, maxBytes: null, maxDurationMs: null }, { filesDone: 4, bytesDone: 1e12, elapsedMs: 1e9 }, 1e12), null);
});

test('parseBytes and parseDuration', () => {
  assert.equal(parseBytes('4096'), 4096);
  assert.equal(parseBytes('500M'), 500 * 1024 ** 2);
  assert.equal(parseBytes('2GiB'), 2 * 1024 ** 3);
  assert.equal(parseBytes('1.5t'), 1.5 * 1024 ** 4);
  assert.ok(typeof parseBytes('lots') === 'object');
  assert.ok(typeof parseBytes('0') === 'object');
  assert.equal(parseDuration('90'), 90_000);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('500ms'), 500);
  for (const bad of ['', 'h', '1x', '1h 30m', '0s']) assert.ok(typeof parseDuration(bad) === 'object', `accepted '${bad}'`);
});

test('unsafe manifest paths and keys are refused', () => {
  const b = (s: string) => Buffer.from(s);
  assert.equal(unsafePathReason(b('photos/2024/a.jpg')), null);
  assert.equal(unsafePathReason(b('..hidden/a..b/...')), null);
  assert.equal(unsafePathReason(Buffer.from([0xff, 0x2f, 0x61])), null);
  for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a/..', './a', 'a/./b', 'a//b', 'a/', 'a\0b']) {
    assert.notEqual(unsafePathReason(b(bad)), null, `accepted ${JSON.stringify(bad)}`);
  }
  assert.equal(unsafeKeyReason(b(''), b('top')), null);
  assert.equal(unsafeKeyReason(b('a/b'), b('c')), null);
  assert.notEqual(unsafeKeyReason(b('a'), b('b/c')), null);
  assert.notEqual(unsafeKeyReason(b('a/'), b('c')), null);
  assert.notEqual(unsafeKeyReason(b(''), b('..')), null);
  assert.notEqual(unsafeKeyReason(b('/abs'), b('x')), null);
  assert.notEqual(unsafeKeyReason(b('a'), b('')), null);
});

test('decide: backup state x source state', () => {
  const ok: BackupState = { kind: 'ok' };
  const bad: BackupState = { kind: 'corrupt', reason: 'hash differs', repairable: true };
  const blocked: BackupState = { kind: 'corrupt', reason: 'parent is a symlink', repairable: false };
  const gone: BackupState = { kind: 'missing', reason: 'gone', repairable: true };
  const good = { kind: 'good', stat: {}, full: Buffer.from('x') } as unknown as SourceState;
  const rot: SourceState = { kind: 'rot', hash: '0000000000000000' };
  const changed: SourceState = { kind: 'changed', reason: 'size' };
  const none: SourceState = { kind: 'none' };
  const table: [BackupState, SourceState, string][] = [
    [ok, none, 'ok'],
    [ok, good, 'ok'],
    [ok, changed, 'ok'],
    [ok, rot, 'source-rot'],
    [bad, good, 'repair'],
    [gone, good, 'repair'],
    [blocked, good, 'corrupt'],
    [bad, rot, 'corrupt'],
    [bad, changed, 'corrupt'],
    [bad, none, 'corrupt'],
    [gone, none, 'missing'],
    [{ kind: 'unsafe', reason: '..' }, good, 'corrupt'],
  ];
  for (const [b, s, want] of table) {
    const d = decide(b, s);
    assert.equal(d.action === 'repair' ? 'repair' : d.status, want, `${b.kind} x ${s.kind}`);
  }
  const rotDecision = decide(ok, rot);
  assert.ok(rotDecision.action === 'record' && /last good copy/.test(rotDecision.status === 'ok' ? '' : rotDecision.detail));
});
