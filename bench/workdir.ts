// Where a tree lives while it is measured. The page cache here is dropped from outside every few
// minutes and the ext4 root slows down after mass deletions (DESIGN.md), so as root each tree gets its
// own tmpfs, sized for its source and both destinations, unmounted afterwards (instant cleanup).
// Without root the directory is used as it is, with a warning.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { FatalError } from '../src/errors.js';
import { meanSizeBytes, type TreeSpec } from './trees.js';

const TMPFS_MAGIC = 0x01021994;
const PAGE_BYTES = 4096;
const INODE_BYTES = 1024;
const MiB = 1024 * 1024;

export type TreeFsKind = 'mounted' | 'tmpfs' | 'plain';

export interface TreeDir {
  dir: string;
  /** mounted: a tmpfs bench mounted; tmpfs: already on a tmpfs; plain: another filesystem. */
  kind: TreeFsKind;
  sizeBytes: number;
  /** Removes the tree (unmounts its tmpfs) unless keep. */
  release(keep: boolean): void;
}

/**
 * Bytes one tree needs at most: the source and two destinations (tmpfs rounds every file up to a
 * page; each inode and dentry takes ~1 KiB of kernel memory besides), home-lab's manifest (~1 KiB a
 * file, generous) and its trash of the files that the modify and delete-add scenarios replace or
 * delete (1 % per repetition each), plus 10 % and 64 MiB of slack.
 */
export function treeBytesNeeded(spec: TreeSpec, repetitions: number): number {
  const mean = meanSizeBytes(spec.sizes);
  const paged = spec.files * (Math.ceil(mean / PAGE_BYTES) * PAGE_BYTES + INODE_BYTES) + (spec.dirs + 1) * (PAGE_BYTES + INODE_BYTES);
  const trash = paged * 0.02 * (repetitions + 1);
  return Math.ceil((3 * paged + spec.files * 1024 + trash) * 1.1 + 64 * MiB);
}

export function isTmpfs(dir: string): boolean {
  return fs.statfsSync(dir).type === TMPFS_MAGIC;
}

export function isMountpoint(dir: string): boolean {
  const real = fs.realpathSync(dir);
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return mountinfo.split('\n').some((line) => unescapeMount(line.split(' ')[4] ?? '') === real);
}

function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function availableMemoryBytes(): number {
  const match = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

function run(program: string, args: string[]): void {
  const result = spawnSync(program, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new FatalError(`\`${program} ${args.join(' ')}\` failed: ${(result.stderr || String(result.error ?? `exit ${result.status}`)).trim()}`);
  }
}

/** rm -rf: several times faster than Node 20's fs.rmSync on 100,000s of files. */
export function removeTree(dir: string): void {
  run('rm', ['-rf', '--one-file-system', '--', dir]);
}

export function prepareTreeDir(dir: string, sizeBytes: number, options: { mountTmpfs: boolean; warn: (message: string) => void }): TreeDir {
  fs.mkdirSync(dir, { recursive: true });
  const isRoot = process.getuid?.() === 0;
  const mountedHere = isMountpoint(dir) && isTmpfs(dir);
  if (options.mountTmpfs && isRoot) {
    const available = availableMemoryBytes() + (mountedHere ? fs.statfsSync(dir).blocks * fs.statfsSync(dir).bsize : 0);
    if (sizeBytes > available * 0.9) {
      throw new FatalError(
        `${dir}: the tree needs a ${gib(sizeBytes)} tmpfs but only ${gib(available)} of memory is available; ` +
          'use --scale below 1, fewer --trees, or --no-tmpfs with --dir on a disk',
      );
    }
    let mountError: string | null = null;
    if (mountedHere) {
      // Kept from an earlier run (--keep): grow it if this run needs more.
      if (fs.statfsSync(dir).blocks * fs.statfsSync(dir).bsize < sizeBytes) run('mount', ['-o', `remount,size=${sizeBytes}`, dir]);
    } else {
      removeTree(dir);
      fs.mkdirSync(dir, { recursive: true });
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'home-lab-bench', dir], { encoding: 'utf8' });
      // Root in a container without CAP_SYS_ADMIN cannot mount: measure where we are, with the warning below.
      if (mounted.status !== 0) mountError = (mounted.stderr || String(mounted.error ?? `exit ${mounted.status}`)).trim();
    }
    if (mountError === null) {
      return {
        dir,
        kind: 'mounted',
        sizeBytes,
        release(keep) {
          if (keep) return;
          run('umount', [dir]);
          fs.rmdirSync(dir);
        },
      };
    }
    options.warn(`cannot mount a tmpfs on ${dir}: ${mountError}`);
  }
  const onTmpfs = isTmpfs(dir);
  if (!onTmpfs) {
    const free = fs.statfsSync(dir).bavail * fs.statfsSync(dir).bsize;
    if (sizeBytes > free * 0.9) throw new FatalError(`${dir}: the tree needs ${gib(sizeBytes)} but the filesystem has ${gib(free)} free; use --scale below 1 or fewer --trees`);
    const why = !isRoot ? 'not root, so bench cannot mount one' : options.mountTmpfs ? 'mounting one failed' : '--no-tmpfs';
    options.warn(
      `${dir} is not on a tmpfs (${why}): the page cache may be dropped ` +
        'and the disk may slow down after deletions, so timings are noisier; run as root or mount a tmpfs there',
    );
  }
  return {
    dir,
    kind: onTmpfs ? 'tmpfs' : 'plain',
    sizeBytes,
    release(keep) {
      if (!keep) removeTree(dir);
    },
  };
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
