// formatCount prints whole numbers as toLocaleString('en-US') does, without loading ICU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCount } from '../src/units.js';

test('formatCount: the same text as toLocaleString("en-US") for whole numbers', () => {
  const values = [0, 1, 12, 999, 1000, 1001, 12_345, 999_999, 1_000_000, 123_456_789, -1, -1234, -1_000_000, Number.MAX_SAFE_INTEGER];
  for (let n = 1; n < 1e15; n = n * 7 + 3) values.push(n);
  for (const n of values) assert.equal(formatCount(n), n.toLocaleString('en-US'), String(n));
});
