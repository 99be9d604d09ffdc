// Copies paths out of a mirror (or a trash day) into a target directory with every attribute the
// mirror keeps: mode, owner (as root), mtime to the nanosecond, symlinks as links, fifos and device
// nodes. Each regular file is hashed as it is copied (engine/copy-file.ts) and checked against the
// manifest through `check`.
//
// Safety, since a restore reads a disk that may be damaged and writes where the owner works:
// - paths are relative to the source root and checked (no '..', absolute, NUL) before use;
// - no symlink in the source is followed: a directory on the way to a path must be a real directory,
//   files are opened O_NOFOLLOW, symlinks are recreated as links;
// - no symlink in the target is written through: every directory entered in the target is created or
//   lstat-checked, and files and links land by rename over the final name, which replaces a link
//   instead of following it;
// - names are printed only through displayPath, and errors carry codes, never raw fs messages (which
//   embed raw names).
import fs from 'node:fs';
import { displayPath, joinPath } from '../engine/bytes.js';
import { copyFileSync, copyJobFromStat } from '../engine/copy-file.js';
import { ioBuffer } from '../engine/hash.js';
import { unsafeRelativePath } from '../trash/safe-path.js';
import { checkSourceParents, describe, enterTargetDir, explain, prepareTargetParents, restoreSpecial, restoreSymlink, setAttributes, type Attrs } from './entries.js';
import type { FileCheck, RestoredFile } from './verify.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'special';

export type RestoreEvent =
  | { kind: 'restored'; path: Buffer; type: EntryType; sizeBytes: number; check?: FileCheck }
  | { kind: 'failure'; path: Buffer; error: string };

export interface RestoreOptions {
  /** The tree to read: a mirror root, or the mirror's copy inside a trash day. */
  sourceRoot: Buffer;
  /** Relative to sourceRoot, normalized; '' restores everything. */
  paths: readonly Buffer[];
  /** The target directory (created when missing); a path P lands at <to>/P. */
  to: Buffer;
  /** Verdict on a restored regular file (the manifest check); null = no manifest, all unverified. */
  check: ((rel: Buffer, got: RestoredFile) => FileCheck) | null;
  /** chown to the mirror's owner (as root, like rsync -a). */
  preserveOwner: boolean;
  /** Names skipped at the source root (the tool's own .home-lab/). */
  skipAtRoot?: readonly Buffer[];
  onEvent?: (event: RestoreEvent) => void;
}

export interface RestoreResult {
  filesRestored: number;
  bytesRestored: number;
  /** Directories, symlinks and special files restored. */
  otherRestored: number;
  filesVerified: number;
  filesUnverified: number;
  mismatches: { path: Buffer; why: string }[];
  failed: { path: Buffer; error: string }[];
}

type Task = { kind: 'entry'; rel: Buffer } | { kind: 'finishDir'; rel: Buffer; st: fs.BigIntStats };

interface DirAttrs extends Attrs {
  rel: Buffer;
}

export function restorePaths(options: RestoreOptions): RestoreResult {
  const result: RestoreResult = { filesRestored: 0, bytesRestored: 0, otherRestored: 0, filesVerified: 0, filesUnverified: 0, mismatches: [], failed: [] };
  const buffer = ioBuffer();
  const emit = options.onEvent ?? (() => {});
  const fail = (rel: Buffer, error: string) => {
    result.failed.push({ path: rel, error });
    emit({ kind: 'failure', path: rel, error });
  };
  const src = (rel: Buffer) => joinPath(options.sourceRoot, rel);
  const dst = (rel: Buffer) => joinPath(options.to, rel);
  const skip = new Set((options.skipAtRoot ?? []).map((n) => n.toString('latin1')));

  const finished: DirAttrs[] = [];
  fs.mkdirSync(options.to, { recursive: true });
  const root = fs.statSync(options.to);
  if (!root.isDirectory()) throw new Error(`restore target ${displayPath(options.to)} is not a directory`);

  for (const rel of options.paths) {
    if (rel.length > 0) {
      const problem = unsafeRelativePath(rel);
      if (problem !== null) {
        fail(rel, `refused: ${problem}`);
        continue;
      }
      const blocked = checkSourceParents(options.sourceRoot, rel);
      if (blocked !== null) {
        fail(rel, blocked);
        continue;
      }
    }
    const parents = rel.length > 0 ? prepareTargetParents(options.to, rel) : { ok: true as const, created: [] };
    if (!parents.ok) {
      fail(rel, parents.error);
      continue;
    }
    // Parents created here get the backup's attributes after everything below them (deepest first).
    const stack: Task[] = [];
    for (const parent of parents.created) {
      try {
        stack.push({ kind: 'finishDir', rel: parent, st: fs.lstatSync(src(parent), { bigint: true }) });
      } catch {
        // checked just above; if it vanished meanwhile, the directory keeps mode 0700
      }
    }
    stack.push({ kind: 'entry', rel });
    while (stack.length > 0) {
      const task = stack.pop() as Task;
      if (task.kind === 'finishDir') {
        const st = task.st;
        finished.push({ rel: task.rel, mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), atimeNs: st.atimeNs, mtimeNs: st.mtimeNs });
        continue;
      }
      const entry = task.rel;
      let st: fs.BigIntStats;
      try {
        st = fs.lstatSync(src(entry), { bigint: true });
      } catch (error) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        fail(entry, missing ? 'not in the backup (ENOENT)' : `cannot read it in the backup: ${describe(error)}`);
        continue;
      }
      if (st.isDirectory()) {
        const made = entry.length === 0 ? null : enterTargetDir(dst(entry));
        if (made !== null && !made.ok) {
          fail(entry, made.error);
          continue;
        }
        let names: Buffer[];
        try {
          names = fs.readdirSync(src(entry), { encoding: 'buffer' });
        } catch (error) {
          fail(entry, `cannot list it in the backup: ${describe(error)}`);
          continue;
        }
        stack.push({ kind: 'finishDir', rel: entry, st });
        names.sort(Buffer.compare);
        for (let i = names.length - 1; i >= 0; i--) {
          const name = names[i] as Buffer;
          if (entry.length === 0 && skip.has(name.toString('latin1'))) continue;
          stack.push({ kind: 'entry', rel: joinPath(entry, name) });
        }
        result.otherRestored += entry.length === 0 ? 0 : 1;
        emit({ kind: 'restored', path: entry, type: 'dir', sizeBytes: 0 });
      } else if (st.isFile()) {
        restoreFile(entry, st);
      } else if (st.isSymbolicLink()) {
        const error = restoreSymlink(src(entry), dst(entry), st, options.preserveOwner);
        if (error) fail(entry, error);
        else {
          result.otherRestored++;
          emit({ kind: 'restored', path: entry, type: 'symlink', sizeBytes: 0 });
        }
      } else {
        const error = restoreSpecial(dst(entry), st, options.preserveOwner);
        if (error) fail(entry, error);
        else {
          result.otherRestored++;
          emit({ kind: 'restored', path: entry, type: 'special', sizeBytes: 0 });
        }
      }
    }
  }
  // Directory modes and times last of all: a later path may write into a directory an earlier one
  // finished (its mtime would move, and a 0555 mode would block a non-root restore). Children first.
  for (const d of finished) {
    const error = setAttributes(dst(d.rel), d, options.preserveOwner);
    if (error) fail(d.rel, `directory attributes not set: ${error}`);
  }
  return result;

  function restoreFile(rel: Buffer, st: fs.BigIntStats): void {
    const copied = copyFileSync(copyJobFromStat(src(rel), dst(rel), st, options.preserveOwner), buffer);
    if (!copied.ok) {
      fail(rel, copied.code === 'CHANGED' ? `the backup copy ${copied.error}` : `not restored: ${explain(copied.code)}`);
      return;
    }
    result.filesRestored++;
    result.bytesRestored += copied.sizeBytes;
    const check: FileCheck = options.check ? options.check(rel, copied) : { status: 'unverified', why: 'no manifest' };
    if (check.status === 'verified') result.filesVerified++;
    else if (check.status === 'unverified') result.filesUnverified++;
    else result.mismatches.push({ path: rel, why: check.why });
    emit({ kind: 'restored', path: rel, type: 'file', sizeBytes: copied.sizeBytes, check });
  }
}

