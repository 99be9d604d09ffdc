// Generates random source trees and messy destinations for the rsync differential tests: odd names
// (non-UTF-8, newlines, tabs, 255 bytes), every file type, random modes and owners (as root), mtimes
// before 1970 and after 2038 to the nanosecond, sizes from 0 to a few MiB, sparse files, hard links.
import fs from 'node:fs';
import { hlfs } from '../../src/native/hlfs.js';
import { joinPath } from '../../src/engine/bytes.js';
import { Random } from './random.js';

const isRoot = process.getuid?.() === 0;

const ODD_NAMES: Buffer[] = [
  Buffer.from('plain.txt'),
  Buffer.from('with space'),
  Buffer.from('new\nline'),
  Buffer.from('tab\there'),
  Buffer.from([0x6c, 0x61, 0x74, 0x69, 0x6e, 0xe9]), // latin-1 é: not UTF-8
  Buffer.from([0xff, 0xfe, 0x41]),
  Buffer.from('caf\u00e9-\u65e5\u672c'),
  Buffer.from('-leading-dash'),
  Buffer.from('star*and?[brackets]'),
  Buffer.from('back\\slash'),
  Buffer.from('.hidden'),
  Buffer.from('..double-dot-prefix'),
  Buffer.from('a'.repeat(255)),
  Buffer.from('\u001b[31mred'),
];

function randomName(r: Random, taken: Set<string>): Buffer {
  for (;;) {
    const name = r.chance(0.35) ? r.pick(ODD_NAMES) : Buffer.from(`n${r.int(0, 99999)}${r.pick(['', '.jpg', '.txt', '.db', '~'])}`);
    const key = name.toString('latin1');
    if (!taken.has(key)) {
      taken.add(key);
      return name;
    }
  }
}

/** A time in ns: before 1970, after 2038, or recent, with random nanoseconds. */
export function randomTimeNs(r: Random): bigint {
  const sec = r.pick([r.int(-2_000_000_000, -1), r.int(2_200_000_000, 4_000_000_000), r.int(1_500_000_000, 1_800_000_000)]);
  return BigInt(sec) * 1_000_000_000n + BigInt(r.int(0, 999_999_999));
}

function randomSize(r: Random): number {
  const roll = r.next();
  if (roll < 0.1) return 0;
  if (roll < 0.75) return r.int(1, 4096);
  if (roll < 0.95) return r.int(4097, 300_000);
  return r.int(1 << 20, 3 << 20);
}

interface DirTimes {
  path: Buffer;
  mtimeNs: bigint;
  perm: number;
  uid: number;
  gid: number;
}

export interface GenerateOptions {
  seed: number;
  /** Approximate number of entries. */
  entries: number;
}

/** Fills root (an existing empty dir) with a random tree. */
export function generateTree(root: string, options: GenerateOptions): void {
  const r = new Random(options.seed);
  const rootBuf = Buffer.from(root);
  const dirs: DirTimes[] = [];
  const files: Buffer[] = [];
  let budget = options.entries;

  const fill = (dir: Buffer, depth: number) => {
    const taken = new Set<string>();
    const n = depth === 0 ? Math.max(8, Math.floor(budget / 3)) : r.int(0, 8);
    for (let k = 0; k < n && budget > 0; k++) {
      budget--;
      const name = randomName(r, taken);
      const p = joinPath(dir, name);
      const roll = r.next();
      if (roll < 0.2 && depth < 4) {
        fs.mkdirSync(p);
        fill(p, depth + 1);
        dirs.push({ path: p, mtimeNs: randomTimeNs(r), perm: r.pick([0o755, 0o700, 0o555, 0o1777, 0o2775, 0o711]), uid: randomId(r), gid: randomId(r) });
      } else if (roll < 0.7) {
        writeRandomFile(r, p);
        files.push(p);
      } else if (roll < 0.78) {
        fs.symlinkSync(r.pick([Buffer.from('plain.txt'), Buffer.from('../x/y'), Buffer.from('/etc/hostname'), Buffer.from('dangling-target'), Buffer.from([0x62, 0xff])]), p);
        setTimesAndOwner(r, p, true);
      } else if (roll < 0.83 && files.length > 0) {
        fs.linkSync(r.pick(files), p); // a hard link: rsync -a (no -H) makes a separate file
      } else if (roll < 0.88) {
        hlfs.mknod(p, 0o010000 | r.pick([0o644, 0o600, 0o666]), 0n); // fifo
        setTimesAndOwner(r, p, false);
      } else if (roll < 0.92) {
        hlfs.mknod(p, 0o140000 | 0o755, 0n); // socket
        setTimesAndOwner(r, p, false);
      } else if (roll < 0.97 && isRoot) {
        const char = r.chance(0.5);
        const rdev = BigInt((r.int(1, 200) << 8) | r.int(0, 255));
        hlfs.mknod(p, (char ? 0o020000 : 0o060000) | 0o640, rdev);
        setTimesAndOwner(r, p, false);
      } else {
        fs.mkdirSync(p); // an empty directory
        dirs.push({ path: p, mtimeNs: randomTimeNs(r), perm: 0o755, uid: randomId(r), gid: randomId(r) });
      }
    }
  };
  fill(rootBuf, 0);
  // Directory attributes last (deepest first: children were pushed before parents), as their
  // contents change their mtimes.
  for (const d of dirs) {
    if (isRoot) fs.lchownSync(d.path, d.uid, d.gid);
    fs.chmodSync(d.path, d.perm);
    hlfs.utimensat(d.path, d.mtimeNs, d.mtimeNs, true);
  }
  hlfs.utimensat(rootBuf, randomTimeNs(r), randomTimeNs(r), true);
}

function randomId(r: Random): number {
  return isRoot ? r.pick([0, 1000, 65534, r.int(1, 60000)]) : (process.getuid?.() ?? 0);
}

function writeRandomFile(r: Random, p: Buffer): void {
  const size = randomSize(r);
  if (size > 200_000 && r.chance(0.4)) {
    // Sparse: a hole with a few bytes at the end.
    const fd = fs.openSync(p, 'w');
    fs.writeSync(fd, r.bytes(100), 0, 100, size - 100);
    fs.closeSync(fd);
  } else {
    const chunk = r.bytes(Math.min(size, 4096));
    const data = Buffer.alloc(size);
    for (let off = 0; off < size; off += chunk.length) chunk.copy(data, off);
    if (size >= 4) data.writeUInt32LE(r.int(0, 0xffffffff) >>> 0, size - 4);
    fs.writeFileSync(p, data);
  }
  fs.chmodSync(p, r.pick([0o644, 0o600, 0o755, 0o400, 0o000, 0o4755, 0o2755, 0o1644, 0o666]));
  setTimesAndOwner(r, p, false);
}

function setTimesAndOwner(r: Random, p: Buffer, symlink: boolean): void {
  if (isRoot) {
    fs.lchownSync(p, randomId(r), randomId(r));
    // chown clears setuid/setgid: restore the mode the generator chose
    if (!symlink) fs.chmodSync(p, fs.lstatSync(p).mode & 0o7777);
  }
  hlfs.utimensat(p, randomTimeNs(r), randomTimeNs(r), true);
}

/**
 * Makes a destination messy relative to a source: extra files and dirs, a dir where SRC has a file,
 * a symlink where SRC has a file or dir (pointing outside), a read-only stale copy, excluded junk,
 * a leftover temp file of a killed run.
 */
export function messUp(src: string, dst: string, seed: number, outside: string): void {
  const r = new Random(seed ^ 0x5eed);
  fs.mkdirSync(dst, { recursive: true });
  const dstBuf = Buffer.from(dst);
  const top = (fs.readdirSync(src, { encoding: 'buffer', withFileTypes: true }) as fs.Dirent<Buffer>[]).sort((a, b) => Buffer.compare(a.name, b.name));
  for (const d of top) {
    const p = joinPath(dstBuf, d.name);
    const roll = r.next();
    if (d.isFile() && roll < 0.15) {
      fs.mkdirSync(p);
      fs.writeFileSync(joinPath(p, Buffer.from('inside')), 'old');
    } else if (d.isFile() && roll < 0.3) {
      fs.symlinkSync(outside, p);
    } else if (d.isFile() && roll < 0.5) {
      fs.writeFileSync(p, 'stale content');
      fs.chmodSync(p, 0o444);
    } else if (d.isDirectory() && roll < 0.2) {
      fs.symlinkSync(outside, p); // writing through this would land outside DST
    }
  }
  fs.writeFileSync(joinPath(dstBuf, Buffer.from('extra-file')), 'extra');
  fs.mkdirSync(joinPath(dstBuf, Buffer.from('extra-dir/deeper')), { recursive: true });
  fs.writeFileSync(joinPath(dstBuf, Buffer.from('extra-dir/deeper/f')), 'x');
  fs.writeFileSync(joinPath(dstBuf, Buffer.from('junk.excluded')), 'kept: excluded');
  // An extra directory holding excluded junk: rsync keeps the junk and the directory around it.
  fs.mkdirSync(joinPath(dstBuf, Buffer.from('extra-with-junk/sub')), { recursive: true });
  fs.writeFileSync(joinPath(dstBuf, Buffer.from('extra-with-junk/sub/x.tmp-excluded')), 'kept');
  fs.writeFileSync(joinPath(dstBuf, Buffer.from('extra-with-junk/gone')), 'deleted');
  fs.writeFileSync(joinPath(dstBuf, Buffer.from('.home-lab.tmp.deadbeef0000')), 'half-written');
  // Fixed times, so two messy copies are identical where the mirror keeps them (excluded junk).
  for (const name of ['junk.excluded', 'extra-file', 'extra-dir/deeper/f', 'extra-dir/deeper', 'extra-dir', 'extra-with-junk/sub/x.tmp-excluded']) {
    hlfs.utimensat(joinPath(dstBuf, Buffer.from(name)), 1_000_000_000_123n, 1_000_000_000_123n, true);
  }
}

/**
 * A night's changes after a mirror: the source loses, gains and rewrites files and whole
 * directories (and gains excluded junk); each destination gets the same extras behind the tool's
 * back (a stray file to delete, excluded junk to keep). Deterministic from the seed.
 */
export function nightChanges(src: string, dsts: string[], seed: number): void {
  const r = new Random(seed ^ 0xa11);
  const srcBuf = Buffer.from(src);
  const files: Buffer[] = [];
  const dirs: Buffer[] = [Buffer.alloc(0)];
  const walk = (rel: Buffer) => {
    const abs = rel.length ? joinPath(srcBuf, rel) : srcBuf;
    const entries = (fs.readdirSync(abs, { encoding: 'buffer', withFileTypes: true }) as fs.Dirent<Buffer>[]).sort((a, b) => Buffer.compare(a.name, b.name));
    for (const d of entries) {
      const p = rel.length ? joinPath(rel, d.name) : d.name;
      if (d.isDirectory()) {
        dirs.push(p);
        walk(p);
      } else if (d.isFile()) files.push(p);
    }
  };
  walk(Buffer.alloc(0));
  const at = (rel: Buffer) => (rel.length ? joinPath(srcBuf, rel) : srcBuf);
  for (const f of files) {
    const roll = r.next();
    if (roll < 0.1) fs.rmSync(at(f));
    else if (roll < 0.2) {
      fs.writeFileSync(at(f), r.bytes(r.int(0, 3000)));
      hlfs.utimensat(at(f), randomTimeNs(r), randomTimeNs(r), true);
    }
  }
  let n = 0;
  const kept: Buffer[] = [];
  for (const d of dirs) {
    if (!fs.existsSync(at(d))) continue;
    const roll = r.next();
    if (d.length > 0 && roll < 0.04) {
      fs.rmSync(at(d), { recursive: true, force: true });
      continue;
    }
    if (roll < 0.3) fs.writeFileSync(joinPath(at(d), Buffer.from(`night-${n++}.dat`)), r.bytes(r.int(0, 5000)));
    if (roll > 0.9) {
      const sub = joinPath(at(d), Buffer.from(`night-dir-${n++}`));
      fs.mkdirSync(sub);
      fs.writeFileSync(joinPath(sub, Buffer.from('inside')), r.bytes(100));
    }
    if (roll > 0.5 && roll < 0.55) fs.writeFileSync(joinPath(at(d), Buffer.from('junk.excluded')), 'excluded: never copied');
    if (roll > 0.6 && roll < 0.7) kept.push(d);
  }
  // Directories back to times in the past: rsync keeps a directory's mtime only to the second when
  // it falls in the second rsync runs in.
  const newDirs: Buffer[] = [];
  const listDirs = (rel: Buffer) => {
    for (const d of fs.readdirSync(at(rel), { encoding: 'buffer', withFileTypes: true }) as fs.Dirent<Buffer>[]) {
      if (!d.isDirectory()) continue;
      const p = rel.length ? joinPath(rel, d.name) : d.name;
      newDirs.push(p);
      listDirs(p);
    }
  };
  listDirs(Buffer.alloc(0));
  for (const d of [Buffer.alloc(0), ...newDirs.sort(Buffer.compare)]) hlfs.utimensat(at(d), randomTimeNs(r), randomTimeNs(r), true);
  for (const dst of dsts) {
    const dstBuf = Buffer.from(dst);
    for (const d of kept) {
      const dir = d.length ? joinPath(dstBuf, d) : dstBuf;
      if (!fs.existsSync(dir)) continue;
      fs.writeFileSync(joinPath(dir, Buffer.from('late-extra')), 'appeared on the backup disk: deleted');
      const junk = joinPath(dir, Buffer.from('late.tmp-excluded'));
      fs.writeFileSync(junk, 'excluded: kept');
      hlfs.utimensat(junk, 1_000_000_000_123n, 1_000_000_000_123n, true);
    }
  }
}
