// The copy pool. Copies go in batches to the addon's copier threads (native/copier.c), which run the
// same native loop a worker ran, without a V8 isolate per thread; the other tasks (hashing a DST file
// whose manifest row is missing, --checksum) go in batches to piscina's worker threads. Small files
// are batched so per-task overhead does not dominate; the number of batches in flight is capped so
// memory stays bounded however fast the walk produces work.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Piscina } from 'piscina';
import { ioBuffer } from './hash.js';
import { Copier } from './copier.js';
import { runTask } from './run-task.js';
import { decodeResults, encodeTasks, type EncodedResults } from './batch-codec.js';
import type { Task, TaskResult } from './tasks.js';

// A batch closes at 256 files or 4 MiB, whichever comes first (small-file tree, 2 cores).
const BATCH_FILES = 256;
const BATCH_BYTES = 4 << 20;

// The first hashing or --checksum tasks of a run run on the main thread: starting piscina's workers
// costs ~0.08-0.15 s of CPU each (a V8 isolate and its modules), more than hashing a few hundred
// small files here. A run with more starts the workers once this budget is spent. Copies always go to
// the copier, whose threads start in microseconds, and this thread walks on meanwhile; copying the
// first 1,000 files here as well (as when workers did the copies) gained nothing any more: a 500-file
// update of the 50,000-file tree took 0.54-0.66 s either way (CPU 0.84-1.03 s against 0.87-1.10 s).
const INLINE_FILES = 1000;
const INLINE_BYTES = 32 << 20;

type Callback = (result: TaskResult) => void;
interface OpenBatch {
  tasks: Task[];
  callbacks: Callback[];
  bytes: number;
}
const newBatch = (): OpenBatch => ({ tasks: [], callbacks: [], bytes: 0 });

/**
 * The compiled worker beside this module. Under tsx (tests run the TypeScript sources) worker threads
 * do not inherit the TypeScript loader, so the compiled copy in dist/ is used: `npm run build` first
 * (the test scripts do).
 */
function workerFile(): URL {
  const url = import.meta.url;
  if (!url.endsWith('.ts')) return new URL('./copy-worker.js', url);
  const compiled = new URL('../../dist/src/engine/copy-worker.js', url);
  if (!fs.existsSync(compiled)) throw new Error(`${compiled.pathname} is missing: run \`npm run build\` before running from the TypeScript sources`);
  return compiled;
}

export class CopyPool {
  private piscinaInstance: Piscina | null = null;
  private readonly copier: Copier;
  private stopping = false;
  /** The batch being filled: copies (for the copier) and other tasks (for the workers). */
  private readonly open = { copy: newBatch(), other: newBatch() };
  /** Closed batches not yet posted to a worker (see pump). */
  private pending: { batch: Task[]; callbacks: Callback[]; big: boolean }[] = [];
  /** Batches posted to the workers and not yet answered. */
  private inFlight = 0;
  /** Tasks queued to run on this thread (the first hashing tasks of a run). */
  private inlineRunning = 0;
  private readonly maxInFlight: number;
  private waiters: (() => void)[] = [];
  private fatal: unknown = null;

  private inlineFiles: number;
  private inlineBytes: number;
  private inlineBuffer: Buffer | null = null;

  /**
   * batchLimitBytes: a batch closes at this many bytes (or BATCH_FILES files). inline: run the first
   * hashing tasks on this thread before starting any worker.
   */
  constructor(private readonly threads: number, private readonly batchLimitBytes = BATCH_BYTES, inline = true) {
    this.maxInFlight = threads * 3;
    this.copier = new Copier(threads);
    this.inlineFiles = inline ? INLINE_FILES : 0;
    this.inlineBytes = inline ? INLINE_BYTES : 0;
  }

  /** Workers start with the first batch: a run that copies little never pays their start-up. */
  private get piscina(): Piscina {
    if (this.piscinaInstance) return this.piscinaInstance;
    // Loaded on first use: importing piscina costs ~30 ms (more under load) that a no-op never needs.
    const { Piscina: PiscinaClass } = createRequire(import.meta.url)('piscina') as typeof import('piscina');
    const piscina = new PiscinaClass({
      filename: workerFile().href,
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: 60_000,
      // Every batch in flight is posted to a worker at once: a worker runs its queued batches back to
      // back instead of idling until the main thread (busy walking) hands it the next one.
      concurrentTasksPerWorker: 3,
    });
    // Without a listener, a worker that cannot start would crash the process instead of failing tasks.
    piscina.on('error', (error: unknown) => {
      this.fatal ??= error;
    });
    this.piscinaInstance = piscina;
    return piscina;
  }

  /** Queues a task; `done` runs on the main thread with its result. */
  submit(task: Task, sizeBytes: number, done: Callback): void {
    if (task.kind !== 'copy' && this.piscinaInstance === null && this.inlineFiles > 0 && sizeBytes <= this.inlineBytes) {
      this.inlineFiles--;
      this.inlineBytes -= sizeBytes;
      // Run like a worker's batch: after the caller's current synchronous work (the walk plans a whole
      // directory before its copies start, as with workers).
      this.inlineRunning++;
      queueMicrotask(() => {
        this.inlineRunning--;
        done(this.runHere(task));
        this.wake();
      });
      return;
    }
    const open = task.kind === 'copy' ? this.open.copy : this.open.other;
    open.tasks.push(task);
    open.callbacks.push(done);
    open.bytes += sizeBytes;
    if (open.tasks.length >= BATCH_FILES || open.bytes >= this.batchLimitBytes) this.closeBatch(open);
  }

  flush(): void {
    this.closeBatch(this.open.copy);
    this.closeBatch(this.open.other);
  }

  private closeBatch(open: OpenBatch): void {
    if (open.tasks.length === 0) return;
    const { tasks, callbacks, bytes } = open;
    open.tasks = [];
    open.callbacks = [];
    open.bytes = 0;
    if (open === this.open.copy) {
      this.copy(tasks, callbacks);
      return;
    }
    // Big: one file of the batch limit or more, minutes of work for a worker on a slow disk.
    const big = tasks.length === 1 && bytes >= this.batchLimitBytes;
    this.pending.push({ batch: tasks, callbacks, big });
    this.pump();
  }

  /**
   * Hands a batch of copies to the copier threads. They take batches in order as each finishes the
   * last, so a big file holds only its own thread (no idle-worker rule as for piscina below).
   */
  private copy(tasks: Task[], callbacks: Callback[]): void {
    this.copier.copy(encodeTasks(tasks)).then(
      (results) => {
        results.forEach((r, k) => {
          const cb = callbacks[k] as Callback;
          if (r !== null) cb(r.ok ? { ok: true, hash: r.hash, sizeBytes: r.sizeBytes, mtimeNs: r.mtimeNs, copied: true } : r);
          // Left by the native loop: not reached before close(), or a path it cannot take (too long).
          else if (this.stopping) cb({ ok: false, code: 'ECANCELED', error: 'not copied: the run was stopped' });
          else cb(this.runHere(tasks[k] as Task));
        });
      },
    ).catch((error: unknown) => {
      // A callback that throws (a fatal stop) ends the run at its next wait, as from a worker's batch.
      this.fatal ??= error;
    }).finally(() => this.wake());
  }

  /** A task on this thread; a throw is a bug, as a worker's crash would be: this task fails, the run goes on. */
  private runHere(task: Task): TaskResult {
    try {
      return runTask(task, (this.inlineBuffer ??= ioBuffer()));
    } catch (error) {
      return { ok: false, code: 'EWORKER', error: `copy failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  /**
   * Posts pending batches in order. A big batch (one file of the batch limit or more) is posted only
   * while a worker is idle: piscina hands a task to a worker when it is posted, and a worker runs its
   * tasks one after another, so three 256 MiB files queued on one worker left the other idle for a
   * second of a 2 GiB copy (measured, 8 files of 256 MiB). Small batches keep three per worker
   * queued, so no worker waits for the main thread between them.
   */
  private pump(): void {
    for (;;) {
      const next = this.pending[0];
      if (!next || this.inFlight >= (next.big ? this.threads : this.maxInFlight)) return;
      this.pending.shift();
      this.post(next.batch, next.callbacks);
    }
  }

  private post(batch: Task[], callbacks: Callback[]): void {
    this.inFlight++;
    const message = encodeTasks(batch);
    this.piscina.run(message, { transferList: [message.buffer] }).then(
      (encoded: EncodedResults) => {
        decodeResults(encoded).forEach((r, k) => (callbacks[k] as Callback)(r));
      },
      (error: unknown) => {
        // A worker crash is a bug or a fatal condition (out of memory): fail every task of the batch.
        const message = error instanceof Error ? error.message : String(error);
        for (const cb of callbacks) cb({ ok: false, code: 'EWORKER', error: `copy worker failed: ${message}` });
      },
    ).catch((error: unknown) => {
      this.fatal ??= error;
    }).finally(() => {
      this.inFlight--;
      this.pump();
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }

  /** Whether any task is batched, queued or running. */
  get busy(): boolean {
    return this.batchesInFlight > 0 || this.open.copy.tasks.length > 0 || this.open.other.tasks.length > 0;
  }

  /** Batches closed and not yet answered (posted to a worker or waiting to be). */
  get batchesInFlight(): number {
    return this.inFlight + this.inlineRunning + this.pending.length + this.copier.batchesOut;
  }

  /** Resolves when fewer batches than the cap are in flight or waiting. */
  async ready(): Promise<void> {
    while (this.batchesInFlight >= this.maxInFlight) await new Promise<void>((r) => this.waiters.push(r));
    this.rethrow();
  }

  /** Flushes and waits for every queued task. */
  async drain(): Promise<void> {
    this.flush();
    while (this.busy) await new Promise<void>((r) => this.waiters.push(r));
    this.rethrow();
  }

  async close(): Promise<void> {
    // A run that stops early: what the copier had not started is answered as not copied.
    this.stopping = true;
    await this.copier.close();
    await this.piscinaInstance?.destroy();
  }

  private rethrow(): void {
    if (this.fatal) throw this.fatal;
  }
}
