// How a restored file's hash compares with the manifest. Pure.
//
// From the mirror: the row must match. A different hash is flagged whatever else differs (a damaged
// copy, or a manifest left stale by an interrupted run; either way the owner must know).
// From a trash day: the rows describe the mirror's current files, and trash holds older versions
// whose rows were replaced or removed when they were trashed. Only a row with the same size and mtime
// can vouch for a trashed file; otherwise it is restored unverified.
import type { ManifestRow } from '../manifest/store.js';

export type FileCheck =
  | { status: 'verified' }
  | { status: 'unverified'; why: string }
  | { status: 'mismatch'; why: string };

export interface RestoredFile {
  hash: string;
  sizeBytes: number;
  mtimeNs: bigint;
}

export function checkAgainstRow(row: Pick<ManifestRow, 'hash' | 'sizeBytes' | 'mtimeNs'> | undefined, got: RestoredFile, from: 'mirror' | 'trash'): FileCheck {
  if (row === undefined) return { status: 'unverified', why: 'not in the manifest' };
  const sameVersion = row.sizeBytes === got.sizeBytes && row.mtimeNs === got.mtimeNs;
  if (from === 'trash' && !sameVersion) return { status: 'unverified', why: 'the manifest describes the current version, not this trashed one' };
  if (row.hash === got.hash) return { status: 'verified' };
  if (sameVersion) {
    return { status: 'mismatch', why: `content differs from the manifest (XXH64 ${got.hash}, expected ${row.hash}) with the same size and mtime: the backup copy is damaged` };
  }
  return {
    status: 'mismatch',
    why:
      `differs from the manifest (XXH64 ${got.hash}, expected ${row.hash}; size ${got.sizeBytes} vs ${row.sizeBytes}, ` +
      `mtime ${got.mtimeNs} vs ${row.mtimeNs} ns): the copy is damaged, or the manifest is stale after an interrupted run`,
  };
}
