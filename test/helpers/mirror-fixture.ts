// A small backup disk built by hand (no engine): a mirror tree with odd names, modes, ns mtimes,
// symlinks, a fifo and (as root) owners, plus the manifest rows the engine would have written.
// Restore tests run against it so they do not depend on the mirror engine.
import fs from 'node:fs';
import path from 'node:path';
import { joinPath } from '../../src/engine/bytes.js';
import { hashFileSync } from '../../src/engine/hash.js';
import { hlfs } from '../../src/native/hlfs.js';
import { ManifestStore } from '../../src/manifest/store.js';
import { isRoot } from './tmp.js';

export const ODD_NAME = Buffer.concat([Buffer.from('new\nline\x1b[31m'), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]);

export interface Fixture {
  disk: string;
  /** <disk>/bare: the mirror root. */
  mirror: string;
  /** Regular files relative to the mirror root. */
  files: Buffer[];
}

const b = (s: string) => Buffer.from(s);

/** Builds <disk>/bare with a manifest at <disk>/.home-lab/manifest.db (rows prefixed 'bare/'). */
export function buildMirror(disk: string, options: { extraFiles?: number } = {}): Fixture {
  const mirror = path.join(disk, 'bare');
  const m = b(mirror);
  const files: Buffer[] = [];
  const file = (rel: Buffer, content: Buffer | string, mode = 0o644, mtimeNs = 1_500_000_000_123_456_789n) => {
    const p = joinPath(m, rel);
    fs.writeFileSync(p, content);
    fs.chmodSync(p, mode);
    if (isRoot) fs.chownSync(p, 1234, 5678);
    hlfs.utimensat(p, mtimeNs, mtimeNs, true);
    files.push(rel);
  };
  fs.mkdirSync(path.join(mirror, 'photos/2024'), { recursive: true });
  fs.mkdirSync(path.join(mirror, 'docs/ro'), { recursive: true });
  file(b('top.txt'), 'top level\n');
  file(b('photos/2024/a.jpg'), Buffer.alloc(200_000, 7), 0o600, -1_000_000_001n); // before 1970
  file(b('photos/2024/b.jpg'), 'b', 0o640, 4_102_444_800_999_999_999n); // after 2100
  file(b('photos/empty'), '');
  file(joinPath(b('docs'), ODD_NAME), 'odd name\n');
  file(b('docs/setuid-tool'), '#!/bin/sh\n', 0o4755);
  file(b('docs/ro/readonly.txt'), 'ro', 0o444);
  for (let i = 0; i < (options.extraFiles ?? 0); i++) file(b(`photos/2024/x${String(i).padStart(3, '0')}`), `extra ${i}\n`);
  fs.mkdirSync(path.join(mirror, 'empty-dir'));
  fs.symlinkSync('2024/a.jpg', path.join(mirror, 'photos/link-rel'));
  fs.symlinkSync('/etc/passwd', path.join(mirror, 'docs/link-abs'));
  hlfs.utimensat(b(path.join(mirror, 'docs/link-abs')), 1_000_000_000_000_000_001n, 1_000_000_000_000_000_001n, true);
  hlfs.mknod(b(path.join(mirror, 'docs/fifo')), 0o010640, 0n);
  fs.chmodSync(path.join(mirror, 'docs/ro'), 0o555);
  fs.chmodSync(path.join(mirror, 'photos'), 0o750);
  for (const [dir, ns] of [['docs/ro', 1_600_000_000_000_000_007n], ['photos/2024', 1_600_000_000_000_000_008n], ['photos', 1_600_000_000_000_000_009n], ['docs', 1_600_000_000_000_000_010n], ['empty-dir', 1_600_000_000_000_000_011n]] as const) {
    hlfs.utimensat(b(path.join(mirror, dir)), ns, ns, true);
  }
  writeManifest(disk, 'bare', files);
  return { disk, mirror, files };
}

/** Hashes the files as they are now and records them (as the engine would after a mirror). */
export function writeManifest(disk: string, prefix: string, files: Buffer[]): void {
  const store = ManifestStore.open(disk, { create: true });
  const buffer = Buffer.allocUnsafe(1 << 20);
  try {
    store.transaction(() => {
      for (const rel of files) {
        const full = prefix ? joinPath(b(prefix), rel) : rel;
        const h = hashFileSync(joinPath(b(disk), full), buffer);
        if (!h.ok) throw new Error(h.error);
        store.upsert({ path: full, sizeBytes: h.sizeBytes, mtimeNs: h.mtimeNs, hash: h.hash, hashedAtMs: 1 });
      }
    });
  } finally {
    store.close();
  }
}

/** Flips one byte in place, keeping size and mtime (bit rot). */
export function rot(file: Buffer | string, offset = 0): void {
  const st = fs.lstatSync(file, { bigint: true });
  const fd = fs.openSync(file, 'r+');
  const one = Buffer.alloc(1);
  fs.readSync(fd, one, 0, 1, offset);
  one[0] = (one[0] as number) ^ 0xff;
  fs.writeSync(fd, one, 0, 1, offset);
  fs.closeSync(fd);
  hlfs.utimensat(toBuf(file), st.atimeNs, st.mtimeNs, true);
}

function toBuf(p: Buffer | string): Buffer {
  return typeof p === 'string' ? Buffer.from(p) : p;
}

/** Every attribute restore must keep, for comparing two trees entry by entry. */
export function describeTree(root: string, skipTop: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: Buffer) => {
    const full = joinPath(b(root), rel);
    const st = fs.lstatSync(full, { bigint: true });
    const type = st.isFile() ? 'f' : st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFIFO() ? 'p' : 'o';
    // A symlink's own mode is always 0777 on Linux: not compared.
    let detail = type === 'l' ? `l mtime=${st.mtimeNs}` : `${type} mode=${(st.mode & 0o7777n).toString(8)} mtime=${st.mtimeNs}`;
    if (isRoot) detail += ` owner=${st.uid}:${st.gid}`;
    if (type === 'f') detail += ` size=${st.size} content=${fs.readFileSync(full).toString('base64').slice(0, 40)}`;
    if (type === 'l') detail += ` -> ${fs.readlinkSync(full, { encoding: 'buffer' }).toString('hex')}`;
    if (rel.length > 0) out.set(rel.toString('hex'), detail);
    if (type === 'd') {
      for (const name of fs.readdirSync(full, { encoding: 'buffer' })) {
        if (rel.length === 0 && skipTop.includes(name.toString())) continue;
        walk(joinPath(rel, name));
      }
    }
  };
  walk(Buffer.alloc(0));
  return out;
}
