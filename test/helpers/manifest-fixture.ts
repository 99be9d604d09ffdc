// Test trees with a manifest, built without the mirror engine: write files, hash them with the
// engine's hashFileSync and upsert the rows, as a mirror would have.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { splitPath } from '../../src/engine/bytes.js';
import { hashFileSync } from '../../src/engine/hash.js';
import { ManifestStore } from '../../src/manifest/store.js';
import { hlfs } from '../../src/native/hlfs.js';

export type FileSpec = [relPath: string | Buffer, content: string | Buffer];

/** Writes files under root (creating parents) with a fixed mtime each, so source and copy agree. */
export function writeTree(root: string, files: FileSpec[], mtimeNs = 1_700_000_000_123_456_789n): void {
  fs.mkdirSync(root, { recursive: true });
  for (const [rel, content] of files) {
    const abs = Buffer.concat([Buffer.from(root + '/'), Buffer.from(rel)]);
    fs.mkdirSync(splitPath(abs).dir, { recursive: true });
    fs.writeFileSync(abs, content);
    hlfs.utimensat(abs, mtimeNs, mtimeNs, true);
  }
}

/** Creates root/.home-lab/manifest.db and records every file listed, hashed from disk. */
export function manifestFor(root: string, files: (string | Buffer)[], hashedAtMs = 1_700_000_000_000): void {
  const store = ManifestStore.open(root, { create: true });
  const buffer = Buffer.alloc(1024 * 1024);
  try {
    store.transaction(() => {
      for (const rel of files) {
        const p = Buffer.from(rel);
        const h = hashFileSync(Buffer.concat([Buffer.from(root + '/'), p]), buffer);
        if (!h.ok) throw new Error(`fixture: cannot hash ${String(rel)}: ${h.error}`);
        store.upsert({ path: p, sizeBytes: h.sizeBytes, mtimeNs: h.mtimeNs, hash: h.hash, hashedAtMs });
      }
    });
  } finally {
    store.close();
  }
}

/** Flips one byte in place and puts atime and mtime back to the nanosecond: a quick check sees nothing. */
/** A source and a backup with the same files, and the backup's manifest for them. */
export function backupFixture(t: TestContext, spec: FileSpec[]): { dir: string; backup: string; source: string } {
  const dir = fastTempDir(t);
  const backup = path.join(dir, 'backup');
  const source = path.join(dir, 'source');
  writeTree(source, spec);
  writeTree(backup, spec);
  manifestFor(backup, spec.map(([p]) => p));
  return { dir, backup, source };
}

export function flipByte(file: string | Buffer, at = 0): void {
  const st = fs.lstatSync(file, { bigint: true });
  const fd = fs.openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] = (b[0] as number) ^ 0x5a;
    fs.writeSync(fd, b, 0, 1, at);
  } finally {
    fs.closeSync(fd);
  }
  hlfs.utimensat(Buffer.from(file), st.atimeNs, st.mtimeNs, true);
  const after = fs.lstatSync(file, { bigint: true });
  if (after.mtimeNs !== st.mtimeNs || after.size !== st.size) throw new Error('fixture: flipByte changed size or mtime');
}

/** Reads every row (small test manifests only). */
export function rowsOf(root: string) {
  const store = ManifestStore.open(root);
  try {
    return [...store.iterate()];
  } finally {
    store.close();
  }
}

/**
 * A temp dir on tmpfs when there is one: each scrub commits with synchronous=FULL, and hundreds of
 * fsyncs on a real disk would make the rotation tests take minutes instead of seconds.
 */
export function fastTempDir(t: TestContext): string {
  let base = os.tmpdir();
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    base = '/dev/shm';
  } catch {
    // no tmpfs: the system temp dir works, only slower
  }
  const dir = fs.mkdtempSync(path.join(base, 'home-lab-scrub-'));
  t.after(() => {
    if (process.env.HOME_LAB_KEEP_TMP !== '1') fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
