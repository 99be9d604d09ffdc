// The changes the "modify" and "delete-add" scenarios make to a tree's source between runs. Each one
// is deterministic from the tree's seed and a generation number, keeps the plan in step with the disk,
// and returns the files it touched so verification can compare their bytes in the mirrors.
import fs from 'node:fs';
import path from 'node:path';
import { createRng, seedFrom, type Rng } from './random.js';
import { drawSize, randomMtimeMs, writePlannedFile, type ContentWriter, type PlannedFile, type TreePlan } from './generate.js';

const HOUR_MS = 3600 * 1000;

/** How many files 1 % of the tree is (at least one). */
export function onePercent(plan: TreePlan): number {
  return Math.max(1, Math.round(plan.files.length / 100));
}

/** count distinct indexes in [0, n), in a deterministic order. */
export function pickIndexes(n: number, count: number, rng: Rng): number[] {
  const wanted = Math.min(n, count);
  const picked = new Set<number>();
  while (picked.size < wanted) picked.add(rng.int(n));
  return [...picked];
}

/**
 * Rewrites 1 % of the files with new bytes of the same length and a later mtime (the rsync quick
 * check sees the mtime; only reading the bytes would show that the content changed too).
 */
export function modifyFiles(plan: TreePlan, srcRoot: string, generation: number, content: ContentWriter): PlannedFile[] {
  const rng = createRng(seedFrom('modify', plan.spec.name, plan.seed, generation));
  const touched: PlannedFile[] = [];
  for (const index of pickIndexes(plan.files.length, onePercent(plan), rng)) {
    const file = plan.files[index];
    if (!file) continue;
    file.contentSeed = (file.contentSeed + 0x9e3779b9 * (generation + 1)) >>> 0;
    file.mtimeMs += HOUR_MS + (generation + 1) * 1000;
    writePlannedFile(srcRoot, file, content);
    touched.push(file);
  }
  return touched;
}

/** Deletes 1 % of the files and adds as many new ones (sizes from the tree's distribution) in random dirs. */
export function deleteAndAdd(plan: TreePlan, srcRoot: string, generation: number, content: ContentWriter): { deleted: PlannedFile[]; added: PlannedFile[] } {
  const rng = createRng(seedFrom('delete-add', plan.spec.name, plan.seed, generation));
  const count = onePercent(plan);
  const doomed = new Set(pickIndexes(plan.files.length, count, rng));
  const deleted: PlannedFile[] = [];
  const kept: PlannedFile[] = [];
  plan.files.forEach((file, index) => (doomed.has(index) ? deleted : kept).push(file));
  for (const file of deleted) fs.unlinkSync(path.join(srcRoot, file.path));
  const added: PlannedFile[] = [];
  for (let i = 0; i < count; i++) {
    const dir = plan.dirs[rng.int(plan.dirs.length)]?.path ?? '';
    const name = `n${generation}-${String(i).padStart(6, '0')}.dat`;
    const file: PlannedFile = {
      path: dir === '' ? name : `${dir}/${name}`,
      sizeBytes: drawSize(plan.spec.sizes, rng),
      mode: 0o644,
      mtimeMs: randomMtimeMs(rng, 2 * 365 * 24 * HOUR_MS),
      contentSeed: Math.floor(rng.next() * 0x1_0000_0000),
    };
    writePlannedFile(srcRoot, file, content);
    added.push(file);
  }
  plan.files = kept.concat(added);
  return { deleted, added };
}
