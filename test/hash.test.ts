// hashFileSync (src/engine/hash.ts): small files are read in one native call (hlfs.readSmall), bigger
// ones streamed. Both must give xxhsum's XXH64 of the bytes, the size and mtime, and refuse what is
// not a regular file without blocking or following it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { hashBytes, hashFileSync, ioBuffer, IO_CHUNK_BYTES } from '../src/engine/hash.js';
import { tempDir } from './helpers/tmp.js';

for (const sizeBytes of [0, 1, IO_CHUNK_BYTES - 1, IO_CHUNK_BYTES, IO_CHUNK_BYTES * 3 + 5]) {
  test(`a file of ${sizeBytes} bytes hashes like hashBytes, with its size and mtime`, (t) => {
    const file = path.join(tempDir(t), 'f');
    const data = Buffer.alloc(sizeBytes);
    for (let i = 0; i < sizeBytes; i++) data[i] = (i * 7 + 3) & 0xff;
    fs.writeFileSync(file, data);
    const r = hashFileSync(Buffer.from(file), ioBuffer());
    assert.deepEqual(r, { ok: true, hash: hashBytes(data), sizeBytes, mtimeNs: fs.statSync(file, { bigint: true }).mtimeNs });
  });
}

test('xxhsum agrees on a small and a streamed file', (t) => {
  const dir = tempDir(t);
  for (const [name, size] of [['small', 1000], ['big', IO_CHUNK_BYTES * 2 + 1]] as const) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, Buffer.alloc(size, name));
    const r = hashFileSync(Buffer.from(file), ioBuffer());
    const expected = execFileSync('xxhsum', ['-H1', file], { encoding: 'utf8' }).split(' ')[0];
    assert.equal(r.ok && r.hash, expected);
  }
});

test('a fifo is refused at once (never blocks), a symlink is not followed, a missing file is ENOENT', (t) => {
  const dir = tempDir(t);
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  assert.deepEqual(hashFileSync(Buffer.from(fifo), ioBuffer()), { ok: false, code: 'ENOTREG', error: 'not a regular file' });
  fs.writeFileSync(path.join(dir, 'target'), 'x');
  fs.symlinkSync('target', path.join(dir, 'link'));
  const link = hashFileSync(Buffer.from(path.join(dir, 'link')), ioBuffer());
  assert.equal(!link.ok && link.code, 'ELOOP');
  const missing = hashFileSync(Buffer.from(path.join(dir, 'nope')), ioBuffer());
  assert.deepEqual(missing, { ok: false, code: 'ENOENT', error: 'ENOENT (open)' });
});
