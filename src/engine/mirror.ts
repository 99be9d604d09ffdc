// The mirror: makes DST an exact copy of the contents of SRC (rsync -a --delete), hashing every byte
// it copies into the manifest. Walks both trees one directory at a time in sorted order (memory is
// bounded by the largest directory), sends copies to the worker pool, and runs deletions last, only
// when nothing failed and the guard allows. See DESIGN.md, "Data flow of one mirror".
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { FatalError } from '../errors.js';
import { ManifestStore, MANIFEST_DIR, type BriefRow } from '../manifest/store.js';
import { dirSummary } from '../manifest/queries.js';
import { displayPath, joinPath, toBuffer, trimSlashes } from './bytes.js';
import { TEMP_PREFIX, type CopyJob } from './copy-file.js';
import type { Entry } from './entry.js';
import { compileExcludes, type ExcludeMatcher } from './exclude.js';
import { evaluateDeletions } from './guard.js';
import { decodeListing, entryAt, listedIdentity, statEntry, type RawListing } from './walk.js';
import { TreeWalker } from './tree-walker.js';
import { unchangedDirectory } from './unchanged-dir.js';
import { planDirectory, planOne, type Action } from './plan.js';
import { attrsEqual } from './compare.js';
import { countTree, createNonRegular, removeEntry, removeTreeKeeping, setAttrs, type IsExcluded } from './apply.js';
import { CopyPool } from './pool.js';
import { hlfs } from '../native/hlfs.js';
import { holdYoungGeneration } from './heap-flags.js';
import type { Task, TaskResult } from './tasks.js';
import type { ItemAction, MirrorEvent, MirrorOptions, MirrorResult } from './types.js';

const MANIFEST_NAME = Buffer.from(MANIFEST_DIR);
const TEMP_NAME = Buffer.from(TEMP_PREFIX);
const NO_NAME = Buffer.alloc(0);
const PROGRESS_INTERVAL_MS = 200;
interface PendingDir {
  rel: Buffer;
  src: Entry;
  /** Created by this run (or would be, in a dry run): nothing to list at DST. */
  created: boolean;
  /** The directory at DST as the parent's listing saw it (null for the root or a new one). */
  dst: Entry | null;
  /** DST's directory is setgid: new files get its group, so they need a chown. */
  setgid: boolean;
}

// Lists kept for the whole run (directory fixups, deletions) hold each path as a latin1 string (one
// byte per name byte, lossless) and entries without their names. A Buffer from joinPath is a slice of
// Node's shared 8 KiB allocation pool and an Entry's name a slice of its directory's whole listing:
// either would keep that memory alive until the end of the run, per item.
interface Deletion {
  rel: string;
  kind: Entry['kind'];
  files: number;
  bytes: number;
  keepsExcluded: boolean;
}

/**
 * An entry that outlives its directory's listing (a subdirectory waiting its turn) with a name of its
 * own: a listing's names are views into the walker's buffer of up to 64 directories' listings
 * (src/engine/tree-walker.ts), which one pending subdirectory per level would otherwise keep alive.
 */
function detached(e: Entry): Entry {
  return { ...e, name: Buffer.from(e.name) };
}

export async function mirror(options: MirrorOptions): Promise<MirrorResult> {
  const now = options.now ?? Date.now;
  const startedMs = now();
  const srcRoot = resolveRoot(options.src);
  const dstRoot = resolveRoot(options.dst);
  const rootEntry = checkSource(srcRoot, options.src);
  prepareDestination(dstRoot, options.dst, options.dryRun);
  const matcher = compileExcludes(options.excludes);
  const manifestTarget = options.manifest ?? { root: options.dst, prefix: '' };
  let store: ManifestStore | null = null;
  if (!options.dryRun) {
    try {
      store = ManifestStore.open(manifestTarget.root, { create: true });
    } catch (error) {
      throw new FatalError(`cannot open the manifest: ${(error as Error).message}`);
    }
  }
  const run = new MirrorRun(options, srcRoot, dstRoot, matcher, store, toBuffer(manifestTarget.prefix), now);
  try {
    store?.begin();
    await run.walk(rootEntry);
    await run.finish();
    if (store) {
      // A disk pulled after the last copy (a lazy unmount keeps it alive for open descriptors) must
      // not pass: the flush below would flush whatever the path shows now.
      run.assertDestinationStill();
      // The manifest is committed only once the data it describes is on disk.
      syncFilesystem(dstRoot, options.dst);
      store.commit();
    }
  } catch (error) {
    if (store && (error as Error).name === 'SqliteError') {
      const code = (error as { code?: string }).code ?? 'SQLITE_ERROR';
      throw new FatalError(
        `the manifest ${store.file} could not be written (${code}${code === 'SQLITE_FULL' ? ': the backup disk is full' : ''}). ` +
          `The files copied so far are complete under their real names; free space and rerun: the next run hashes them into the manifest.`,
      );
    }
    throw error;
  } finally {
    await run.close();
    store?.close();
  }
  return run.result(now() - startedMs);
}

/** An absolute path; an existing root is resolved through symlinks once, as rsync does for SRC/. */
function resolveRoot(p: string): Buffer {
  let resolved = path.resolve(p);
  try {
    resolved = fs.realpathSync(resolved);
  } catch {
    // does not exist (yet): checked and reported by the callers
  }
  return trimSlashes(toBuffer(resolved));
}

function checkSource(srcRoot: Buffer, shown: string): Entry {
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(srcRoot, { bigint: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FatalError(
      code === 'ENOENT'
        ? `source ${shown} does not exist: check the path (is its disk mounted?). Nothing was changed.`
        : `cannot read source ${shown} (${code}): nothing was changed.`,
    );
  }
  if (!st.isDirectory()) throw new FatalError(`source ${shown} is not a directory: home-lab mirrors the contents of a directory. Nothing was changed.`);
  return {
    name: Buffer.alloc(0), kind: 'dir', perm: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid),
    sizeBytes: 0, mtimeNs: st.mtimeNs, atimeNs: st.atimeNs, rdev: 0n, linkTarget: null, ino: st.ino, dev: st.dev,
  };
}

function prepareDestination(dstRoot: Buffer, shown: string, dryRun: boolean): void {
  let st: fs.Stats | null = null;
  try {
    st = fs.lstatSync(dstRoot);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new FatalError(`cannot read destination ${shown}: ${(error as Error).message}`);
  }
  if (st && !st.isDirectory()) throw new FatalError(`destination ${shown} exists and is not a directory${st.isSymbolicLink() ? ' (it is a symlink, which home-lab never follows)' : ''}. Nothing was changed.`);
  if (st && !dryRun) {
    try {
      fs.accessSync(dstRoot, fs.constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new FatalError(
        code === 'EROFS'
          ? `destination ${shown} is on a read-only filesystem (EROFS): remount it read-write. Nothing was changed.`
          : `destination ${shown} is not writable (${code}): check its owner and mode. Nothing was changed.`,
      );
    }
  }
  if (st || dryRun) return;
  try {
    fs.mkdirSync(dstRoot, { mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FatalError(
      code === 'ENOENT'
        ? `cannot create destination ${shown}: its parent directory does not exist (home-lab creates only the last component). Nothing was changed.`
        : `cannot create destination ${shown} (${code}): check that the disk is mounted and writable. Nothing was changed.`,
    );
  }
}

/**
 * fsync everything on DST's filesystem (syncfs(2), what `sync -f` does, in the addon: the child
 * process cost the main thread ~6 ms a run), before the manifest commits. A write-back error is
 * fatal: the manifest must not describe data the disk may not hold.
 */
function syncFilesystem(dstRoot: Buffer, shown: string): void {
  try {
    hlfs.syncfs(dstRoot);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSYS') {
      spawnSync('sync', [], { stdio: 'ignore' });
      return;
    }
    throw new FatalError(
      `could not flush ${shown} to its disk (${code ?? 'EIO'}): the manifest was not updated for this run. ` +
        'Check the disk (dmesg, smartctl) before trusting what was copied; the next run rehashes it.',
    );
  }
}

class MirrorRun {
  private readonly owner = process.getuid?.() === 0;
  private readonly euid = process.geteuid?.() ?? -1;
  private readonly egid = process.getegid?.() ?? -1;
  private readonly umask = readUmask();
  private readonly pool: CopyPool | null;
  private readonly deletions: Deletion[] = [];
  private readonly dirFixups: { rel: string; src: Entry }[] = [];
  private readonly trashDir: Buffer | null;
  private readonly isExcluded: IsExcluded | null;
  private readonly counts = {
    filesCopied: 0, bytesCopied: 0, filesUnchanged: 0, otherCreated: 0, filesDeleted: 0, bytesDeleted: 0, filesRehashed: 0,
    filesSeen: 0, filesDone: 0, bytesQueued: 0, srcFiles: 0, dstFiles: 0,
  };
  private readonly failed: { path: Buffer; error: string }[] = [];
  private deletionsSkipped: string | null = null;
  private refused = false;
  private refusal: MirrorResult['refusal'] = null;
  private lastProgressMs = 0;
  private dstIdentity: { ino: bigint; dev: bigint } | null = null;
  /** Directories the walker had not listed in order (0 unless walk order and mirror disagree). */
  private listedOutOfOrder = 0;

  constructor(
    private readonly options: MirrorOptions,
    private readonly srcRoot: Buffer,
    private readonly dstRoot: Buffer,
    private readonly matcher: ExcludeMatcher,
    private readonly store: ManifestStore | null,
    private readonly prefix: Buffer,
    private readonly now: () => number,
  ) {
    this.pool = options.dryRun ? null : new CopyPool(Math.max(1, options.jobs), undefined, options.inlineCopies !== false);
    this.trashDir = options.trashDir ? toBuffer(options.trashDir) : null;
    this.isExcluded = matcher.empty ? null : (rel, isDir) => matcher.isExcluded(rel, isDir);
  }

  async walk(root: Entry): Promise<void> {
    let dstRoot: Entry | null = null;
    try {
      dstRoot = statEntry(this.dstRoot, Buffer.alloc(0));
    } catch {
      // a dry run into a destination that does not exist yet
    }
    const stack: PendingDir[] = [{ rel: Buffer.alloc(0), src: root, created: dstRoot === null, dst: dstRoot, setgid: ((dstRoot?.perm ?? 0) & 0o2000) !== 0 }];
    this.dstIdentity = dstRoot ? { ino: dstRoot.ino, dev: dstRoot.dev } : null;
    // With excludes the walker is gated: an excluded directory is never opened (it may be a dead mount).
    const keepDir = this.matcher.empty ? null : (parent: Buffer, name: Buffer) => this.mirrored(parent, name, true);
    const walker = new TreeWalker(this.srcRoot, this.dstRoot, keepDir);
    try {
      while (stack.length > 0) {
        if (this.pool) await this.pool.ready();
        this.options.signal?.throwIfAborted();
        const dir = stack.pop() as PendingDir;
        const [src, dst] = await walker.listing(dir.rel, !dir.created);
        const subdirs = this.processDirectory(dir, src, dst);
        for (let k = subdirs.length - 1; k >= 0; k--) stack.push(subdirs[k] as PendingDir);
        this.progress(false);
        holdYoungGeneration();
      }
    } finally {
      walker.close();
    }
    this.listedOutOfOrder = walker.fallbacks;
  }

  /** Whether the entry `name` of the directory `dirRel` is part of the mirror: not excluded, not home-lab's own. */
  private mirrored(dirRel: Buffer, name: Buffer, isDir: boolean): boolean {
    if (dirRel.length === 0 && name.equals(MANIFEST_NAME)) return false;
    return this.matcher.empty || !this.matcher.isExcluded(joinPath(dirRel, name), isDir);
  }

  /** Plans and starts the work of one directory; returns its subdirectories to visit, in order. */
  private processDirectory(dir: PendingDir, srcRaw: RawListing, dstRaw: RawListing): PendingDir[] {
    const atRoot = dir.rel.length === 0;
    const keep = (name: Buffer, isDir: boolean) => this.mirrored(dir.rel, name, isDir);
    // The directory listed must be the one planned from: not replaced, and no symlink swapped in on
    // its path since the parent was listed (that would copy from, or write to, somewhere else).
    if (srcRaw.ok && !sameIdentity(srcRaw, dir.src)) {
      this.fail(dir.rel, 'source directory replaced during the walk (by another directory or a symlink); skipped');
      return [];
    }
    if (dstRaw.ok && dir.dst && !sameIdentity(dstRaw, dir.dst)) {
      this.fail(dir.rel, 'destination directory replaced during the walk; skipped');
      return [];
    }
    if (!dir.created && !this.options.checksum) {
      const fast = this.unchangedFastPath(dir, srcRaw, dstRaw, atRoot || !this.matcher.empty ? keep : null);
      if (fast !== null) return fast;
    }
    const srcList = decodeListing(joinPath(this.srcRoot, dir.rel), srcRaw, keep);
    if (!srcList.ok) {
      this.fail(dir.rel, `${srcList.error} in the source; its contents were skipped`);
      return [];
    }
    for (const f of srcList.failures) this.fail(joinPath(dir.rel, f.name), f.error);
    let dstEntries: Entry[] = [];
    const leftovers: Buffer[] = [];
    if (!dir.created) {
      const dstList = decodeListing(joinPath(this.dstRoot, dir.rel), dstRaw, (name, isDir) => {
        if (name.subarray(0, TEMP_NAME.length).equals(TEMP_NAME) && !isDir) {
          leftovers.push(name);
          return false;
        }
        return keep(name, isDir);
      });
      if (!dstList.ok) {
        this.fail(dir.rel, `${dstList.error} in the destination; skipped`);
        return [];
      }
      dstEntries = dstList.entries;
    }
    for (const e of srcList.entries) if (e.kind === 'file') this.counts.srcFiles++;
    for (const e of dstEntries) if (e.kind === 'file') this.counts.dstFiles++;

    const rows = this.store ? this.store.listDirBrief(joinPath(this.prefix, dir.rel)) : null;
    const actions = planDirectory(srcList.entries, dstEntries, { checksum: this.options.checksum, owner: this.owner });
    let touched = dir.created;
    const subdirs: PendingDir[] = [];
    for (const name of leftovers) {
      // A temp file of a killed run whose name is not in SRC: remove it (not a deletion of user data).
      if (!srcList.entries.some((e) => e.name.equals(name))) {
        touched = true;
        if (!this.options.dryRun) fs.rmSync(joinPath(this.dstRoot, joinPath(dir.rel, name)), { force: true });
      }
    }
    for (const action of actions) {
      const changed = this.execute(dir.rel, action, rows, subdirs, dir.setgid);
      touched ||= changed;
    }
    if (rows && rows.size > 0) this.dropOrphanRows(dir.rel, rows, srcList.entries, dstEntries);
    this.fixDirLater(dir, touched);
    return subdirs;
  }

  /** Directory attributes are set after everything inside (and the deletions) is done. */
  private fixDirLater(dir: PendingDir, touched: boolean): void {
    if (touched || dir.dst === null || !attrsEqual(dir.src, dir.dst, { checksum: false, owner: this.owner })) {
      this.dirFixups.push({ rel: dir.rel.toString('latin1'), src: { ...dir.src, name: NO_NAME } });
    }
  }

  /**
   * A directory whose unchanged entries (src/engine/unchanged-dir.ts) have manifest rows that sum to
   * the same count, sizes and mtimes (a missing or stale row does not): those are counted without
   * decoding them or reading their rows (most of a nightly no-op's CPU went there), and only the
   * entries that differ, or are on one side only (added, or extras to delete), are planned and
   * carried out. Null: take the full path.
   */
  private unchangedFastPath(dir: PendingDir, srcRaw: RawListing, dstRaw: RawListing, keep: ((name: Buffer, isDir: boolean) => boolean) | null): PendingDir[] | null {
    if (!srcRaw.ok || !dstRaw.ok) return null;
    const srcAbs = joinPath(this.srcRoot, dir.rel);
    const dstAbs = joinPath(this.dstRoot, dir.rel);
    const readLinks = (name: Buffer): [Buffer, Buffer] | null => {
      try {
        return [fs.readlinkSync(joinPath(srcAbs, name), { encoding: 'buffer' }), fs.readlinkSync(joinPath(dstAbs, name), { encoding: 'buffer' })];
      } catch {
        return null;
      }
    };
    const leftover = (name: Buffer) => name.subarray(0, TEMP_NAME.length).equals(TEMP_NAME);
    const same = unchangedDirectory(srcRaw, dstRaw, { owner: this.owner, keep, readLinks, leftover });
    if (same === null) return null;
    // The rows of the entries that changed, which the plan below needs, and which the directory's
    // sums include: what is left must sum to what the unchanged files hold.
    const rows = new Map<string, BriefRow>();
    if (this.store && this.pool) {
      const sums = dirSummary(this.store, joinPath(this.prefix, dir.rel));
      for (const { name } of same.changed) {
        const row = this.store.get(joinPath(this.prefix, joinPath(dir.rel, name)));
        if (row === undefined) continue;
        rows.set(name.toString('latin1'), row);
        sums.files--;
        sums.sizeSum -= row.sizeBytes;
        sums.mtimeLoSum -= Number(BigInt.asUintN(32, row.mtimeNs));
        sums.mtimeHiSum -= Number(row.mtimeNs >> 32n);
      }
      if (sums.files !== same.files || sums.sizeSum !== same.sizeSum || sums.mtimeLoSum !== same.mtimeLoSum || sums.mtimeHiSum !== same.mtimeHiSum) {
        return null;
      }
    }
    this.counts.srcFiles += same.files;
    this.counts.dstFiles += same.files;
    this.counts.filesUnchanged += same.files;
    const subdirs = same.subdirs.map(({ src: si, dst: di, name }): PendingDir => {
      const dst = entryAt(dstAbs, dstRaw, di, name);
      return { rel: joinPath(dir.rel, name), src: detached(entryAt(srcAbs, srcRaw, si, name)), created: false, dst: detached(dst), setgid: (dst.perm & 0o2000) !== 0 };
    });
    let touched = false;
    if (same.changed.length > 0) {
      for (const { src: si, dst: di, name } of same.changed) {
        const src = si >= 0 ? entryAt(srcAbs, srcRaw, si, name) : null;
        const dst = di >= 0 ? entryAt(dstAbs, dstRaw, di, name) : null;
        if (src?.kind === 'file') this.counts.srcFiles++;
        if (dst?.kind === 'file') this.counts.dstFiles++;
        // Only in DST: an extra, deleted at the end as the full path's plan would have it.
        const action: Action = src === null ? { kind: 'extra', dst: dst as Entry } : planOne(src, dst, { checksum: false, owner: this.owner });
        const changed = this.execute(dir.rel, action, rows, subdirs, dir.setgid);
        touched ||= changed;
      }
      // Visited in name order, as the full path does.
      subdirs.sort((a, b) => Buffer.compare(a.rel, b.rel));
    }
    this.fixDirLater(dir, touched);
    return subdirs;
  }

  /** Carries out one planned action; returns true when it changes the directory's contents. */
  private execute(dirRel: Buffer, action: Action, rows: Map<string, BriefRow> | null, subdirs: PendingDir[], dirSetgid: boolean): boolean {
    const dry = this.options.dryRun;
    const name = action.kind === 'extra' ? action.dst.name : action.src.name;
    const rel = joinPath(dirRel, name);
    const abs = joinPath(this.dstRoot, rel);
    try {
      switch (action.kind) {
        case 'extra': {
          const counted = countTree(abs, rel, action.dst, this.isExcluded);
          this.deletions.push({ rel: rel.toString('latin1'), kind: action.dst.kind, ...counted });
          this.counts.dstFiles += action.dst.kind === 'dir' ? counted.files : 0;
          // A directory kept only for its excluded contents, with nothing else in it, changes nothing.
          return !(counted.keepsExcluded && counted.files === 0);
        }
        case 'descend':
          subdirs.push({ rel, src: detached(action.src), created: false, dst: detached(action.dst), setgid: (action.dst.perm & 0o2000) !== 0 });
          return false;
        case 'mkdir':
          if (action.replace) this.replace(rel, abs);
          if (!dry) fs.mkdirSync(abs, { mode: 0o700 });
          this.item('mkdir', rel);
          this.counts.otherCreated++;
          subdirs.push({ rel, src: detached(action.src), created: true, dst: null, setgid: dirSetgid });
          return true;
        case 'create':
          if (action.replace?.kind === 'dir') this.replace(rel, abs);
          else if (action.replace) this.dropRow(rel, rows, name);
          if (!dry) createNonRegular(abs, action.src, this.owner);
          this.item(action.src.kind === 'symlink' ? 'symlink' : 'special', rel);
          this.counts.otherCreated++;
          return true;
        case 'attrs':
          if (!dry) setAttrs(abs, action.src, this.owner);
          this.item('attrs', rel);
          if (action.src.kind === 'file') this.checkRow(rel, abs, action.src, rows, name);
          return false;
        case 'unchanged':
          if (action.src.kind === 'file') {
            this.counts.filesUnchanged++;
            this.checkRow(rel, abs, action.src, rows, name);
          }
          return false;
        case 'copy':
          if (action.replace?.kind === 'dir') this.replace(rel, abs);
          else if (action.replace && this.trashDir && !dry) removeEntry(abs, rel, this.trashDir);
          this.startCopy(rel, abs, action.src, dirSetgid);
          return true;
        case 'checksum':
          this.startChecksum(rel, abs, action.src, action.dst, rows, name, dirSetgid);
          return false;
      }
    } catch (error) {
      this.fail(rel, describe(error));
      return true;
    }
  }

  /** Removes (or trashes) an entry of another kind that stands where SRC has something else. */
  private replace(rel: Buffer, abs: Buffer): void {
    this.item('replace', rel);
    if (this.options.dryRun) return;
    removeEntry(abs, rel, this.trashDir);
    this.store?.removeTree(joinPath(this.prefix, rel));
  }

  private startCopy(rel: Buffer, abs: Buffer, src: Entry, dirSetgid: boolean): void {
    this.counts.filesSeen++;
    this.counts.bytesQueued += src.sizeBytes;
    if (this.options.dryRun) {
      this.countCopy(rel, src.sizeBytes);
      return;
    }
    const task: Task = { kind: 'copy', job: this.job(rel, abs, src, dirSetgid) };
    (this.pool as CopyPool).submit(task, src.sizeBytes, (r) => this.onCopied(rel, r));
  }

  private startChecksum(rel: Buffer, abs: Buffer, src: Entry, dst: Entry, rows: Map<string, BriefRow> | null, name: Buffer, dirSetgid: boolean): void {
    const row = rows?.get(name.toString('latin1'));
    if (row?.verifyStatus === 'source-rot' && row.sizeBytes === src.sizeBytes && row.mtimeNs === src.mtimeNs) {
      // scrub found the source rotten and the backup good: never overwrite the last good copy.
      this.notice(`kept ${displayPath(rel)}: scrub found source rot there; the backup holds the last good copy`);
      return;
    }
    this.counts.filesSeen++;
    if (this.options.dryRun) return;
    const task: Task = { kind: 'checksum', job: this.job(rel, abs, src, dirSetgid) };
    (this.pool as CopyPool).submit(task, src.sizeBytes * 2, (r) => {
      if (r.ok && !r.copied) {
        this.counts.filesUnchanged++;
        try {
          if (!attrsEqual(src, dst, { checksum: true, owner: this.owner })) setAttrs(abs, src, this.owner);
        } catch (error) {
          this.fail(rel, describe(error));
        }
        if (!row || row.hash !== r.hash || row.sizeBytes !== r.sizeBytes || row.mtimeNs !== src.mtimeNs) {
          this.store?.upsert({ path: joinPath(this.prefix, rel), sizeBytes: r.sizeBytes, mtimeNs: src.mtimeNs, hash: r.hash, hashedAtMs: this.now() });
        }
        this.counts.filesDone++;
        return;
      }
      this.onCopied(rel, r);
    });
  }

  private job(rel: Buffer, abs: Buffer, src: Entry, dirSetgid: boolean): CopyJob {
    // A new file already belongs to our euid and egid (or the directory's group when it is setgid).
    const chown = this.owner && (src.uid !== this.euid || src.gid !== this.egid || dirSetgid);
    return {
      src: joinPath(this.srcRoot, rel), dst: abs, sizeBytes: src.sizeBytes, mtimeNs: src.mtimeNs, atimeNs: src.atimeNs,
      mode: src.perm, uid: src.uid, gid: src.gid, chown, umask: this.umask, ino: src.ino, dev: src.dev,
    };
  }

  private onCopied(rel: Buffer, r: TaskResult): void {
    this.counts.filesDone++;
    if (!r.ok) {
      this.fail(rel, r.error);
      return;
    }
    this.store?.upsert({ path: joinPath(this.prefix, rel), sizeBytes: r.sizeBytes, mtimeNs: r.mtimeNs, hash: r.hash, hashedAtMs: this.now() });
    this.countCopy(rel, r.sizeBytes);
    this.progress(false);
  }

  private countCopy(rel: Buffer, sizeBytes: number): void {
    this.counts.filesCopied++;
    this.counts.bytesCopied += sizeBytes;
    this.item('copy', rel, sizeBytes);
  }

  /** An unchanged DST file must have a manifest row matching its size and mtime; else hash it. */
  private checkRow(rel: Buffer, abs: Buffer, src: Entry, rows: Map<string, BriefRow> | null, name: Buffer): void {
    if (!rows || !this.pool) return;
    const row = rows.get(name.toString('latin1'));
    if (row && row.sizeBytes === src.sizeBytes && row.mtimeNs === src.mtimeNs) return;
    this.item('rehash', rel);
    const task: Task = { kind: 'hash', path: abs, sizeBytes: src.sizeBytes, mtimeNs: src.mtimeNs };
    this.pool.submit(task, src.sizeBytes, (r) => {
      if (!r.ok) {
        this.fail(rel, `cannot hash the backup copy: ${r.error}`);
        return;
      }
      this.counts.filesRehashed++;
      this.store?.upsert({ path: joinPath(this.prefix, rel), sizeBytes: r.sizeBytes, mtimeNs: r.mtimeNs, hash: r.hash, hashedAtMs: this.now() });
    });
  }

  private dropRow(rel: Buffer, rows: Map<string, BriefRow> | null, name: Buffer): void {
    if (rows?.has(name.toString('latin1'))) this.store?.removeFile(joinPath(this.prefix, rel));
  }

  /**
   * Rows of names that are no longer regular files on either side (and are not excluded, whose DST
   * copies are kept) describe nothing: drop them so the manifest matches the files.
   */
  private dropOrphanRows(dirRel: Buffer, rows: Map<string, BriefRow>, srcEntries: Entry[], dstEntries: Entry[]): void {
    if (this.options.dryRun) return;
    const live = new Set<string>();
    for (const e of srcEntries) if (e.kind === 'file') live.add(e.name.toString('latin1'));
    for (const e of dstEntries) if (e.kind === 'file') live.add(e.name.toString('latin1'));
    for (const key of rows.keys()) {
      if (live.has(key)) continue;
      const rel = joinPath(dirRel, Buffer.from(key, 'latin1'));
      if (!this.matcher.empty && this.matcher.isExcluded(rel, false)) continue;
      this.store?.removeFile(joinPath(this.prefix, rel));
    }
  }

  /**
   * Whether DST itself went away (a backup disk unmounted mid-run: the path now shows the directory
   * under the mount point). Checked when a path fails, so that case stops the run with one clear
   * error instead of a failure per remaining file.
   */
  private destinationGone(): boolean {
    if (this.dstIdentity === null || this.options.dryRun) return false;
    try {
      const now = fs.lstatSync(this.dstRoot, { bigint: true });
      return now.ino !== this.dstIdentity.ino || now.dev !== this.dstIdentity.dev;
    } catch {
      return true;
    }
  }

  /** After all copies: deletions (if allowed), then directory attributes, deepest last-set first. */
  async finish(): Promise<void> {
    await this.pool?.drain();
    this.options.signal?.throwIfAborted();
    this.applyDeletions();
    for (let k = this.dirFixups.length - 1; k >= 0; k--) {
      const fixup = this.dirFixups[k] as { rel: string; src: Entry };
      if (this.options.dryRun) continue;
      const rel = Buffer.from(fixup.rel, 'latin1');
      const src = fixup.src;
      try {
        setAttrs(joinPath(this.dstRoot, rel), src, this.owner);
      } catch (error) {
        this.fail(rel, `cannot set directory attributes: ${describe(error)}`);
      }
    }
    this.progress(true);
  }

  private applyDeletions(): void {
    if (this.options.delete === false || this.deletions.length === 0) return;
    const files = this.deletions.reduce((n, d) => n + d.files, 0);
    const bytes = this.deletions.reduce((n, d) => n + d.bytes, 0);
    if (this.failed.length > 0) {
      this.deletionsSkipped = `${this.failed.length} path(s) failed, so ${this.deletions.length} extra entr${this.deletions.length === 1 ? 'y was' : 'ies were'} not deleted (rerun once the failures are fixed)`;
      this.notice(`deletions skipped: ${this.deletionsSkipped}`);
      return;
    }
    const byDir = new Map<string, number>();
    for (const d of this.deletions) {
      const parent = displayPath(Buffer.from(d.rel, 'latin1')).split('/').slice(0, -1).join('/') || '.';
      byDir.set(parent, (byDir.get(parent) ?? 0) + Math.max(d.files, 1));
    }
    const decision = evaluateDeletions(
      { files, bytes, destFiles: this.counts.dstFiles, sourceFiles: this.counts.srcFiles, byDir },
      this.options.deletionLimits ?? { allow: true },
    );
    if (!decision.ok) {
      this.refused = true;
      this.refusal = { files: decision.files, bytes: decision.bytes, topDirs: decision.topDirs };
      this.deletionsSkipped = decision.reason;
      this.notice(`deletions refused: ${decision.reason}`);
      return;
    }
    for (const d of this.deletions) {
      const rel = Buffer.from(d.rel, 'latin1');
      this.item('delete', rel);
      if (!this.options.dryRun) {
        try {
          const abs = joinPath(this.dstRoot, rel);
          if (d.keepsExcluded && this.isExcluded) removeTreeKeeping(abs, rel, rel, this.trashDir, this.isExcluded);
          else removeEntry(abs, rel, this.trashDir);
          this.store?.removeTree(joinPath(this.prefix, rel));
        } catch (error) {
          this.fail(rel, `cannot delete: ${describe(error)}`);
          continue;
        }
      }
      this.counts.filesDeleted += d.kind === 'dir' ? d.files : 1;
      this.counts.bytesDeleted += d.bytes;
    }
  }

  /** Throws the fatal "went away" error when DST is no longer the directory the run started on. */
  assertDestinationStill(): void {
    if (!this.destinationGone()) return;
    throw new FatalError(
      `the destination ${displayPath(this.dstRoot)} went away during the run (unmounted, or replaced): stopped. ` +
        `${this.counts.filesDeleted > 0 ? `${this.counts.filesDeleted} files were deleted and` : 'Nothing was deleted;'} ` +
        `${this.counts.filesCopied} files were copied before; the manifest was not updated. Mount the disk again and rerun.`,
    );
  }

  private fail(rel: Buffer, error: string): void {
    // Thrown from here it ends the walk, or (from a copy's callback) the pool's next wait.
    this.assertDestinationStill();
    this.failed.push({ path: rel, error });
    this.options.onEvent?.({ kind: 'failure', path: rel, error });
  }

  private item(action: ItemAction, rel: Buffer, sizeBytes?: number): void {
    this.options.onEvent?.({ kind: 'item', action, path: rel, ...(sizeBytes === undefined ? {} : { sizeBytes }) });
  }

  private notice(message: string): void {
    this.options.onEvent?.({ kind: 'notice', message });
  }

  private progress(force: boolean): void {
    if (!this.options.onEvent) return;
    const t = this.now();
    if (!force && t - this.lastProgressMs < PROGRESS_INTERVAL_MS) return;
    this.lastProgressMs = t;
    const c = this.counts;
    const event: MirrorEvent = { kind: 'progress', filesSeen: c.filesSeen, filesDone: c.filesDone, bytesQueued: c.bytesQueued, bytesDone: c.bytesCopied };
    this.options.onEvent(event);
  }

  result(durationMs: number): MirrorResult {
    const c = this.counts;
    return {
      filesCopied: c.filesCopied, bytesCopied: c.bytesCopied, filesUnchanged: c.filesUnchanged, otherCreated: c.otherCreated,
      filesDeleted: c.filesDeleted, bytesDeleted: c.bytesDeleted, filesRehashed: c.filesRehashed,
      failed: this.failed, deletionsSkipped: this.deletionsSkipped, refused: this.refused, refusal: this.refusal, dryRun: this.options.dryRun, durationMs,
      dirsListedOutOfOrder: this.listedOutOfOrder,
    };
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

/** The process umask from /proc (process.umask() without an argument is deprecated). */
function readUmask(): number | undefined {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? parseInt(m[1] as string, 8) : undefined;
  } catch {
    return undefined;
  }
}

function sameIdentity(raw: RawListing & { ok: true }, entry: Entry): boolean {
  const id = listedIdentity(raw);
  return id.ino === entry.ino && id.dev === entry.dev;
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code} (${e.syscall ?? 'fs'})` : String(e.message ?? e);
}
