// Re-hash one manifest row's file and classify it; with a source, tell backup rot (repairable from
// the source) from source rot (the backup holds the last good copy and must be kept).
//
// The I/O is in checkBackup / checkSource / repair; `decide` is the pure table between them.
import fs from 'node:fs';
import { hashFileSync } from '../engine/hash.js';
import { copyFileSync, copyJobFromStat } from '../engine/copy-file.js';
import { splitPath } from '../engine/bytes.js';
import { hlfs } from '../native/hlfs.js';
import type { ManifestRow } from '../manifest/store.js';
import type { RootedTree } from './safe-path.js';

export type BackupState =
  | { kind: 'ok' }
  | { kind: 'corrupt'; reason: string; repairable: boolean }
  | { kind: 'missing'; reason: string; repairable: boolean }
  /** The row's path could escape the root: never read, never repaired. */
  | { kind: 'unsafe'; reason: string };

export type SourceState =
  | { kind: 'none' }
  /** Same size and mtime as the manifest, same hash: a good copy to repair from. */
  | { kind: 'good'; stat: fs.BigIntStats; full: Buffer }
  /** Same size and mtime as the manifest, another hash: source rot (or an edit that kept both). */
  | { kind: 'rot'; hash: string }
  /** Size or mtime moved since the mirror: the next mirror copies the new version. */
  | { kind: 'changed'; reason: string }
  /** Gone, not a regular file, unreadable or behind a symlink: nothing to compare with. */
  | { kind: 'gone'; reason: string };

function describeHashError(code: string, error: string): { kind: 'missing' | 'corrupt'; reason: string } {
  if (code === 'ENOENT') return { kind: 'missing', reason: 'the file is gone' };
  if (code === 'ELOOP') return { kind: 'corrupt', reason: 'a symlink where a regular file should be (not followed)' };
  if (code === 'ENOTREG') return { kind: 'corrupt', reason: 'not a regular file' };
  if (code === 'ENOTDIR') return { kind: 'missing', reason: 'a parent is not a directory' };
  return { kind: 'corrupt', reason: `unreadable: ${error}` };
}

/** Reads the backup copy once and compares it with the row. bytesRead counts what was hashed. */
export function checkBackup(tree: RootedTree, row: ManifestRow, buffer: Buffer): BackupCheck {
  const where = locateBackup(tree, row);
  if (!where.ok) return where.check;
  return classifyBackup(row, hashFileSync(where.full, buffer), where.full);
}

export type BackupCheck = { state: BackupState; bytesRead: number; full: Buffer | null };

/** Where the row's backup copy is, or the check's outcome when its path cannot be read safely. */
export function locateBackup(tree: RootedTree, row: ManifestRow): { ok: true; full: Buffer } | { ok: false; check: BackupCheck } {
  const where = tree.resolve(row.path);
  if (where.ok) return where;
  if (where.kind === 'unsafe') return { ok: false, check: { state: { kind: 'unsafe', reason: where.reason }, bytesRead: 0, full: null } };
  // A parent that is a symlink must never be written through: not repairable in place.
  const kind = where.kind === 'missing' ? 'missing' : 'corrupt';
  return { ok: false, check: { state: { kind, reason: where.reason, repairable: false }, bytesRead: 0, full: null } };
}

/** The backup copy's hash (taken here or on a worker thread) against the row. */
export function classifyBackup(row: ManifestRow, h: HashOutcome, full: Buffer): BackupCheck {
  if (!h.ok) {
    const d = describeHashError(h.code, h.error);
    // A missing file in an existing directory, or a bad file in place, is replaced by the rename.
    return { state: { ...d, repairable: h.code !== 'ENOTDIR' }, bytesRead: 0, full };
  }
  if (h.sizeBytes !== row.sizeBytes) {
    return { state: { kind: 'corrupt', reason: `size is ${h.sizeBytes} bytes, the manifest says ${row.sizeBytes}`, repairable: true }, bytesRead: h.sizeBytes, full };
  }
  if (h.hash !== row.hash) {
    return { state: { kind: 'corrupt', reason: `content hash ${h.hash} differs from the manifest's ${row.hash}`, repairable: true }, bytesRead: h.sizeBytes, full };
  }
  return { state: { kind: 'ok' }, bytesRead: h.sizeBytes, full };
}

type HashOutcome = { ok: true; hash: string; sizeBytes: number } | { ok: false; code: string; error: string };

/** Reads the source copy (only when it still has the manifest's size and mtime). */
export function checkSource(tree: RootedTree, rel: Buffer, row: ManifestRow, buffer: Buffer): { state: SourceState; bytesRead: number } {
  const where = tree.resolve(rel);
  if (!where.ok) return { state: { kind: 'gone', reason: where.reason }, bytesRead: 0 };
  let st: fs.BigIntStats;
  try {
    st = fs.lstatSync(where.full, { bigint: true });
  } catch (error) {
    return { state: { kind: 'gone', reason: (error as NodeJS.ErrnoException).code ?? 'EIO' }, bytesRead: 0 };
  }
  if (!st.isFile()) return { state: { kind: 'gone', reason: 'not a regular file in the source' }, bytesRead: 0 };
  if (Number(st.size) !== row.sizeBytes || st.mtimeNs !== row.mtimeNs) {
    return { state: { kind: 'changed', reason: 'the source changed size or mtime since the mirror' }, bytesRead: 0 };
  }
  const h = hashFileSync(where.full, buffer);
  if (!h.ok) return { state: { kind: 'gone', reason: `source unreadable: ${h.error}` }, bytesRead: 0 };
  if (h.sizeBytes !== row.sizeBytes || h.mtimeNs !== row.mtimeNs) {
    return { state: { kind: 'changed', reason: 'the source changed while it was read' }, bytesRead: h.sizeBytes };
  }
  if (h.hash !== row.hash) return { state: { kind: 'rot', hash: h.hash }, bytesRead: h.sizeBytes };
  return { state: { kind: 'good', stat: st, full: where.full }, bytesRead: h.sizeBytes };
}

export type Decision =
  | { action: 'record'; status: 'ok' }
  | { action: 'record'; status: 'corrupt' | 'missing' | 'source-rot'; finding: 'corrupt' | 'missing' | 'source-rot' | 'unsafe'; detail: string }
  | { action: 'repair'; was: string };

const ROT_DETAIL =
  'SOURCE ROT: the source file has the size and mtime the backup was made from but different content ' +
  '(bit rot, or an edit that kept size and mtime). The backup holds the last good copy and was left untouched; ' +
  'check the source file and restore it from the backup if it is damaged';

/** The pure table: backup state x source state -> what to record or whether to repair. */
export function decide(backup: BackupState, source: SourceState): Decision {
  if (backup.kind === 'unsafe') return { action: 'record', status: 'corrupt', finding: 'unsafe', detail: backup.reason };
  if (backup.kind === 'ok') {
    if (source.kind === 'rot') return { action: 'record', status: 'source-rot', finding: 'source-rot', detail: `${ROT_DETAIL} (source hash ${source.hash})` };
    return { action: 'record', status: 'ok' };
  }
  if (source.kind === 'good' && backup.repairable) return { action: 'repair', was: backup.reason };
  let detail = backup.reason;
  if (source.kind === 'rot') detail += '; the source differs from the manifest too (source rot?): no good copy is known';
  else if (source.kind === 'changed') detail += `; not repaired: ${source.reason}, the next mirror copies the new version`;
  else if (source.kind === 'gone') detail += `; not repaired: ${source.reason}`;
  else if (source.kind === 'good') detail += '; not repaired in place (the path is blocked): the next mirror replaces it';
  return { action: 'record', status: backup.kind, finding: backup.kind, detail };
}

export type RepairResult = { ok: true; hash: string; sizeBytes: number; mtimeNs: bigint } | { ok: false; error: string };

/**
 * Copies the good source file over the backup copy (temp file + rename: never a half-written file
 * under the real name), then checks the copy's hash against the manifest. The backup directory keeps
 * its times, so the repair does not show up as a change to the next mirror.
 */
export function repair(row: ManifestRow, backupFull: Buffer, source: { stat: fs.BigIntStats; full: Buffer }, buffer: Buffer, chown: boolean): RepairResult {
  const parent = splitPath(backupFull).dir;
  let parentTimes: { atimeNs: bigint; mtimeNs: bigint } | null = null;
  try {
    const p = fs.lstatSync(parent, { bigint: true });
    parentTimes = { atimeNs: p.atimeNs, mtimeNs: p.mtimeNs };
  } catch {
    // the copy below reports the real problem
  }
  const copied = copyFileSync(copyJobFromStat(source.full, backupFull, source.stat, chown), buffer);
  if (parentTimes !== null) {
    try {
      hlfs.utimensat(parent, parentTimes.atimeNs, parentTimes.mtimeNs, true);
    } catch {
      // cosmetic: the next mirror sets directory times anyway
    }
  }
  if (!copied.ok) return { ok: false, error: `repair failed: ${copied.error}` };
  if (copied.hash !== row.hash) {
    return { ok: false, error: `repair copied content with hash ${copied.hash}, not the manifest's ${row.hash} (the source changed during the copy)` };
  }
  return copied;
}
