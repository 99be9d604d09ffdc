// The contract of the mirror engine: what callers (cli/, backup/, scrub repair, bench) pass in and get
// back. engine/mirror.ts implements `mirror(options): Promise<MirrorResult>`.
export interface DeletionLimits {
  /** Confirmed by the owner (--allow-deletions): no limit applies, except an empty source. */
  allow: boolean;
  /** Refuse when more files than this would be deleted. */
  maxFiles?: number;
  /** Refuse when more than this share (0-100) of the destination's files would be deleted. */
  maxPercent?: number;
}

export interface ManifestTarget {
  /** Directory holding .home-lab/manifest.db (a mirror root or a backup disk). */
  root: string;
  /** DST relative to root ('' when DST is the root), '/'-separated. */
  prefix: string;
}

export interface MirrorOptions {
  /** Source directory; its contents are mirrored (trailing slashes do not matter). */
  src: string;
  /** Destination directory; created when missing. */
  dst: string;
  /** rsync-style exclude patterns (see engine/exclude.ts). */
  excludes: readonly string[];
  /** Compare content hashes instead of size+mtime (rsync -c). */
  checksum: boolean;
  dryRun: boolean;
  /** Worker threads for copies. */
  jobs: number;
  /**
   * Hash the first DST files whose manifest rows are missing (and --checksum's first files, up to
   * 1,000 / 32 MiB) on the main thread before starting any worker (default true: a run with few of
   * them never pays the workers' start-up). Tests turn it off to put small trees through the workers.
   */
  inlineCopies?: boolean;
  /** Where the hash manifest lives; default { root: dst, prefix: '' }. */
  manifest?: ManifestTarget;
  /** Delete extras in DST (rsync --delete). Default true. */
  delete?: boolean;
  deletionLimits?: DeletionLimits;
  /**
   * Move deleted and overwritten entries here (same filesystem) instead of unlinking them, under their
   * path relative to DST (DIR mirrors DST's layout); null = unlink.
   */
  trashDir?: string | null;
  /** Progress and itemized changes. Called on the main thread; keep it cheap. */
  onEvent?: (event: MirrorEvent) => void;
  /** ms since the epoch; passed in so tests control time. */
  now?: () => number;
  /**
   * Stops the run between directories and before deletions (SIGTERM from systemd): queued copies
   * finish, nothing is deleted, the manifest is not committed; mirror() rejects with signal.reason.
   */
  signal?: AbortSignal;
}

/** A closed union of what the mirror does to one path (for -i/--itemize and --dry-run). */
export type ItemAction =
  | 'copy' // new or changed regular file
  | 'mkdir'
  | 'symlink'
  | 'special' // fifo, socket, device
  | 'attrs' // mode/owner/times only
  | 'delete'
  | 'replace' // an entry of another type removed to make room
  | 'rehash'; // unchanged file whose manifest row was missing or stale: hashed from DST

export type MirrorEvent =
  | { kind: 'item'; action: ItemAction; path: Buffer; sizeBytes?: number }
  | { kind: 'progress'; filesSeen: number; filesDone: number; bytesQueued: number; bytesDone: number }
  | { kind: 'failure'; path: Buffer; error: string }
  | { kind: 'notice'; message: string };

export interface FailedPath {
  /** Relative to DST/SRC. */
  path: Buffer;
  error: string;
}

export interface MirrorResult {
  filesCopied: number;
  bytesCopied: number;
  filesUnchanged: number;
  /** Entries created that are not regular files: dirs, symlinks, specials. */
  otherCreated: number;
  filesDeleted: number;
  bytesDeleted: number;
  /** Unchanged files hashed from DST because their manifest row was missing or stale. */
  filesRehashed: number;
  failed: FailedPath[];
  /** Why extras were not deleted (copy failures, guard refusal), or null when they were. */
  deletionsSkipped: string | null;
  /** True when the deletion guard refused (exit code "refused"). */
  refused: boolean;
  /** The guard's numbers when it refused: files and bytes that would have gone, where most. */
  refusal: { files: number; bytes: number; topDirs: { dir: string; files: number }[] } | null;
  dryRun: boolean;
  durationMs: number;
  /** Directories listed outside the walker's order (src/engine/tree-walker.ts): 0 unless they disagree. */
  dirsListedOutOfOrder?: number;
}
