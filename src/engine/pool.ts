// The copy worker pool (piscina). Small files are batched so per-task overhead (a message round
// trip, ~tens of µs) does not dominate; the number of batches in flight is capped so memory stays
// bounded however fast the walk produces work.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Piscina } from 'piscina';
import { ioBuffer } from './hash.js';
import { runTask } from './run-task.js';
import { decodeResults, encodeTasks, type EncodedResults } from './batch-codec.js';
import type { Task, TaskResult } from './tasks.js';

// A batch closes at 256 files or 4 MiB, whichever comes first (small-file tree, 2 cores).
const BATCH_FILES = 256;
const BATCH_BYTES = 4 << 20;

// The first files of a run are copied on the main thread: starting the workers costs ~0.08-0.15 s of
// CPU each (a V8 isolate and its modules), more than copying a few hundred small files
// here. A run that copies more starts the workers once this budget is spent.
const INLINE_FILES = 1000;
const INLINE_BYTES = 32 << 20;

type Callback = (result: TaskResult) => void;

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
  private batch: Task[] = [];
  private callbacks: Callback[] = [];
  /** Closed batches not yet posted to a worker (see pump). */
  private pending: { batch: Task[]; callbacks: Callback[]; big: boolean }[] = [];
  private batchBytes = 0;
  /** Batches posted to the workers and not yet answered. */
  private inFlight = 0;
  /** Tasks queued to run on this thread (the first of a run). */
  private inlineRunning = 0;
  private readonly maxInFlight: number;
  private waiters: (() => void)[] = [];
  private fatal: unknown = null;

  private inlineFiles: number;
  private inlineBytes: number;
  private inlineBuffer: Buffer | null = null;

  /**
   * batchLimitBytes: a batch closes at this many bytes (or BATCH_FILES files). inline: run the first
   * tasks on this thread before starting any worker (the mirror; scrub keeps this thread for itself).
   */
  constructor(private readonly threads: number, private readonly batchLimitBytes = BATCH_BYTES, inline = true) {
    this.maxInFlight = threads * 3;
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
    if (this.piscinaInstance === null && this.inlineFiles > 0 && sizeBytes <= this.inlineBytes) {
      this.inlineFiles--;
      this.inlineBytes -= sizeBytes;
      const buffer = (this.inlineBuffer ??= ioBuffer());
      // Run like a worker's batch: after the caller's current synchronous work (the walk plans a whole
      // directory before its copies start, as with workers).
      this.inlineRunning++;
      queueMicrotask(() => {
        this.inlineRunning--;
        let result: TaskResult;
        try {
          result = runTask(task, buffer);
        } catch (error) {
          // A bug, as a worker's crash would be: this task fails, the run goes on and reports it.
          result = { ok: false, code: 'EWORKER', error: `copy failed: ${error instanceof Error ? error.message : String(error)}` };
        }
        done(result);
        this.wake();
      });
      return;
    }
    this.batch.push(task);
    this.callbacks.push(done);
    this.batchBytes += sizeBytes;
    if (this.batch.length >= BATCH_FILES || this.batchBytes >= this.batchLimitBytes) this.flush();
  }

  flush(): void {
    if (this.batch.length === 0) return;
    // Big: one file of the batch limit or more, minutes of work for a worker on a slow disk.
    const big = this.batch.length === 1 && this.batchBytes >= this.batchLimitBytes;
    this.pending.push({ batch: this.batch, callbacks: this.callbacks, big });
    this.batch = [];
    this.callbacks = [];
    this.batchBytes = 0;
    this.pump();
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
    return this.inFlight > 0 || this.inlineRunning > 0 || this.pending.length > 0 || this.batch.length > 0;
  }

  /** Batches closed and not yet answered (posted to a worker or waiting to be). */
  get batchesInFlight(): number {
    return this.inFlight + this.inlineRunning + this.pending.length;
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
    await this.piscinaInstance?.destroy();
  }

  private rethrow(): void {
    if (this.fatal) throw this.fatal;
  }
}
