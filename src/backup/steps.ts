// Building a BackupOutcome step by step: the status rules in one place. A step's status is the worst
// thing that happened in it; the run's status is the worst of its steps, plus errors that belong to
// no step (no disk, interrupted).
import { displayPath } from '../engine/bytes.js';
import type { MirrorResult } from '../engine/types.js';
import type { BackupOutcome, DeletionRefusal, RunStatus, StepOutcome } from './outcome.js';

// The order main.ts gives the matching exit codes: the most serious first.
const SEVERITY: RunStatus[] = ['fatal', 'busy', 'refused', 'partial', 'ok'];

export function worst(a: RunStatus, b: RunStatus): RunStatus {
  return SEVERITY.indexOf(a) <= SEVERITY.indexOf(b) ? a : b;
}

export function newStep(name: string): StepOutcome {
  return { name, status: 'ok', durationMs: 0, filesCopied: 0, bytesCopied: 0, filesDeleted: 0, bytesDeleted: 0, filesVerified: 0, failures: [], notes: [] };
}

export class OutcomeBuilder {
  readonly outcome: BackupOutcome;

  constructor(startedAtMs: number, dryRun: boolean) {
    this.outcome = {
      status: 'ok',
      startedAtMs,
      finishedAtMs: startedAtMs,
      disk: null,
      steps: [],
      errors: [],
      corruptFound: 0,
      refusal: null,
      coverage: null,
      dryRun,
    };
  }

  step(name: string): StepOutcome {
    const s = newStep(name);
    this.outcome.steps.push(s);
    return s;
  }

  /** Marks a step (and the run) at least `status`, with an error line for the report. */
  fail(step: StepOutcome | null, status: RunStatus, error: string): void {
    if (step) step.status = worst(step.status, status);
    this.outcome.status = worst(this.outcome.status, status);
    this.outcome.errors.push(step ? `${step.name}: ${error}` : error);
  }

  /** Adds one mirror's numbers to a step; failed files make it partial, a guard refusal refused. */
  addMirror(step: StepOutcome, r: MirrorResult, where: string): void {
    step.filesCopied += r.filesCopied;
    step.bytesCopied += r.bytesCopied;
    step.filesDeleted += r.filesDeleted;
    step.bytesDeleted += r.bytesDeleted;
    for (const f of r.failed) step.failures.push({ path: joinShown(where, displayPath(f.path)), error: f.error });
    if (r.failed.length > 0) {
      this.fail(step, 'partial', `${r.failed.length} file${r.failed.length === 1 ? '' : 's'} failed under ${where} (first: ${displayPath(r.failed[0]!.path)}: ${r.failed[0]!.error})`);
    }
    if (r.deletionsSkipped) step.notes.push(`${where}: deletions skipped: ${r.deletionsSkipped}`);
    if (r.refused) {
      this.fail(step, 'refused', `${where}: deletions refused: ${r.deletionsSkipped ?? 'over the deletion limit'}`);
      const refusal: DeletionRefusal = this.outcome.refusal ?? { files: 0, bytes: 0, topDirs: [], reason: '' };
      refusal.reason = [refusal.reason, `${where}: ${r.deletionsSkipped ?? 'over the deletion limit'}`].filter(Boolean).join('; ');
      if (r.refusal) {
        refusal.files += r.refusal.files;
        refusal.bytes += r.refusal.bytes;
        // Directories are relative to the source: name them from the disk, most files first.
        refusal.topDirs = [...refusal.topDirs, ...r.refusal.topDirs.map((d) => ({ dir: `${where}/${d.dir}`, files: d.files }))]
          .sort((a, b) => b.files - a.files)
          .slice(0, 5);
      }
      this.outcome.refusal = refusal;
    }
  }

  finish(finishedAtMs: number): BackupOutcome {
    this.outcome.finishedAtMs = finishedAtMs;
    return this.outcome;
  }
}

function joinShown(where: string, rel: string): string {
  return rel === '' ? where : `${where}/${rel}`;
}
