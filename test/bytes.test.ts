import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayPath, joinPath, splitPath } from '../src/engine/bytes.js';

test('displayPath escapes what could forge a log line, losslessly', () => {
  const cases: [Buffer, string][] = [
    [Buffer.from('photos/2024/a.jpg'), 'photos/2024/a.jpg'],
    [Buffer.from('caf\u00e9'), 'caf\u00e9'],
    [Buffer.from('a\nb\tc'), 'a\\x0ab\\x09c'],
    [Buffer.from([0x66, 0xff, 0x66]), 'f\\xfff'],
    [Buffer.from('back\\slash'), 'back\\\\slash'],
    [Buffer.from('\u001b[31mred'), '\\x1b[31mred'],
    [Buffer.from([0xc3]), '\\xc3'],
    [Buffer.from('x\u202ey'), 'x\\xe2\\x80\\xaey'],
  ];
  for (const [input, want] of cases) assert.equal(displayPath(input), want, `for ${input.toString('hex')}`);
});

test('joinPath and splitPath work on bytes', () => {
  assert.deepEqual(joinPath(Buffer.from('a'), Buffer.from([0xff])), Buffer.from([0x61, 0x2f, 0xff]));
  assert.deepEqual(joinPath(Buffer.alloc(0), Buffer.from('b')), Buffer.from('b'));
  const { dir, name } = splitPath(Buffer.from('a/b/c'));
  assert.equal(dir.toString(), 'a/b');
  assert.equal(name.toString(), 'c');
  assert.equal(splitPath(Buffer.from('top')).dir.length, 0);
});
