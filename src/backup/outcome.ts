// What one nightly run produced: built by backup/run.ts, consumed by announce (notifications,
// metrics, state, status) and by the CLI summary. Plain data: no Buffers (paths already escaped
// with displayPath), no secrets.
export type RunStatus = 'ok' | 'partial' | 'refused' | 'fatal' | 'busy';

export interface StepOutcome {
  /** e.g. "service immich.service", "source bare", "scrub". */
  name: string;
  status: RunStatus;
  durationMs: number;
  filesCopied: number;
  bytesCopied: number;
  filesDeleted: number;
  bytesDeleted: number;
  filesVerified: number;
  /** Failed paths (escaped) with the reason. */
  failures: { path: string; error: string }[];
  /** Extra human detail: "deletions skipped: 2 copies failed", "service restarted". */
  notes: string[];
}

export interface DeletionRefusal {
  files: number;
  bytes: number;
  /** Directories that would lose the most files (escaped paths), most first. */
  topDirs: { dir: string; files: number }[];
  reason: string;
}

export interface Coverage {
  /** Share (0..1) of manifest rows verified in the last 100 days. */
  verifiedShare100d: number;
  oldestVerifiedAtMs: number | null;
  neverVerified: number;
  rows: number;
}

export interface BackupOutcome {
  status: RunStatus;
  startedAtMs: number;
  finishedAtMs: number;
  /** The disk used, or null when none could be mounted. */
  disk: { name: string; mountPoint: string; freeBytes: number | null } | null;
  steps: StepOutcome[];
  /** The errors that made the run fail or partial, most important first (escaped, no secrets). */
  errors: string[];
  corruptFound: number;
  refusal: DeletionRefusal | null;
  coverage: Coverage | null;
  dryRun: boolean;
}
