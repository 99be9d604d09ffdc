// `manifest rebuild`: rehash every file under TARGET into a fresh manifest when the old one is lost
// or corrupt. A healthy manifest is never replaced; a corrupt one only with --force, and then it is
// moved aside (manifest.db.corrupt-<time>), never deleted. The new manifest is built under a temp
// name and linked into place at the end, so a killed rebuild never leaves a half manifest behind the
// real name.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDatabase, type SqliteDatabase } from './sqlite.js';
import { FatalError } from '../errors.js';
import { joinPath, toBuffer, trimSlashes } from '../engine/bytes.js';
import { hashFileSync, ioBuffer } from '../engine/hash.js';
import { MANIFEST_DIR, ManifestStore, SCHEMA_VERSION, manifestPath } from './store.js';
import { walkTree } from './tree.js';
import { monotonicMs } from '../clock.js';


export type ManifestHealth =
  | { state: 'missing' }
  | { state: 'healthy'; files: number }
  | { state: 'corrupt'; reason: string }
  /** Readable, but written by another home-lab version: not ours to replace. */
  | { state: 'foreign'; reason: string };

/** Opens the manifest read-only and runs SQLite's quick_check. Never writes to it. */
export function checkManifest(root: string): ManifestHealth {
  const file = manifestPath(root);
  if (!fs.existsSync(file)) return { state: 'missing' };
  let db: SqliteDatabase | undefined;
  try {
    db = openDatabase(file, { readonly: true, fileMustExist: true });
    const problems = (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check);
    if (problems.length !== 1 || problems[0] !== 'ok') return { state: 'corrupt', reason: `quick_check: ${problems.slice(0, 3).join('; ')}` };
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    if (Number(row?.value) !== SCHEMA_VERSION) {
      return { state: 'foreign', reason: `schema version ${row?.value ?? 'none'}, this home-lab reads ${SCHEMA_VERSION}` };
    }
    const n = db.prepare('SELECT COUNT(*) AS n FROM files').get() as { n: number };
    return { state: 'healthy', files: n.n };
  } catch (error) {
    return { state: 'corrupt', reason: (error as Error).message };
  } finally {
    db?.close();
  }
}

export type RebuildEvent =
  | { kind: 'progress'; files: number; bytes: number }
  | { kind: 'failure'; path: Buffer; error: string }
  | { kind: 'notice'; message: string };

export interface RebuildOptions {
  target: string;
  /** Move a corrupt manifest aside and rebuild (without it, a corrupt manifest is a refusal). */
  force: boolean;
  /** Wall clock ms: hashed_at of the rows and the name of the moved-aside file. */
  now?: () => number;
  elapsedMs?: () => number;
  onEvent?: (event: RebuildEvent) => void;
}

export interface RebuildResult {
  manifest: string;
  files: number;
  bytes: number;
  /** Files that could not be hashed (not in the new manifest; verify will list them). */
  failed: { path: Buffer; error: string }[];
  /** Where the corrupt manifest went, or null when there was none. */
  movedAside: string[];
  durationMs: number;
}

function stampOf(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Moves manifest.db and its -wal/-shm aside under one time stamp; returns the new names. */
function moveAside(file: string, atMs: number): string[] {
  const moved: string[] = [];
  const base = `${file}.corrupt-${stampOf(atMs)}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (!fs.existsSync(file + suffix)) continue;
    let to = base + suffix;
    for (let i = 1; fs.existsSync(to); i++) to = `${base}.${i}${suffix}`;
    fs.renameSync(file + suffix, to);
    moved.push(to);
  }
  return moved;
}

const TX_ROWS = 1000;

export async function rebuildManifest(o: RebuildOptions): Promise<RebuildResult> {
  const now = o.now ?? Date.now;
  const elapsed = o.elapsedMs ?? monotonicMs;
  const emit = o.onEvent ?? (() => {});
  const t0 = elapsed();
  const file = manifestPath(o.target);
  let st: fs.Stats;
  try {
    st = fs.statSync(o.target);
  } catch (error) {
    throw new FatalError(`cannot rebuild the manifest of ${o.target}: ${(error as NodeJS.ErrnoException).code ?? String(error)}. Is the disk mounted?`);
  }
  if (!st.isDirectory()) throw new FatalError(`cannot rebuild the manifest of ${o.target}: not a directory`);

  const health = checkManifest(o.target);
  let movedAside: string[] = [];
  if (health.state === 'healthy') {
    throw new FatalError(
      `the manifest ${file} is healthy (${health.files} files): rebuild refuses to replace it. ` +
        `Use \`home-lab verify ${o.target}\` to check the files against it.`,
      'refused',
    );
  }
  if (health.state === 'foreign') {
    throw new FatalError(`the manifest ${file} is from another home-lab version (${health.reason}): rebuild refuses to replace it. Upgrade home-lab.`, 'refused');
  }
  if (health.state === 'corrupt') {
    if (!o.force) {
      throw new FatalError(
        `the manifest ${file} is corrupt (${health.reason}). Run \`home-lab manifest rebuild --force ${o.target}\` ` +
          `to move it aside (to ${path.basename(file)}.corrupt-<time>, kept for inspection) and rehash every file into a new one.`,
        'refused',
      );
    }
    movedAside = moveAside(file, now());
    emit({ kind: 'notice', message: `moved the corrupt manifest aside: ${movedAside.join(', ')}` });
  }

  // Build under .home-lab/rebuild-*/.home-lab/manifest.db, then link it into place.
  const scratch = path.join(o.target, MANIFEST_DIR, `rebuild-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(path.dirname(scratch), { recursive: true, mode: 0o700 });
  const result: RebuildResult = { manifest: file, files: 0, bytes: 0, failed: [], movedAside, durationMs: 0 };
  try {
    const store = ManifestStore.open(scratch, { create: true });
    try {
      const buffer = ioBuffer();
      const root = trimSlashes(toBuffer(o.target));
      let inTx = 0;
      store.begin();
      for (const listing of walkTree(o.target)) {
        if (listing.error !== null) {
          const failure = { path: listing.dir, error: `cannot list the directory: ${listing.error}` };
          result.failed.push(failure);
          emit({ kind: 'failure', ...failure });
          continue;
        }
        for (const e of listing.entries) {
          if (e.type !== 'file') continue;
          const rel = joinPath(listing.dir, e.name);
          const h = hashFileSync(joinPath(root, rel), buffer);
          if (!h.ok) {
            const failure = { path: rel, error: h.error };
            result.failed.push(failure);
            emit({ kind: 'failure', ...failure });
            continue;
          }
          store.upsert({ path: rel, sizeBytes: h.sizeBytes, mtimeNs: h.mtimeNs, hash: h.hash, hashedAtMs: now() });
          result.files++;
          result.bytes += h.sizeBytes;
          if (++inTx >= TX_ROWS) {
            store.commit();
            store.begin();
            inTx = 0;
          }
        }
        emit({ kind: 'progress', files: result.files, bytes: result.bytes });
        await new Promise((resolve) => setImmediate(resolve));
      }
      store.commit();
      // A self-contained file (no -wal beside it) is what gets linked into place.
      store.database.pragma('journal_mode = DELETE');
    } finally {
      store.close();
    }
    const built = manifestPath(scratch);
    // link() never replaces: if a manifest appeared meanwhile (a mirror ran), it wins and we say so.
    try {
      fs.linkSync(built, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new FatalError(`a manifest appeared at ${file} while rebuilding (did a mirror run?): left it in place, discarded the rebuilt one`, 'refused');
      }
      throw error;
    }
    const dirFd = fs.openSync(path.dirname(file), 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  result.durationMs = Math.max(0, elapsed() - t0);
  return result;
}
