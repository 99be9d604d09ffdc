// The verification stamps of one scrub or verify run, kept per page of the manifest and written once
// a page is wholly checked (files hashed off the main thread finish out of order).
//
// verify reads the manifest in (dir, name) order, so the rows it checked of a page are a key range:
// one UPDATE stamps the range as ok, then the rows with another outcome are written one by one.
// Measured on the 200,000-row manifest of the bench: 2.7-4.6 µs a row against 7.0-7.8 µs for an
// UPDATE per row. The range UPDATE must change exactly the rows checked; anything else (a row added
// or removed meanwhile by some other writer) is rolled back and the page stamped row by row.
import type { ManifestStore, VerifyStatus } from '../manifest/store.js';
import { recordRepair, setVerifiedByKey, setVerifiedRange, type KeyedRow } from '../manifest/queries.js';

export type Outcome =
  | { status: Exclude<VerifyStatus, 'repaired'> }
  | { status: 'repaired'; repaired: { sizeBytes: number; mtimeNs: bigint; hash: string } };

export interface LedgerPage {
  /** The rows handed to a check, in page order. */
  rows: KeyedRow[];
  /** Each checked row's outcome. */
  readonly outcomes: Map<KeyedRow, Outcome>;
  /** No more rows will be added. */
  closed: boolean;
  /** Its rows are still one key range with none written yet (a partial flush ends that). */
  whole: boolean;
}

class RangeMismatch extends Error {}

export class Ledger {
  private pages: LedgerPage[] = [];

  /** keyRanges: pages are read in (dir, name) order (verify), so a page's rows form a key range. */
  constructor(
    private readonly store: ManifestStore,
    private readonly keyRanges: boolean,
  ) {}

  openPage(): LedgerPage {
    const page: LedgerPage = { rows: [], outcomes: new Map(), closed: false, whole: true };
    this.pages.push(page);
    return page;
  }

  record(page: LedgerPage, row: KeyedRow, outcome: Outcome): void {
    page.outcomes.set(row, outcome);
  }

  /**
   * Writes, in one transaction stamped atMs, every closed page whose rows all have an outcome; with
   * `partial`, also the outcomes known so far of the other pages (a page of big files is not lost
   * whole when the run is killed).
   */
  flush(atMs: number, partial = false): void {
    const complete = (p: LedgerPage) => p.closed && p.outcomes.size === p.rows.length;
    const ready = this.pages.filter(complete);
    const started = partial ? this.pages.filter((p) => !complete(p) && p.outcomes.size > 0) : [];
    if (ready.length === 0 && started.length === 0) return;
    this.pages = this.pages.filter((p) => !complete(p));
    this.store.transaction(() => {
      for (const page of ready) this.write(page, atMs);
      for (const page of started) {
        for (const [row, outcome] of page.outcomes) this.writeOne(row, outcome, atMs);
        page.rows = page.rows.filter((row) => !page.outcomes.has(row));
        page.outcomes.clear();
        page.whole = false;
      }
    });
  }

  private write(page: LedgerPage, atMs: number): void {
    if (page.rows.length === 0) return;
    const ranged = this.keyRanges && page.whole && this.stampRange(page, atMs);
    for (const [row, outcome] of page.outcomes) if (!ranged || outcome.status !== 'ok') this.writeOne(row, outcome, atMs);
  }

  private writeOne(row: KeyedRow, outcome: Outcome, atMs: number): void {
    if (outcome.status === 'repaired') recordRepair(this.store, { path: row.path, ...outcome.repaired }, atMs);
    else setVerifiedByKey(this.store, row, atMs, outcome.status);
  }

  /** The range UPDATE in a savepoint: false (and rolled back) when it did not change exactly the page's rows. */
  private stampRange(page: LedgerPage, atMs: number): boolean {
    const first = page.rows[0] as KeyedRow;
    const last = page.rows[page.rows.length - 1] as KeyedRow;
    try {
      this.store.transaction(() => {
        if (setVerifiedRange(this.store, first, last, atMs) !== page.rows.length) throw new RangeMismatch();
      });
      return true;
    } catch (error) {
      if (error instanceof RangeMismatch) return false;
      throw error;
    }
  }
}
