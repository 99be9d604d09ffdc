// The check after every run that keeps a fast-but-wrong engine from looking good: home-lab's
// destination must hold exactly the planned files and bytes, rsync -n must find nothing to change
// between rsync's destination and home-lab's (names, types, sizes, mtimes, modes, owners), and the
// bytes of the files just touched plus a random sample must equal the source's.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRng, seedFrom } from './random.js';
import { pickIndexes } from './mutate.js';
import { planTotals, type PlannedFile, type TreePlan } from './generate.js';

/** home-lab keeps its manifest (and trash) here, in the destination root: not part of the mirror. */
export const HOME_LAB_DIR = '.home-lab';
const SAMPLE_FILES = 32;
const WHOLE_COMPARE_MAX_BYTES = 8 * 1024 * 1024;
const PROBE_BYTES = 256 * 1024;

export interface TreeCount {
  files: number;
  dirs: number;
  bytes: number;
  /** Entries that are neither files nor dirs (a generated tree has none). */
  others: number;
}

/** Counts a tree without following symlinks; skips root/.home-lab. */
export function countTree(root: string): TreeCount {
  const count: TreeCount = { files: 0, dirs: 0, bytes: 0, others: 0 };
  const walk = (dir: string, top: boolean): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (top && entry.name === HOME_LAB_DIR) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        count.dirs++;
        walk(full, false);
      } else if (entry.isFile()) {
        count.files++;
        count.bytes += fs.lstatSync(full).size;
      } else count.others++;
    }
  };
  walk(root, true);
  return count;
}

/** Problems found, as lines naming the path; empty when home-lab's mirror is right. */
export function verifyMirror(input: { plan: TreePlan; srcRoot: string; homeLabRoot: string; rsyncRoot: string; touched: readonly PlannedFile[]; generation: number }): string[] {
  const problems: string[] = [];
  const expected = planTotals(input.plan);
  const got = countTree(input.homeLabRoot);
  if (got.files !== expected.files || got.bytes !== expected.bytes || got.dirs !== expected.dirs || got.others !== 0) {
    problems.push(
      `home-lab's destination holds ${got.files} files / ${got.bytes} bytes / ${got.dirs} dirs / ${got.others} others; ` +
        `the source holds ${expected.files} / ${expected.bytes} / ${expected.dirs} / 0`,
    );
  }
  problems.push(...rsyncDifferences(input.rsyncRoot, input.homeLabRoot));
  const rng = createRng(seedFrom('verify-sample', input.plan.seed, input.generation));
  const sample = pickIndexes(input.plan.files.length, SAMPLE_FILES, rng).map((i) => input.plan.files[i]);
  for (const file of [...input.touched, ...sample]) {
    if (!file) continue;
    const problem = compareContent(path.join(input.srcRoot, file.path), path.join(input.homeLabRoot, file.path), file.sizeBytes);
    if (problem) problems.push(`${file.path}: ${problem}`);
    if (problems.length > 20) break;
  }
  return problems;
}

/**
 * What `rsync -a --delete` would still change to make home-lab's copy equal rsync's: one itemized
 * line per difference (rsync compares mtimes to the nanosecond here). home-lab's own dir is excluded.
 */
export function rsyncDifferences(referenceRoot: string, candidateRoot: string): string[] {
  const args = ['-n', '-a', '--delete', '-i', `--exclude=/${HOME_LAB_DIR}`, referenceRoot + '/', candidateRoot + '/'];
  const result = spawnSync('rsync', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) return [`rsync ${args.join(' ')} failed: ${(result.stderr || String(result.error)).trim()}`];
  const lines = result.stdout.split('\n').filter((line) => line.trim() !== '');
  if (lines.length === 0) return [];
  return [`rsync -n -a --delete -i finds ${lines.length} difference(s) between rsync's and home-lab's destination, e.g. ${lines.slice(0, 5).join(' | ')}`];
}

/** null when equal; whole files up to 8 MiB, else the first, middle and last 256 KiB. */
export function compareContent(expectedPath: string, actualPath: string, sizeBytes: number): string | null {
  let a: number | undefined;
  let b: number | undefined;
  try {
    a = fs.openSync(expectedPath, 'r');
    b = fs.openSync(actualPath, 'r');
    const actualSize = fs.fstatSync(b).size;
    if (actualSize !== sizeBytes) return `size ${actualSize}, expected ${sizeBytes}`;
    const ranges: [number, number][] =
      sizeBytes <= WHOLE_COMPARE_MAX_BYTES
        ? [[0, sizeBytes]]
        : [[0, PROBE_BYTES], [Math.floor(sizeBytes / 2), PROBE_BYTES], [sizeBytes - PROBE_BYTES, PROBE_BYTES]];
    for (const [offset, length] of ranges) {
      const left = Buffer.allocUnsafe(length);
      const right = Buffer.allocUnsafe(length);
      fs.readSync(a, left, 0, length, offset);
      fs.readSync(b, right, 0, length, offset);
      if (!left.equals(right)) return `content differs from the source in bytes ${offset}-${offset + length}`;
    }
    return null;
  } catch (error) {
    return `cannot compare: ${(error as Error).message}`;
  } finally {
    if (a !== undefined) fs.closeSync(a);
    if (b !== undefined) fs.closeSync(b);
  }
}
