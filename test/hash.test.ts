// hashFileSync (src/engine/hash.ts): small files are read in one native call (hlfs.readSmall), bigger
// ones streamed. Both must give xxhsum's XXH64 of the bytes, the size and mtime, and refuse what is
// not a regular file without blocking or following it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { hashBytes, hashFileSync, hashFilesAsync, ioBuffer, IO_CHUNK_BYTES } from '../src/engine/hash.js';
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

// native/xxh64.c against xxhsum, the independent reference: every length XXH64 treats differently
// (the tail of 1, 4 and 8 bytes, the 32-byte stripes), in one piece and streamed in 64 KiB reads
// with a tail (hashFileSync; the copies stream through the same XXH64 state code).
test('hashBytes and the streamed file hash give xxhsum -H1 for every tail length', (t) => {
  const dir = tempDir(t);
  const sizes = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000, 100_003, IO_CHUNK_BYTES * 2 + 29];
  const files = sizes.map((size) => {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 131 + size) & 0xff;
    const file = path.join(dir, `f${size}`);
    fs.writeFileSync(file, data);
    return { file, data };
  });
  const lines = execFileSync('xxhsum', ['-H1', ...files.map((f) => f.file)], { encoding: 'utf8' }).trim().split('\n');
  files.forEach(({ file, data }, k) => {
    const expected = (lines[k] as string).split(' ')[0];
    assert.equal(hashBytes(data), expected, `${data.length} bytes`);
    const streamed = hashFileSync(Buffer.from(file), ioBuffer());
    assert.equal(streamed.ok && streamed.hash, expected, `${data.length} bytes read from the file`);
  });
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

test('hashFilesAsync: the same hashes and sizes as hashFileSync, and the same refusals, in one job', async (t) => {
  const dir = tempDir(t);
  const file = (name: string, size: number) => {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 13 + size) & 0xff;
    fs.writeFileSync(path.join(dir, name), data);
    return Buffer.from(path.join(dir, name));
  };
  const files = [file('empty', 0), file('small', 100), file('chunk', IO_CHUNK_BYTES), file('big', IO_CHUNK_BYTES * 5 + 7), file('odd \n name', 3)];
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  fs.symlinkSync('small', path.join(dir, 'link'));
  const bad = ['fifo', 'link', 'nope', '.'].map((n) => Buffer.from(path.join(dir, n)));
  const got = await hashFilesAsync([...files, ...bad]);
  assert.deepEqual(
    got.slice(0, files.length),
    files.map((f) => {
      const r = hashFileSync(f, ioBuffer());
      return r.ok && { ok: true, hash: r.hash, sizeBytes: r.sizeBytes };
    }),
  );
  assert.deepEqual(got.slice(files.length).map((r) => !r.ok && r.code), ['ENOTREG', 'ELOOP', 'ENOENT', 'ENOTREG']);
  assert.deepEqual(await hashFilesAsync([]), []);
  await assert.rejects(hashFilesAsync([Buffer.from('a\0b')]), /NUL/);
});
