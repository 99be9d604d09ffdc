// The synthetic trees of `home-lab bench` (issue 6): their shapes at full size, the --quick set, and
// --scale. Pure data: generate.ts turns a spec into a plan and the plan into files.
export const TREE_NAMES = ['small', 'large', 'mixed', 'many'] as const;
export type TreeName = (typeof TREE_NAMES)[number];

export type SizeDistribution =
  | { kind: 'fixed'; bytes: number }
  | { kind: 'uniform'; minBytes: number; maxBytes: number }
  /**
   * Pick a bucket by weight, then a log-uniform size inside it (real file sizes are log-shaped); a
   * bucket starting at 0 is uniform.
   */
  | { kind: 'buckets'; buckets: readonly { weight: number; minBytes: number; maxBytes: number }[] };

export interface TreeSpec {
  name: TreeName;
  files: number;
  /** Directories below the root (the root holds files too). */
  dirs: number;
  /** Deepest directory level below the root. */
  maxDepth: number;
  sizes: SizeDistribution;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * A home server's mix: many small text/config files, photos of a few MiB, a few videos. The bucket
 * means (log-uniform) give ~103 KiB per file: 20,000 files make ~2 GiB.
 */
const MIXED_SIZES: SizeDistribution = {
  kind: 'buckets',
  buckets: [
    { weight: 0.445, minBytes: 0, maxBytes: 4 * KiB },
    { weight: 0.3, minBytes: 4 * KiB, maxBytes: 32 * KiB },
    { weight: 0.2, minBytes: 32 * KiB, maxBytes: 256 * KiB },
    { weight: 0.05, minBytes: 256 * KiB, maxBytes: 2 * MiB },
    { weight: 0.005, minBytes: 2 * MiB, maxBytes: 16 * MiB },
  ],
};

const FULL: Record<TreeName, TreeSpec> = {
  small: { name: 'small', files: 50_000, dirs: 2_000, maxDepth: 4, sizes: { kind: 'uniform', minBytes: 1 * KiB, maxBytes: 16 * KiB } },
  large: { name: 'large', files: 8, dirs: 0, maxDepth: 0, sizes: { kind: 'fixed', bytes: 256 * MiB } },
  mixed: { name: 'mixed', files: 20_000, dirs: 1_000, maxDepth: 5, sizes: MIXED_SIZES },
  many: { name: 'many', files: 200_000, dirs: 4_000, maxDepth: 4, sizes: { kind: 'uniform', minBytes: 0, maxBytes: 2 * KiB } },
};

/**
 * --quick: the same shapes at a tenth of the files (large: 8 x 16 MiB), sized so the whole set, 5
 * scenarios x 3 repetitions x 2 tools, runs in about a minute on 2 cores.
 */
const QUICK: Record<TreeName, TreeSpec> = {
  small: { ...FULL.small, files: 5_000, dirs: 200 },
  large: { ...FULL.large, sizes: { kind: 'fixed', bytes: 16 * MiB } },
  mixed: { ...FULL.mixed, files: 2_000, dirs: 100 },
  many: { ...FULL.many, files: 20_000, dirs: 400 },
};

/**
 * The spec of one tree. --scale multiplies the file and directory counts; for `large`, whose point
 * is big files, it multiplies the file size instead.
 */
export function treeSpec(name: TreeName, options: { quick: boolean; scale: number }): TreeSpec {
  const base = (options.quick ? QUICK : FULL)[name];
  const scale = options.scale;
  if (base.sizes.kind === 'fixed') {
    return { ...base, sizes: { kind: 'fixed', bytes: Math.max(4 * KiB, Math.round(base.sizes.bytes * scale)) } };
  }
  return { ...base, files: Math.max(1, Math.round(base.files * scale)), dirs: Math.max(0, Math.round(base.dirs * scale)) };
}

/** Expected bytes per file of a distribution (for sizing the work filesystem before generating). */
export function meanSizeBytes(sizes: SizeDistribution): number {
  switch (sizes.kind) {
    case 'fixed':
      return sizes.bytes;
    case 'uniform':
      return (sizes.minBytes + sizes.maxBytes) / 2;
    case 'buckets': {
      const total = sizes.buckets.reduce((sum, b) => sum + b.weight, 0);
      return sizes.buckets.reduce((sum, b) => sum + (b.weight / total) * bucketMean(b.minBytes, b.maxBytes), 0);
    }
  }
}

function bucketMean(min: number, max: number): number {
  if (min === 0) return max / 2;
  return max <= min ? max : (max - min) / Math.log(max / min);
}
