// The name-set fingerprint verify compares a directory's rows with its files by.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addName, emptyNameSet, sameNames } from '../src/scrub/name-set.js';

const setOf = (names: (string | number[])[]) => {
  const s = emptyNameSet();
  for (const n of names) addName(s, typeof n === 'string' ? Buffer.from(n) : Buffer.from(n));
  return s;
};

test('sameNames: the same names in any order match; a changed, added or removed name does not', () => {
  const base = ['a', 'b.jpg', 'IMG_0001.JPG', 'ü', 'x y'];
  assert.ok(sameNames(setOf(base), setOf([...base].reverse())));
  assert.ok(sameNames(setOf([]), emptyNameSet()));
  const cases: (string | number[])[][] = [
    ['a', 'b.jpg', 'IMG_0001.JPG', 'ü', 'x z'], // one byte differs
    ['a', 'b.jpg', 'IMG_0001.JPG', 'ü'], // one fewer
    [...base, 'new'], // one more
    ['ab', '.jpg', 'IMG_0001.JPG', 'ü', 'x y'], // bytes moved between names
    ['a', 'b.jpg', 'IMG_0001.JPG', [0xc3, 0xbc, 0x00], 'x y'], // a trailing NUL-like byte
    ['a', 'a', 'IMG_0001.JPG', 'ü', 'x y'], // a duplicate for another name
  ];
  for (const names of cases) assert.ok(!sameNames(setOf(base), setOf(names)), JSON.stringify(names));
});

test('sameNames: no two of 20,000 generated directory sets of 1-3 names collide', () => {
  const seen = new Map<string, string>();
  for (let i = 0; i < 20_000; i++) {
    const names = Array.from({ length: 1 + (i % 3) }, (_, k) => `f${(i * 7 + k * 13) % 50_000}.jpg`);
    const s = setOf(names);
    const key = `${s.count}:${s.sumA}:${s.sumB}`;
    const sorted = [...names].sort().join('/');
    const before = seen.get(key);
    assert.ok(before === undefined || before === sorted, `${before} and ${sorted} collide`);
    seen.set(key, sorted);
  }
});
