// `home-lab restore PATH... --to DIR [--from-trash DATE]`: finds the mirror's disk and manifest,
// checks the paths and the target, and runs restorePaths with the manifest as the judge.
import fs from 'node:fs';
import { SLASH, displayPath, joinPath, toBuffer } from '../engine/bytes.js';
import { FatalError } from '../errors.js';
import type { Logger } from '../log.js';
import { ManifestError, ManifestStore, MANIFEST_DIR } from '../manifest/store.js';
import { isTrashDay, trashDayDir } from '../trash/layout.js';
import { components, normalizeRelativePath } from '../trash/safe-path.js';
import { locateMirror, type MirrorLocation } from './locate.js';
import { restorePaths, type RestoreEvent, type RestoreResult } from './restore.js';
import { checkAgainstRow, type FileCheck, type RestoredFile } from './verify.js';

export interface RestoreRunOptions {
  /** The mirror root (or the disk root) the paths are relative to. */
  target: string | Buffer;
  /** As typed by the owner: relative to the target. */
  paths: readonly (string | Buffer)[];
  to: string | Buffer;
  /** 'YYYY-MM-DD': read from that day's trash instead of the mirror. */
  fromTrash?: string;
  preserveOwner: boolean;
  logger: Logger;
  onEvent?: (event: RestoreEvent) => void;
}

export interface RestoreRunResult extends RestoreResult {
  location: MirrorLocation;
  sourceRoot: Buffer;
  /** Why files could not be checked at all (no manifest), or null. */
  manifestProblem: string | null;
}

export function runRestore(options: RestoreRunOptions): RestoreRunResult {
  const paths = options.paths.map((p) => {
    const n = normalizeRelativePath(toBuffer(p));
    if (!n.ok) throw new FatalError(`cannot restore ${displayPath(p)}: ${n.error}. Paths are relative to the mirror root, without '..'.`, 'usage');
    return n.path;
  });
  if (paths.length === 0) throw new FatalError('name at least one path to restore (relative to the mirror root; "." for everything)', 'usage');
  const location = locateMirror(options.target);
  const sourceRoot = sourceRootFor(location, options.fromTrash);
  const to = prepareTarget(toBuffer(options.to), sourceRoot, location, paths);

  let store: ManifestStore | null = null;
  let manifestProblem: string | null = null;
  if (location.hasManifest && location.diskRoot) {
    try {
      store = ManifestStore.open(location.diskRoot.toString(), { readonly: true });
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      manifestProblem = error.message;
    }
  } else {
    manifestProblem = `no manifest at or above ${displayPath(location.mirrorRoot)}: files are restored unverified`;
  }
  if (manifestProblem) options.logger.warn(manifestProblem);
  try {
    const check = store ? manifestCheck(store, location.prefix, options.fromTrash ? 'trash' : 'mirror') : null;
    const result = restorePaths({
      sourceRoot,
      paths,
      to,
      check,
      preserveOwner: options.preserveOwner,
      skipAtRoot: location.prefix.length === 0 && !options.fromTrash ? [Buffer.from(MANIFEST_DIR)] : [],
      onEvent: options.onEvent,
    });
    return { ...result, location, sourceRoot, manifestProblem };
  } finally {
    store?.close();
  }
}

/** The manifest as the judge of restored files: rows are keyed by the path relative to the disk. */
export function manifestCheck(store: ManifestStore, prefix: Buffer, from: 'mirror' | 'trash'): (rel: Buffer, got: RestoredFile) => FileCheck {
  return (rel, got) => checkAgainstRow(store.get(joinPath(prefix, rel)), got, from);
}

/** The mirror root, or the mirror's copy in a trash day: <disk>/.home-lab/trash/<date>/<prefix>. */
export function sourceRootFor(location: MirrorLocation, fromTrash: string | undefined): Buffer {
  if (fromTrash === undefined) return location.mirrorRoot;
  if (!isTrashDay(fromTrash)) throw new FatalError(`--from-trash takes a day as YYYY-MM-DD, not ${JSON.stringify(fromTrash)}`, 'usage');
  if (!location.diskRoot) throw new FatalError(`no .home-lab directory at or above ${displayPath(location.mirrorRoot)}: there is no trash to restore from`, 'usage');
  const day = Buffer.from(trashDayDir(location.diskRoot.toString(), fromTrash));
  let st: fs.Stats | null;
  try {
    st = fs.lstatSync(day);
  } catch {
    st = null;
  }
  if (!st?.isDirectory()) {
    const days = listTrashDays(location.diskRoot);
    throw new FatalError(`there is no trash for ${fromTrash} on this disk (days kept: ${days.length > 0 ? days.join(', ') : 'none'})`, 'usage');
  }
  // The mirror's copy inside the trash day: each directory on the way must be real (a symlink planted
  // in the trash must not turn a restore into a read of whatever it points at).
  let at: Buffer = day;
  for (const part of components(location.prefix)) {
    at = joinPath(at, part);
    let partSt: fs.Stats | null;
    try {
      partSt = fs.lstatSync(at);
    } catch {
      partSt = null;
    }
    if (partSt === null) throw new FatalError(`the trash of ${fromTrash} holds nothing from ${displayPath(location.prefix)}`, 'usage');
    if (!partSt.isDirectory()) throw new FatalError(`the trash of ${fromTrash} has a ${partSt.isSymbolicLink() ? 'symlink' : 'non-directory'} at ${displayPath(at)}: never followed`, 'fatal');
  }
  return at;
}

function listTrashDays(diskRoot: Buffer): string[] {
  try {
    return fs.readdirSync(joinPath(diskRoot, Buffer.from('.home-lab/trash'))).filter(isTrashDay).sort();
  } catch {
    return [];
  }
}

/**
 * Creates the target and refuses one that overlaps what is read: a restore into the mirror would
 * walk its own output (and the next mirror would delete it), one over the mirror would overwrite the
 * backup, and one into .home-lab/ would mix with the manifest and the trash.
 */
function prepareTarget(to: Buffer, sourceRoot: Buffer, location: MirrorLocation, paths: Buffer[]): Buffer {
  try {
    fs.mkdirSync(to, { recursive: true });
  } catch (error) {
    throw new FatalError(`cannot create the restore target ${displayPath(to)}: ${(error as NodeJS.ErrnoException).code ?? 'EIO'}`, 'usage');
  }
  const real = fs.realpathSync(to, { encoding: 'buffer' });
  if (!fs.statSync(real).isDirectory()) throw new FatalError(`the restore target ${displayPath(to)} is not a directory`, 'usage');
  const guarded = [location.mirrorRoot, sourceRoot];
  if (location.diskRoot) guarded.push(joinPath(location.diskRoot, Buffer.from(MANIFEST_DIR)));
  for (const g of guarded) {
    if (within(real, g)) throw new FatalError(`the restore target ${displayPath(to)} is inside the backup (${displayPath(g)}): restore somewhere outside it`, 'usage');
  }
  for (const p of paths) {
    const landing = joinPath(real, p);
    for (const g of guarded) {
      if (within(g, landing)) throw new FatalError(`restoring ${displayPath(p)} into ${displayPath(to)} would write over the backup itself (${displayPath(g)})`, 'usage');
    }
  }
  return real;
}

/** Is `inner` the same as, or below, `outer`? (Both absolute, no trailing slash but '/'.) */
function within(inner: Buffer, outer: Buffer): boolean {
  if (outer.length === 1 && outer[0] === SLASH) return true;
  if (inner.length < outer.length || !inner.subarray(0, outer.length).equals(outer)) return false;
  return inner.length === outer.length || inner[outer.length] === SLASH;
}
