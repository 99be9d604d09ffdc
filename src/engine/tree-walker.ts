// The mirror's listings, from the native walker (native/walker.c): SRC's directories and the same
// paths under DST, listed ahead on two threads of its own, in the order the mirror visits them. The
// mirror asks for one directory at a time; what it does not visit (excluded, or under a directory it
// gave up on) is dropped, and the walker told to skip that subtree. With excludes the walker is
// gated: it lists a directory's subdirectories only once this side has told it which of them are not
// excluded, so an excluded directory is never opened, as with rsync (it may be a dead network mount).
import { getSystemErrorName } from 'node:util';
import { hlfs, type WalkerHandle } from '../native/hlfs.js';
import { joinPath } from './bytes.js';
import { EMPTY_LISTING, scanPairsAsync, type RawListing } from './walk.js';

// How far the walker runs ahead: listings held and not yet taken (memory: ~100 bytes per entry), and
// DST is never listed long before the mirror gets there (the old prefetch listed 32 directories ahead).
const AHEAD_DIRS = 64;
const AHEAD_ENTRIES = 65_536;
// Listings held on this side at most (taken up to that many per native call); and when nothing is
// ready, the main thread sleeps until WAKE_AT directories are (or fewer will come): each wake of an
// idle event loop costs tens of µs on these VMs.
const TAKE_MAX = 64;
const WAKE_AT = 4;

const SLASH = 0x2f;

/**
 * The walk's order of relative paths: depth first, a directory's entries by name bytes. That is the
 * byte order of the paths with '/' sorting before every other byte (names hold neither '/' nor NUL).
 */
export function compareWalkOrder(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] === SLASH ? 0 : (a[i] as number);
    const y = b[i] === SLASH ? 0 : (b[i] as number);
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * One directory from the walker: its path relative to the roots, its SRC side, its DST side (null: not
 * listed), and whether the walk waits for walkDone on it (gated). A side that could not be listed is
 * a failed listing (not thrown: the others may be fine).
 */
export type WalkedDir = [rel: Buffer, src: RawListing, dst: RawListing | null, awaiting: boolean];

// The layout of hlfs.walkTakePacked (native/walker.c): uint32 n, then TAKE_WORDS uint32 per directory
// (rel offset, rel length, awaiting, then per side: status, names offset or errno, names length,
// stats offset, entry count); status 0 listed, 1 failed, 2 not listed.
const TAKE_WORDS = 13;
const FIELDS = 10;

/**
 * Up to max directories the walker has listed, in walk order; [] when none is ready; null when the
 * walk is over. Every listing of one take is a view into one buffer, which lives as long as any of
 * them (at most TAKE_MAX directories, see pull).
 */
export function walkTake(handle: WalkerHandle, max: number): WalkedDir[] | null {
  const blob = hlfs.walkTakePacked(handle, max);
  if (blob === null) return null;
  if (blob === false) return [];
  const words = new Uint32Array(blob);
  const n = words[0] as number;
  const out = new Array<WalkedDir>(n);
  const side = (i: number, k: number): RawListing | null => {
    const w = 1 + i * TAKE_WORDS + 3 + 5 * k;
    const status = words[w];
    if (status === 2) return null;
    if (status === 1) return listingFailure(words[w + 1] as number);
    const statsAt = words[w + 3] as number;
    const count = words[w + 4] as number;
    return {
      ok: true,
      names: Buffer.from(blob, words[w + 1], words[w + 2]),
      stats: new BigInt64Array(blob, statsAt, count * FIELDS),
      self: new BigInt64Array(blob, statsAt + count * FIELDS * 8, 2),
    };
  };
  for (let i = 0; i < n; i++) {
    const d = 1 + i * TAKE_WORDS;
    out[i] = [Buffer.from(blob, words[d], words[d + 1]), side(i, 0) ?? listingFailure(0), side(i, 1), words[d + 2] === 1];
  }
  return out;
}

/** A directory the walker could not list, by errno (0: the walker gave no listing at all). */
function listingFailure(errno: number): RawListing {
  const code = errno > 0 ? getSystemErrorName(-errno) : 'EIO';
  return { ok: false, code, error: `${code}: cannot read directory` };
}

/** Whether the mirror visits the subdirectory `name` of `parentRel` (not excluded). */
export type KeepDir = (parentRel: Buffer, name: Buffer) => boolean;

export class TreeWalker {
  private readonly handle: WalkerHandle;
  private ready: WalkedDir[] = [];
  private next = 0;
  private over = false;
  /** Directories the walker had not listed where the mirror asked (listed directly instead). */
  fallbacks = 0;

  /** Listings taken from the walker and not yet asked for (at most TAKE_MAX). */
  get buffered(): number {
    return this.ready.length - this.next;
  }

  /** keepDir: gated (a mirror with excludes): only the subdirectories it keeps are ever listed. */
  constructor(
    private readonly srcRoot: Buffer,
    private readonly dstRoot: Buffer,
    private readonly keepDir: KeepDir | null = null,
  ) {
    this.handle = hlfs.walkOpen(srcRoot, dstRoot, AHEAD_DIRS, AHEAD_ENTRIES, keepDir !== null);
  }

  /**
   * Takes what the walker has ready, without waiting. Gated, it first answers the walker, which waits
   * on the last directory it listed until told which subdirectories to go on with: every mirror step
   * pulls, and the walker wakes this thread for it, so the wait is short.
   */
  private pull(): void {
    if (this.keepDir !== null) {
      const pending = hlfs.walkPending(this.handle);
      if (pending !== null) this.decide(pending[0], pending[1]);
    }
    // Never more than TAKE_MAX held here: what the walker lists ahead counts against its own limit
    // only until it is taken, so taking on every step would let a slow mirror pile listings up.
    const room = TAKE_MAX - (this.ready.length - this.next);
    if (room <= 0) return;
    const got = walkTake(this.handle, room);
    if (got === null) {
      this.over = true;
      return;
    }
    if (got.length === 0) return;
    this.ready = this.next === this.ready.length ? got : this.ready.slice(this.next).concat(got);
    this.next = 0;
  }

  /** Gated: tells the walker which of `rel`'s subdirectories (names, NUL-terminated) the mirror visits. */
  private decide(rel: Buffer, names: Buffer): void {
    const keep: Buffer[] = [];
    let dropped = false;
    for (let off = 0; off < names.length; ) {
      const end = names.indexOf(0, off);
      if ((this.keepDir as KeepDir)(rel, names.subarray(off, end))) keep.push(names.subarray(off, end + 1));
      else dropped = true;
      off = end + 1;
    }
    hlfs.walkDone(this.handle, rel, dropped ? Buffer.concat(keep) : names);
  }

  /**
   * The listings of the directory at `rel` (asked in walk order): SRC's, and DST's unless listDst is
   * false (a directory this run creates: empty).
   */
  async listing(rel: Buffer, listDst: boolean): Promise<[RawListing, RawListing]> {
    if (!this.over) this.pull();
    for (;;) {
      if (this.next === this.ready.length) {
        if (this.over) break;
        this.pull();
        if (this.next === this.ready.length && !this.over) await hlfs.walkWait(this.handle, WAKE_AT);
        continue;
      }
      const [walked, src, dst] = this.ready[this.next] as WalkedDir;
      const order = walked.equals(rel) ? 0 : compareWalkOrder(walked, rel);
      if (order > 0) break;
      this.ready[this.next++] = EMPTY_ITEM;
      if (order === 0) return [src, listDst && dst !== null ? dst : EMPTY_LISTING];
      // A directory the mirror does not visit: nor will it visit anything under it.
      hlfs.walkSkip(this.handle, walked);
    }
    // Not listed by the walker (cannot happen while both see the same listings): list it here.
    this.fallbacks++;
    const [pair] = await scanPairsAsync([[joinPath(this.srcRoot, rel), listDst ? joinPath(this.dstRoot, rel) : null]]);
    return pair as [RawListing, RawListing];
  }

  /** Stops the walker's threads and frees what they listed ahead. */
  close(): void {
    hlfs.walkClose(this.handle);
  }
}

// Taken items are dropped at once: a listing can be large.
const EMPTY_ITEM: WalkedDir = [Buffer.alloc(0), EMPTY_LISTING, null, false];
