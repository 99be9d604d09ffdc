// After each step of the nightly run (one service's volumes, one source), re-read P % of that step's
// files on the disk and in the source and compare both with the manifest: proof that what was just
// written reads back, and the nightly scrub, one step at a time. The rows are taken oldest
// verification first (never verified first), like `home-lab scrub`, so P % a night covers every file
// of an unchanged tree in ceil(100 / P) nights. The per-file checks are scrub's (scrub/verify.ts).
import { displayPath } from '../engine/bytes.js';
import { ioBuffer } from '../engine/hash.js';
import { ManifestStore, rowFromRaw, type ManifestRow, type RawRow, type VerifyStatus } from '../manifest/store.js';
import { recordRepair, setVerifiedByKey } from '../manifest/queries.js';
import { RootedTree } from '../scrub/safe-path.js';
import { parsePercent, sampleSize } from '../scrub/select.js';
import { checkBackup, checkSource, decide, repair } from '../scrub/verify.js';

export interface SampleOptions {
  /** The disk root holding .home-lab/manifest.db. */
  diskRoot: string;
  /** The step's files: manifest rows at or below this path ('source' or 'source/rel/of/volume'). */
  prefix: string;
  /** Where the same files are in the source. */
  srcDir: string;
  percent: number;
  nowMs: number;
  /** chown repaired files (rsync -a does when root). */
  chown: boolean;
}

export interface SampleResult {
  /** Rows under the prefix. */
  rows: number;
  verified: number;
  /** Backup copies that did not read back as recorded (corrupt or missing). */
  corrupt: number;
  sourceRot: number;
  /** Corrupt copies rewritten from a good source (counted in corrupt too). */
  repaired: number;
  /** Source files that changed since the copy (not an error: compared with the manifest only). */
  sourceChanged: number;
  failures: { path: string; error: string }[];
}


// dir = prefix, or dir in [prefix + '/', prefix + '0'): '0' is the byte after '/'. For prefix '' all rows.
const UNDER = '(? = x\'\' OR dir = ? OR (dir >= ? AND dir < ?) OR (dir = x\'\' AND name = ?))';

function bounds(prefix: Buffer): Buffer[] {
  return [prefix, prefix, Buffer.concat([prefix, Buffer.from('/')]), Buffer.concat([prefix, Buffer.from('0')]), prefix];
}

export function verifySample(o: SampleOptions): SampleResult {
  const result: SampleResult = { rows: 0, verified: 0, corrupt: 0, sourceRot: 0, repaired: 0, sourceChanged: 0, failures: [] };
  const percent = parsePercent(String(o.percent));
  const store = ManifestStore.open(o.diskRoot);
  try {
    const prefix = Buffer.from(o.prefix.replace(/^\/+|\/+$/g, ''));
    const db = store.database;
    const b = bounds(prefix);
    result.rows = Number((db.prepare(`SELECT COUNT(*) AS n FROM files WHERE ${UNDER}`).safeIntegers(true).get(...b) as { n: bigint }).n);
    if ('error' in percent || result.rows === 0) return result;
    const n = sampleSize(result.rows, percent);
    const raw = db
      .prepare(`SELECT * FROM files WHERE ${UNDER} ORDER BY verified_at IS NOT NULL, verified_at, dir, name LIMIT ?`)
      .safeIntegers(true)
      .all(...b, n) as RawRow[];
    const disk = new RootedTree(o.diskRoot);
    const src = new RootedTree(o.srcDir);
    const buffer = ioBuffer();
    const records: { key: { dir: Buffer; name: Buffer }; status: VerifyStatus; fresh?: { path: Buffer; sizeBytes: number; mtimeNs: bigint; hash: string } }[] = [];
    for (const r of raw) {
      const row: ManifestRow = rowFromRaw(r);
      const rel = prefix.length === 0 ? row.path : row.path.subarray(prefix.length + 1);
      const backup = checkBackup(disk, row, buffer);
      const source = rel.length === 0 ? { state: { kind: 'none' as const } } : checkSource(src, rel, row, buffer);
      if (source.state.kind === 'changed') result.sourceChanged++;
      const d = decide(backup.state, source.state);
      result.verified++;
      if (d.action === 'record' && d.status === 'ok') {
        records.push({ key: r, status: 'ok' });
        continue;
      }
      // A copy that does not read back right after it was written is a disk problem: reported
      // whether or not the repair from the (good, unchanged) source worked.
      if (d.action === 'repair' && source.state.kind === 'good' && backup.full !== null) {
        result.corrupt++;
        const fixed = repair(row, backup.full, source.state, buffer, o.chown);
        if (fixed.ok) {
          result.repaired++;
          records.push({ key: r, status: 'repaired', fresh: { path: row.path, sizeBytes: fixed.sizeBytes, mtimeNs: fixed.mtimeNs, hash: fixed.hash } });
          result.failures.push({ path: displayPath(row.path), error: `corrupt right after the copy: ${d.was}; repaired from the source (check the disk)` });
        } else {
          records.push({ key: r, status: 'corrupt' });
          result.failures.push({ path: displayPath(row.path), error: `corrupt right after the copy: ${d.was}; ${fixed.error}` });
        }
        continue;
      }
      const status: VerifyStatus = d.action === 'record' ? d.status : 'corrupt';
      const detail = d.action === 'record' ? d.detail : d.was;
      if (status === 'source-rot') result.sourceRot++;
      else result.corrupt++;
      records.push({ key: r, status });
      result.failures.push({ path: displayPath(row.path), error: `${status}: ${detail}` });
    }
    store.transaction(() => {
      for (const rec of records) {
        if (rec.fresh) recordRepair(store, rec.fresh, o.nowMs);
        else setVerifiedByKey(store, rec.key, o.nowMs, rec.status);
      }
    });
    return result;
  } finally {
    store.close();
  }
}
