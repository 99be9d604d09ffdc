// What `home-lab status` reads from a backup disk that happens to be mounted right now: free space
// and scrub coverage straight from its manifest, fresher than the last run's numbers in the state.
// Read-only; any problem just means "not available" (status still answers from the state).
import fs from 'node:fs';
import type { Coverage } from './outcome.js';
import { ManifestStore, manifestPath } from '../manifest/store.js';
import { readDrillRecord, type DrillRecord } from '../restore/drill-record.js';

const WINDOW_MS = 100 * 86_400_000;

export function readLiveDisk(mountPoint: string, nowMs: number): { freeBytes: number | null; coverage: Coverage | null; drill: DrillRecord | null } | null {
  if (!fs.existsSync(manifestPath(mountPoint))) return null;
  let freeBytes: number | null = null;
  try {
    const s = fs.statfsSync(mountPoint);
    freeBytes = s.bavail * s.bsize;
  } catch {
    // leave unknown
  }
  let coverage: Coverage | null = null;
  let store: ManifestStore | undefined;
  try {
    store = ManifestStore.open(mountPoint, { readonly: true });
    const r = store.database
      .prepare(
        `SELECT COUNT(*) AS rows, COALESCE(SUM(verified_at >= ?), 0) AS recent,
                COALESCE(SUM(verified_at IS NULL), 0) AS never, MIN(verified_at) AS oldest FROM files`,
      )
      .get(nowMs - WINDOW_MS) as { rows: number; recent: number; never: number; oldest: number | null };
    coverage = {
      rows: r.rows,
      verifiedShare100d: r.rows === 0 ? 1 : r.recent / r.rows,
      neverVerified: r.never,
      oldestVerifiedAtMs: r.oldest,
    };
  } catch {
    // a manifest being rebuilt or from a newer version: the state's numbers stand
  } finally {
    store?.close();
  }
  const drill = readDrillRecord(mountPoint);
  return { freeBytes, coverage, drill: drill.ok ? drill.record : null };
}
