// One scrub (a rotating sample, oldest verification first) or verify (every row, plus files the
// manifest does not know). Reads the manifest a page at a time, checks each file, and records each
// batch of outcomes in one transaction, so a killed run keeps what it verified.
import { SLASH, displayPath, joinPath, toBuffer, trimSlashes } from '../engine/bytes.js';
import { ManifestError, ManifestStore } from '../manifest/store.js';
import {
  coverageCounts,
  cursorOf,
  namesInDir,
  pageByPath,
  pageOldestFirst,
  plannedBytes,
  resetFutureVerifications,
  type KeyedRow,
  type PageCursor,
} from '../manifest/queries.js';
import { listDirectory } from '../manifest/tree.js';
import { compareWalkOrder } from '../engine/tree-walker.js';
import { diskNameSums, type DirNames } from './disk-names.js';
import { monotonicMs } from '../clock.js';
import { addName, emptyNameSet, sameNames, type NameSet } from './name-set.js';
import { Ledger, type LedgerPage } from './ledger.js';
import { hashFilesAsync, ioBuffer } from '../engine/hash.js';
import { RootedTree, unsafeKeyReason } from './safe-path.js';
import { checkBackup, checkSource, classifyBackup, decide, locateBackup, repair, type BackupCheck, type SourceState } from './verify.js';
import { sampleSize, stopBefore, type Budget, type Percent } from './select.js';
import { coverageFrom, coverageSinceMs, emptyCounts, type Finding, type ScrubReport } from './report.js';


export interface SourceMapping {
  /** The directory that was mirrored into TARGET/prefix. */
  root: string;
  /** Where its copy lives, relative to TARGET ('' = TARGET itself), '/'-separated. */
  prefix: string;
}

export type ScrubEvent =
  /** bytesPlanned: the sample's size (an upper bound when a budget stops the run early). */
  | { kind: 'start'; mode: 'scrub' | 'verify'; rowsInManifest: number; filesPlanned: number; bytesPlanned: number }
  | { kind: 'progress'; filesDone: number; filesPlanned: number; bytesDone: number; bytesPlanned: number }
  /** verify's second pass: looking for files the manifest does not know. */
  | { kind: 'walk' }
  | { kind: 'finding'; finding: Finding }
  | { kind: 'notice'; message: string };

export interface ScrubOptions {
  /** Mirror root holding .home-lab/manifest.db. */
  target: string;
  mode: 'scrub' | 'verify';
  /** scrub: share of rows per run (default 1 %). */
  percent?: Percent;
  /** scrub: stop before a file that would take the bytes checked past this. */
  maxBytes?: number | null;
  /** scrub: start no new file after this long. */
  maxDurationMs?: number | null;
  /** Where the files came from: enables repair of backup rot and detection of source rot. */
  sources?: SourceMapping[];
  /** Wall clock, ms since the epoch: verification stamps and coverage. Passed in so tests control it. */
  now?: () => number;
  /** Monotonic ms: duration, throughput and the time budget. */
  elapsedMs?: () => number;
  onEvent?: (event: ScrubEvent) => void;
  /** chown repaired files to the source's owner (rsync -a does when root). Default: running as root. */
  chown?: boolean;
  /** Rows read per page; a page is recorded once all its rows are checked. */
  pageRows?: number;
  /**
   * Checked pages are recorded in one transaction once this many are waiting, or a second after the
   * last one (default 4): a run killed meanwhile loses at most that, checked again next time.
   */
  flushPages?: number;
  /** Read and hash the backup's files on libuv's threads (default) or on this one (false). */
  offThread?: boolean;
  /** Findings kept for the report; the rest are counted. */
  maxFindings?: number;
}

const DEFAULT_PERCENT: Percent = { num: 1n, den: 1n };
// A transaction also ends after this many bytes were read, so a page of big files is not lost whole.
const FLUSH_BYTES = 256 * 1024 * 1024;
// Off this thread, the backup files of a page go to libuv's pool in one native job (hashFilesAsync)
// while this thread reads the next pages and keeps the books; up to HASH_JOBS pages are in flight (2
// cores: two jobs hash while this thread works; 2 and 4 were no faster). Measured (verify, bench
// trees, 2-3 runs each, with relaxHeapFlags) against a piscina worker that took files of 16 KiB and
// up while this thread hashed the rest: 200,000 files 5.6-7.3 s -> 5.3-5.5 s, 50,000 files
// 2.2-2.3 s -> 1.7-1.8 s, the 2 GiB mixed tree 1.45-1.72 s -> 1.0-1.2 s; and no isolate to start.
const HASH_JOBS = 3;
// Recording checked pages: a transaction per FLUSH_PAGES pages or FLUSH_MS, whichever comes first.
// Each commit is a write (and an fsync) of the WAL on the backup disk. verify of the bench trees, 4
// alternating runs each: the 2 GiB tree (78 pages) 1.005 s a page at a time, 0.965 s by 4 pages
// (CPU 1.63 -> 1.58 s); 50,000 small files the same (1.26 s); by 16 pages no faster, and the pages
// held meanwhile raised the small tree's peak RSS 73 -> 101 MiB.
const FLUSH_PAGES = 4;
const FLUSH_MS = 1000;

function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** Opens the manifest and runs; a manifest that turns out corrupt mid-run is named like a bad open. */
export async function runScrub(options: ScrubOptions): Promise<ScrubReport> {
  const store = ManifestStore.open(options.target);
  try {
    return await run(store, options);
  } catch (error) {
    if (isCorruption(error)) {
      throw new ManifestError(
        `the manifest ${store.file} is corrupt (${(error as Error).message}). It was left untouched; run ` +
          `\`home-lab manifest rebuild --force ${options.target}\` to move it aside and rehash the files into a new one.`,
        store.file,
      );
    }
    throw error;
  } finally {
    store.close();
  }
}

function sourceFor(sources: { tree: RootedTree; prefix: Buffer }[], path: Buffer): { tree: RootedTree; rel: Buffer } | null {
  let best: { tree: RootedTree; prefix: Buffer } | null = null;
  for (const s of sources) {
    const p = s.prefix;
    const matches = p.length === 0 || (path.length > p.length && path[p.length] === SLASH && path.subarray(0, p.length).equals(p));
    if (matches && (best === null || p.length > best.prefix.length)) best = s;
  }
  if (best === null) return null;
  return { tree: best.tree, rel: best.prefix.length === 0 ? path : path.subarray(best.prefix.length + 1) };
}

async function run(store: ManifestStore, o: ScrubOptions): Promise<ScrubReport> {
  const now = o.now ?? Date.now;
  const elapsed = o.elapsedMs ?? monotonicMs;
  const emit = o.onEvent ?? (() => {});
  const pageRows = o.pageRows ?? 256;
  const maxFindings = o.maxFindings ?? 1000;
  const chown = o.chown ?? process.getuid?.() === 0;
  const buffer = ioBuffer();
  const target = new RootedTree(o.target);
  const sources = (o.sources ?? []).map((s) => ({ tree: new RootedTree(s.root), prefix: trimSlashes(toBuffer(s.prefix.replace(/^\/+/, ''))) }));

  const startedAtMs = now();
  const t0 = elapsed();
  const futureReset = resetFutureVerifications(store, startedAtMs);
  const total = store.count();
  const rowsInManifest = total.files;
  const planned = o.mode === 'verify' ? rowsInManifest : sampleSize(rowsInManifest, o.percent ?? DEFAULT_PERCENT);
  const bytesPlanned = o.mode === 'verify' ? total.bytes : plannedBytes(store, startedAtMs, planned);
  const offThread = o.offThread !== false;
  const budget: Budget = {
    maxFiles: planned,
    maxBytes: o.mode === 'scrub' ? (o.maxBytes ?? null) : null,
    maxDurationMs: o.mode === 'scrub' ? (o.maxDurationMs ?? null) : null,
  };
  emit({ kind: 'start', mode: o.mode, rowsInManifest, filesPlanned: planned, bytesPlanned });

  const counts = emptyCounts();
  const findings: Finding[] = [];
  let findingsOmitted = 0;
  let filesDone = 0;
  let bytesDone = 0;
  let sourceBytes = 0;
  const found = (finding: Finding) => {
    if (findings.length < maxFindings) findings.push(finding);
    else findingsOmitted++;
    emit({ kind: 'finding', finding });
  };

  // Bytes of the files in hash jobs not back yet: the byte budget counts them as read.
  let queuedBytes = 0;
  const ledger = new Ledger(store, o.mode === 'verify');
  let pendingBytes = 0;
  const flushPages = o.flushPages ?? FLUSH_PAGES;
  let pagesWaiting = 0;
  let flushedAtMs = elapsed();
  const flush = (partial = false) => {
    // Stamps never go below the run's start: selection reads rows verified before it.
    ledger.flush(Math.max(now(), startedAtMs), partial);
    pendingBytes = 0;
    pagesWaiting = 0;
    flushedAtMs = elapsed();
  };

  // verify: the names of each directory's rows, to tell which directories hold only known files; and
  // the names on the disk, listed on libuv's pool from now on while the rows are checked (walking
  // the tree in JavaScript after them took 0.1-0.2 s of the bench trees' runs, on this thread alone).
  const rowNames = new Map<string, NameSet>();
  let namesOf: { dir: Buffer | null; set: NameSet } = { dir: null, set: emptyNameSet() };
  const onDisk: Promise<DirNames[]> | null = o.mode === 'verify' ? diskNameSums(o.target) : null;
  // Awaited after the rows; a run that throws before then leaves it unread, not unhandled.
  onDisk?.catch(() => {});
  const checkRow = (row: KeyedRow, page: LedgerPage) => {
    page.rows.push(row);
    if (o.mode === 'verify') {
      // Rows of one directory in a page share its dir Buffer: one lookup per directory and page.
      if (row.dir !== namesOf.dir) {
        const key = row.dir.toString('latin1');
        let set = rowNames.get(key);
        if (set === undefined) rowNames.set(key, (set = emptyNameSet()));
        namesOf = { dir: row.dir, set };
      }
      addName(namesOf.set, row.name);
    }
    const malformed = unsafeKeyReason(row.dir, row.name);
    if (malformed !== null) {
      counts.unsafe++;
      found({ kind: 'unsafe', path: row.path, detail: `unsafe path in the manifest: ${malformed}; not read` });
      return ledger.record(page, row, { status: 'corrupt' });
    }
    if (!offThread) return checked(row, page, checkBackup(target, row, buffer));
    const where = locateBackup(target, row);
    if (!where.ok) return checked(row, page, where.check);
    queuedBytes += row.sizeBytes;
    batch.push({ row, page, full: where.full });
  };

  // The files of the current page waiting for their hash job, and the jobs in flight (oldest first).
  let batch: { row: KeyedRow; page: LedgerPage; full: Buffer }[] = [];
  const jobs: Promise<void>[] = [];
  const dispatch = () => {
    if (batch.length === 0) return;
    const files = batch;
    batch = [];
    const job = hashFilesAsync(files.map((f) => f.full)).then((outcomes) => {
      jobs.splice(jobs.indexOf(job), 1);
      outcomes.forEach((h, i) => {
        const { row, page, full } = files[i] as (typeof files)[number];
        queuedBytes -= row.sizeBytes;
        checked(row, page, classifyBackup(row, h, full));
      });
    });
    jobs.push(job);
  };

  /** The rest of a row's check, once its backup copy was read (here or on the worker). */
  const checked = (row: KeyedRow, page: LedgerPage, backup: BackupCheck) => {
    bytesDone += backup.bytesRead;
    pendingBytes += backup.bytesRead;
    let source: SourceState = { kind: 'none' };
    const src = backup.state.kind === 'unsafe' ? null : sourceFor(sources, row.path);
    if (src !== null) {
      const s = checkSource(src.tree, src.rel, row, buffer);
      source = s.state;
      sourceBytes += s.bytesRead;
      pendingBytes += s.bytesRead;
      if (source.kind === 'changed' || source.kind === 'gone') counts.sourceSkipped++;
    }
    const d = decide(backup.state, source);
    if (d.action === 'repair' && source.kind === 'good' && backup.full !== null) {
      const r = repair(row, backup.full, source, buffer, chown);
      if (r.ok) {
        counts.repaired++;
        found({ kind: 'repaired', path: row.path, detail: `${d.was}; repaired from the source` });
        return ledger.record(page, row, { status: 'repaired', repaired: { sizeBytes: r.sizeBytes, mtimeNs: r.mtimeNs, hash: r.hash } });
      }
      const kind = backup.state.kind === 'missing' ? 'missing' : 'corrupt';
      counts[kind]++;
      found({ kind, path: row.path, detail: `${d.was}; ${r.error}` });
      return ledger.record(page, row, { status: kind });
    }
    if (d.action === 'repair') throw new Error('bug: repair decided without a good source');
    if (d.status === 'ok') {
      counts.ok++;
      return ledger.record(page, row, { status: 'ok' });
    }
    if (d.finding === 'unsafe') counts.unsafe++;
    else if (d.finding === 'source-rot') counts.sourceRot++;
    else counts[d.finding]++;
    found({ kind: d.finding, path: row.path, detail: d.detail });
    return ledger.record(page, row, { status: d.status });
  };

  let stoppedBy: ScrubReport['stoppedBy'] = 'end';
  let cursor: PageCursor | null = null;
  try {
    outer: for (;;) {
      const limit = o.mode === 'scrub' ? Math.min(pageRows, planned - filesDone) : pageRows;
      if (limit <= 0) {
        if (planned > 0) stoppedBy = 'count';
        break;
      }
      const page = o.mode === 'scrub' ? pageOldestFirst(store, startedAtMs, cursor, limit) : pageByPath(store, cursor, limit);
      if (page.length === 0) break;
      const book = ledger.openPage();
      for (const row of page) {
        // The clock is read only for a time budget (a BigInt per row otherwise).
        const elapsedMs = budget.maxDurationMs === null ? 0 : elapsed() - t0;
        const stop = stopBefore(budget, { filesDone, bytesDone: bytesDone + queuedBytes, elapsedMs }, row.sizeBytes);
        if (stop !== null) {
          stoppedBy = stop;
          book.closed = true;
          break outer;
        }
        checkRow(row, book);
        filesDone++;
        if (pendingBytes >= FLUSH_BYTES) flush(true);
        emit({ kind: 'progress', filesDone, filesPlanned: planned, bytesDone, bytesPlanned });
      }
      book.closed = true;
      dispatch();
      // At most HASH_JOBS pages in flight: wait for the oldest (its results are recorded meanwhile).
      while (jobs.length >= HASH_JOBS) await jobs[0];
      if (++pagesWaiting >= flushPages || elapsed() - flushedAtMs >= FLUSH_MS) flush();
      cursor = cursorOf(page[page.length - 1] as KeyedRow);
      // Let timers (progress bar) and signals run between pages.
      await new Promise((resolve) => setImmediate(resolve));
    }
    dispatch();
    await Promise.all(jobs);
  } catch (error) {
    // Nothing of this run goes on after it ends: the jobs in flight finish first (their outcomes
    // are not recorded; the next run checks those files again).
    await Promise.allSettled(jobs);
    throw error;
  }
  flush();
  if (o.mode === 'scrub' && stoppedBy === 'end' && planned > 0 && filesDone >= planned) stoppedBy = 'count';

  if (onDisk !== null) {
    emit({ kind: 'walk' });
    // A directory holding exactly the files its rows name has nothing unknown in it, and its names
    // need not be read back from the manifest (the usual case); the others are listed again here, in
    // walk order, and compared name by name.
    const differ = (await onDisk).filter((d) => d.error !== null || !sameNames(d.names, rowNames.get(d.dir.toString('latin1')) ?? emptyNameSet()));
    differ.sort((x, y) => compareWalkOrder(x.dir, y.dir));
    for (const d of differ) {
      const listing = d.error === null ? listDirectory(o.target, d.dir) : { dir: d.dir, entries: [], error: d.error };
      if (listing.error !== null) {
        emit({ kind: 'notice', message: `cannot list ${listing.dir.length ? displayPath(listing.dir) : '.'} under TARGET: ${listing.error}; files in it were not checked for manifest entries` });
        continue;
      }
      const known = namesInDir(store, listing.dir);
      let k = 0;
      for (const e of listing.entries) {
        if (e.type !== 'file') continue;
        while (k < known.length && Buffer.compare(known[k] as Buffer, e.name) < 0) k++;
        if (k < known.length && (known[k] as Buffer).equals(e.name)) continue;
        counts.unmanifested++;
        found({ kind: 'unmanifested', path: joinPath(listing.dir, e.name), detail: 'a file the manifest does not know (never hashed): run a mirror, or `home-lab manifest rebuild`' });
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  const durationMs = Math.max(0, elapsed() - t0);
  const endMs = Math.max(now(), startedAtMs);
  return {
    mode: o.mode,
    target: o.target,
    sources: (o.sources ?? []).map((s) => s.root),
    startedAtMs,
    durationMs,
    rowsInManifest,
    filesPlanned: planned,
    filesChecked: filesDone,
    bytesChecked: bytesDone,
    sourceBytesRead: sourceBytes,
    throughputBytesPerSec: durationMs > 0 ? Math.round(((bytesDone + sourceBytes) * 1000) / durationMs) : 0,
    stoppedBy,
    counts,
    findings,
    findingsOmitted,
    futureVerificationsReset: futureReset,
    coverage: coverageFrom(coverageCounts(store, coverageSinceMs(endMs)), endMs),
  };
}
