// `home-lab restore --drill`: rehearse a recovery in one command. Restores a random sample of the
// manifest's files into a fresh temp directory through the same code as a real restore, then
// re-reads every restored file and checks it against the manifest (content, size, mtime) and the
// backup (mode). Records the outcome in <disk>/.home-lab/drill.json and removes the temp directory.
import fs from 'node:fs';
import path from 'node:path';
import { displayPath, joinPath, SLASH } from '../engine/bytes.js';
import { hashFileSync, ioBuffer } from '../engine/hash.js';
import { FatalError } from '../errors.js';
import type { Logger } from '../log.js';
import { ManifestStore, type ManifestRow } from '../manifest/store.js';
import { withDiskLock } from '../backup/lock.js';
import { removeTreeSync } from '../trash/remove-tree.js';
import { unsafeRelativePath } from '../trash/safe-path.js';
import { locateMirror } from './locate.js';
import { restorePaths, type RestoreEvent } from './restore.js';
import { manifestCheck } from './run.js';
import { reservoirSample, withinBudget } from './sample.js';
import { writeDrillRecord, type DrillRecord } from './drill-record.js';

export const DEFAULT_DRILL_FILES = 100;
export const DEFAULT_DRILL_MAX_BYTES = 1024 ** 3;
const MAX_PROBLEMS = 1000;

export interface DrillOptions {
  /** A mirror root or a disk root (the drill samples the rows below it). */
  target: string | Buffer;
  sampleFiles: number;
  /** The sample's total size stays within this (big files are skipped, not truncated). */
  maxBytes: number;
  /** Where the temp directory is made. */
  tempParent: string;
  random: () => number;
  now: () => number;
  preserveOwner: boolean;
  logger: Logger;
  onEvent?: (event: RestoreEvent) => void;
}

export interface DrillResult {
  passed: boolean;
  files: number;
  bytes: number;
  /** Rows of the manifest below the target. */
  rowsConsidered: number;
  /** Rows whose path would leave the disk ('..', absolute, NUL): never read, and a failed drill. */
  unsafeRows: number;
  /** Escaped, one line each. */
  problems: string[];
  tempDir: string;
  cleanedUp: boolean;
  diskRoot: string;
  record: DrillRecord;
}

interface Pick {
  rel: Buffer;
  row: ManifestRow;
  sizeBytes: number;
}

export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const location = locateMirror(options.target);
  if (!location.hasManifest || !location.diskRoot) {
    throw new FatalError(`no manifest at or above ${displayPath(location.mirrorRoot)}: a drill checks restored files against it. Point --target at a home-lab mirror.`, 'usage');
  }
  const diskRoot = location.diskRoot.toString();
  return withDiskLock({ diskRoot, logger: options.logger, command: 'restore --drill' }, () => {
    const startedAtMs = options.now();
    const problems: string[] = [];
    const problem = (text: string) => {
      if (problems.length < MAX_PROBLEMS) problems.push(text);
    };
    const store = ManifestStore.open(diskRoot, { readonly: true });
    let tempDir: string;
    let cleanedUp: boolean;
    let files = 0;
    let bytes = 0;
    let rowsConsidered = 0;
    let unsafeRows = 0;
    try {
      const prefix = location.prefix;
      const eligible = function* (): Generator<Pick> {
        for (const row of store.iterate()) {
          const unsafe = unsafeRelativePath(row.path);
          if (unsafe !== null) {
            unsafeRows++;
            problem(`unsafe path in the manifest, never read: ${displayPath(row.path)} (${unsafe})`);
            continue;
          }
          let rel = row.path;
          if (prefix.length > 0) {
            if (row.path.length <= prefix.length + 1 || row.path[prefix.length] !== SLASH || !row.path.subarray(0, prefix.length).equals(prefix)) continue;
            rel = row.path.subarray(prefix.length + 1);
          }
          rowsConsidered++;
          if (row.sizeBytes <= options.maxBytes) yield { rel, row, sizeBytes: row.sizeBytes };
        }
      };
      const sample = withinBudget(reservoirSample(eligible(), options.sampleFiles, options.random), options.maxBytes);
      if (sample.length === 0) problem(rowsConsidered === 0 ? 'the manifest lists no files here: nothing to rehearse' : `no file fits the byte budget of ${options.maxBytes} bytes`);

      fs.mkdirSync(options.tempParent, { recursive: true });
      tempDir = fs.mkdtempSync(path.join(options.tempParent, 'home-lab-drill-'));
      try {
        const result = restorePaths({
          sourceRoot: location.mirrorRoot,
          paths: sample.map((s) => s.rel),
          to: Buffer.from(tempDir),
          check: manifestCheck(store, prefix, 'mirror'),
          preserveOwner: options.preserveOwner,
          onEvent: options.onEvent,
        });
        for (const f of result.failed) problem(`${displayPath(f.path)}: ${f.error}`);
        for (const m of result.mismatches) problem(`${displayPath(m.path)}: ${m.why}`);
        // One problem per file: the restore's own verdict first, the re-read only for what it missed.
        const reported = new Set([...result.failed, ...result.mismatches].map((x) => x.path.toString('latin1')));
        const buffer = ioBuffer();
        for (const s of sample) {
          const outcome = checkRestored(joinPath(Buffer.from(tempDir), s.rel), joinPath(location.mirrorRoot, s.rel), s.row, buffer);
          if (outcome === null) {
            files++;
            bytes += s.sizeBytes;
          } else if (!reported.has(s.rel.toString('latin1'))) {
            problem(`${displayPath(s.rel)}: ${outcome}`);
          }
        }
      } finally {
        const removed = removeTreeSync(Buffer.from(tempDir));
        cleanedUp = removed.ok;
        if (!removed.ok) options.logger.warn(`drill: the temp directory was not fully removed: ${removed.error}`);
      }
    } finally {
      store.close();
    }
    const passed = problems.length === 0 && files > 0;
    const record = writeDrillRecord(diskRoot, { atMs: startedAtMs, passed, files, bytes, problems });
    return { passed, files, bytes, rowsConsidered, unsafeRows, problems, tempDir, cleanedUp, diskRoot, record };
  });
}

/** Re-reads a restored file: a regular file with the manifest's content, size and mtime, and the backup's mode. */
function checkRestored(restored: Buffer, original: Buffer, row: ManifestRow, buffer: Buffer): string | null {
  let st: fs.BigIntStats;
  try {
    st = fs.lstatSync(restored, { bigint: true });
  } catch (error) {
    return `missing after the restore (${(error as NodeJS.ErrnoException).code ?? 'EIO'})`;
  }
  if (!st.isFile()) return 'restored as something other than a regular file';
  if (Number(st.size) !== row.sizeBytes) return `restored size ${st.size} differs from the manifest's ${row.sizeBytes}`;
  if (st.mtimeNs !== row.mtimeNs) return `restored mtime ${st.mtimeNs} ns differs from the manifest's ${row.mtimeNs} ns`;
  const h = hashFileSync(restored, buffer);
  if (!h.ok) return `cannot re-read the restored file (${h.code})`;
  if (h.hash !== row.hash) return `restored content (XXH64 ${h.hash}) differs from the manifest (${row.hash})`;
  try {
    const orig = fs.lstatSync(original, { bigint: true });
    if ((orig.mode & 0o7777n) !== (st.mode & 0o7777n)) return `restored mode ${(st.mode & 0o7777n).toString(8)} differs from the backup's ${(orig.mode & 0o7777n).toString(8)}`;
  } catch {
    // the backup file itself is gone: restorePaths has already reported it
  }
  return null;
}
