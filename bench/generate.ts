// Deterministic synthetic trees: planTree (pure: spec + seed -> every dir and file with its size,
// mode, mtime and content seed) and writeTree (the I/O). A tree dir holds src/ and tree.json, the
// marker that lets a kept tree be reused by the next run when its spec and seed match.
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createRng, fillRandom, seedFrom, type Rng } from './random.js';
import type { SizeDistribution, TreeSpec } from './trees.js';

/** Bump when planTree or the content of files changes: kept trees of an older layout are rebuilt. */
const GENERATOR_VERSION = 1;
/** 2024-01-01T00:00:00Z: generated mtimes fall in the year after it. */
const BASE_MTIME_MS = 1_704_067_200_000;
const YEAR_MS = 365 * 24 * 3600 * 1000;
const EXTENSIONS = ['txt', 'jpg', 'json', 'log', 'md', 'png', 'conf', 'dat', 'ts', 'pdf'] as const;

export interface PlannedDir {
  /** Relative to the tree's src/, '/'-separated ('' is the root). */
  path: string;
  mtimeMs: number;
}

export interface PlannedFile {
  path: string;
  sizeBytes: number;
  mode: number;
  mtimeMs: number;
  /** Seeds the bytes: a file rewritten with a new contentSeed has new bytes of the same length. */
  contentSeed: number;
}

/** The current state of a tree's source: mutate.ts keeps it in step with what it changes on disk. */
export interface TreePlan {
  spec: TreeSpec;
  seed: number;
  /** Parents before children; the root first. */
  dirs: PlannedDir[];
  files: PlannedFile[];
}

export function drawSize(sizes: SizeDistribution, rng: Rng): number {
  switch (sizes.kind) {
    case 'fixed':
      return sizes.bytes;
    case 'uniform':
      return sizes.minBytes + rng.int(sizes.maxBytes - sizes.minBytes + 1);
    case 'buckets': {
      const total = sizes.buckets.reduce((sum, b) => sum + b.weight, 0);
      let pick = rng.next() * total;
      const bucket = sizes.buckets.find((b) => (pick -= b.weight) < 0) ?? sizes.buckets[sizes.buckets.length - 1];
      if (!bucket) return 0;
      if (bucket.minBytes === 0) return rng.int(bucket.maxBytes + 1);
      const lo = Math.log(bucket.minBytes);
      return Math.round(Math.exp(lo + rng.next() * (Math.log(bucket.maxBytes) - lo)));
    }
  }
}

export function randomMtimeMs(rng: Rng, offsetMs = 0): number {
  return BASE_MTIME_MS + offsetMs + rng.int(YEAR_MS);
}

/** Every dir and file of a tree, from its spec and the seed alone. */
export function planTree(spec: TreeSpec, seed: number): TreePlan {
  const rng = createRng(seedFrom('tree', spec.name, seed));
  const dirs: PlannedDir[] = [{ path: '', mtimeMs: randomMtimeMs(rng) }];
  const depth = [0];
  // A random recursive tree: each new dir hangs under an earlier one that is not yet at maxDepth.
  const parents = [0];
  for (let i = 1; i <= spec.dirs; i++) {
    const parentIndex = parents[rng.int(parents.length)] ?? 0;
    const parent = dirs[parentIndex]?.path ?? '';
    const name = `d${String(i).padStart(5, '0')}`;
    dirs.push({ path: parent === '' ? name : `${parent}/${name}`, mtimeMs: randomMtimeMs(rng) });
    const level = (depth[parentIndex] ?? 0) + 1;
    depth.push(level);
    if (level < spec.maxDepth) parents.push(i);
  }
  const files: PlannedFile[] = [];
  for (let i = 0; i < spec.files; i++) {
    const dir = dirs[rng.int(dirs.length)]?.path ?? '';
    const ext = EXTENSIONS[rng.int(EXTENSIONS.length)] ?? 'dat';
    const name = `f${String(i).padStart(6, '0')}.${ext}`;
    files.push({
      path: dir === '' ? name : `${dir}/${name}`,
      sizeBytes: drawSize(spec.sizes, rng),
      mode: rng.next() < 0.05 ? 0o600 : 0o644,
      mtimeMs: randomMtimeMs(rng),
      contentSeed: Math.floor(rng.next() * 0x1_0000_0000),
    });
  }
  return { spec, seed, dirs, files };
}

export function planTotals(plan: TreePlan): { files: number; dirs: number; bytes: number } {
  let bytes = 0;
  for (const file of plan.files) bytes += file.sizeBytes;
  return { files: plan.files.length, dirs: plan.dirs.length - 1, bytes };
}

const CHUNK_BYTES = 1024 * 1024;
const POOL_BYTES = 8 * CHUNK_BYTES;

/**
 * File bytes: 1 MiB chunks cut from a pool of random bytes at offsets derived from the file's content
 * seed, each chunk stamped with the seed and its index, so every file and every chunk differ.
 */
export class ContentWriter {
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES + CHUNK_BYTES);
  private readonly scratch = Buffer.allocUnsafe(CHUNK_BYTES);

  constructor(seed: number) {
    fillRandom(this.pool, seedFrom('pool', seed));
  }

  /** Writes sizeBytes of the file's content to fd from its current position. */
  write(fd: number, sizeBytes: number, contentSeed: number): void {
    for (let chunk = 0, done = 0; done < sizeBytes; chunk++) {
      const length = Math.min(CHUNK_BYTES, sizeBytes - done);
      const offset = mix32(contentSeed ^ Math.imul(chunk + 1, 0x9e3779b1)) % POOL_BYTES;
      this.pool.copy(this.scratch, 0, offset, offset + length);
      const stamp = Buffer.from([contentSeed, contentSeed >>> 8, contentSeed >>> 16, contentSeed >>> 24, chunk, chunk >>> 8, chunk >>> 16, chunk >>> 24]);
      stamp.copy(this.scratch, 0, 0, Math.min(8, length));
      let written = 0;
      while (written < length) written += fs.writeSync(fd, this.scratch, written, length - written);
      done += length;
    }
  }
}

function mix32(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Creates (or replaces) one file of the plan under root. */
export function writePlannedFile(root: string, file: PlannedFile, content: ContentWriter): void {
  const fd = fs.openSync(path.join(root, file.path), 'w', file.mode);
  try {
    content.write(fd, file.sizeBytes, file.contentSeed);
    fs.fchmodSync(fd, file.mode);
    const seconds = file.mtimeMs / 1000;
    fs.futimesSync(fd, seconds, seconds);
  } finally {
    fs.closeSync(fd);
  }
}

/** Sets the planned mtimes of dirs, deepest first (writing a file changes its dir's mtime). */
export function setDirTimes(root: string, dirs: readonly PlannedDir[]): void {
  for (let i = dirs.length - 1; i >= 0; i--) {
    const dir = dirs[i];
    if (!dir) continue;
    const seconds = dir.mtimeMs / 1000;
    fs.utimesSync(path.join(root, dir.path), seconds, seconds);
  }
}

/** Writes the plan into root (which must be empty or missing); yields to the event loop now and then. */
export async function writeTree(plan: TreePlan, root: string, onFile?: (done: number) => void): Promise<void> {
  const content = new ContentWriter(plan.seed);
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  for (const dir of plan.dirs) if (dir.path !== '') fs.mkdirSync(path.join(root, dir.path), { mode: 0o755 });
  let bytesSinceYield = 0;
  for (let i = 0; i < plan.files.length; i++) {
    const file = plan.files[i];
    if (!file) continue;
    writePlannedFile(root, file, content);
    bytesSinceYield += file.sizeBytes + 4096;
    if (bytesSinceYield > 32 * 1024 * 1024 || i % 2000 === 1999) {
      bytesSinceYield = 0;
      onFile?.(i + 1);
      await yieldToLoop();
    }
  }
  setDirTimes(root, plan.dirs);
  onFile?.(plan.files.length);
}

interface TreeMarker {
  signature: string;
  /** 'mutated' once a scenario changed src/: a later run must regenerate it. */
  state: 'pristine' | 'mutated';
}

export function treeSignature(spec: TreeSpec, seed: number): string {
  return JSON.stringify({ generator: GENERATOR_VERSION, spec, seed });
}

export function markerPath(treeDir: string): string {
  return path.join(treeDir, 'tree.json');
}

/** True when treeDir/src was generated from this exact spec and seed and not changed since. */
export function isReusable(treeDir: string, signature: string): boolean {
  try {
    const marker = JSON.parse(fs.readFileSync(markerPath(treeDir), 'utf8')) as Partial<TreeMarker>;
    return marker.signature === signature && marker.state === 'pristine' && fs.statSync(path.join(treeDir, 'src')).isDirectory();
  } catch {
    return false;
  }
}

export function writeMarker(treeDir: string, marker: TreeMarker): void {
  fs.writeFileSync(markerPath(treeDir), JSON.stringify(marker) + '\n');
}
