// The messages between the mirror (main thread) and its copy workers.
import type { CopyJob } from './copy-file.js';

export type Task =
  /** Copy src to dst (temp file + rename), hashing every byte. */
  | { kind: 'copy'; job: CopyJob }
  /** Hash a DST file the quick check found unchanged but whose manifest row is missing or stale. */
  | { kind: 'hash'; path: Buffer; sizeBytes: number; mtimeNs: bigint }
  /** rsync -c: hash both sides; copy when they differ. */
  | { kind: 'checksum'; job: CopyJob };

export type TaskResult =
  | { ok: true; hash: string; sizeBytes: number; mtimeNs: bigint; copied: boolean }
  | { ok: false; code: string; error: string };
