// The addon's copy threads (native/copier.c) behind a promise per batch. A batch of copy tasks,
// packed by batch-codec, is copied and hashed in C on a thread of the copier's own, with the checks
// and results of copyFileSync, file by file.
//
// Why not piscina's worker threads for this: every copy was already one native call, so a worker
// only added a V8 isolate (its start-up, its heap, its JavaScript per batch) and a message round
// trip. Measured against the worker pool on the bench trees (tmpfs, 2 cores, alternating runs):
// initial copy of the 2 GiB mixed tree 2.24-2.48 s -> 1.92-2.26 s (CPU 4.16-4.55 -> 3.56-4.21 s), peak
// RSS 86-89 -> 65-66 MiB; 50,000 small files 94-95 -> 68-70 MiB.
import { hlfs, type CopierHandle } from '../native/hlfs.js';
import { batchResults, tempStemBytes, type CopyResult } from './copy-file.js';
import type { EncodedTasks } from './batch-codec.js';

interface Out {
  packed: EncodedTasks;
  res: Float64Array;
  hex: Buffer;
  resolve: (results: (CopyResult | null)[]) => void;
}

export class Copier {
  private handle: CopierHandle | null = null;
  /** Batches submitted and not answered: their buffers stay referenced here while C writes them. */
  private readonly out = new Map<number, Out>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly threads: number) {}

  /** Batches submitted and not answered yet. */
  get batchesOut(): number {
    return this.out.size;
  }

  /**
   * Copies the 'copy' tasks of a packed batch. Null for a task left undone: another kind, a path too
   * long for the native loop, or a file not reached before close().
   */
  copy(packed: EncodedTasks): Promise<(CopyResult | null)[]> {
    if (this.closed) throw new Error('bug: copy after close');
    // Threads start with the first batch: a run that copies nothing never starts them.
    this.handle ??= hlfs.copierOpen(this.threads, tempStemBytes, (id) => this.done(id));
    const id = this.nextId++;
    const res = new Float64Array(packed.count * 4);
    const hex = Buffer.allocUnsafe(packed.count * 16);
    return new Promise((resolve) => {
      this.out.set(id, { packed, res, hex, resolve });
      hlfs.copierSubmit(this.handle as CopierHandle, id, packed.buffer, packed.count, res, hex);
    });
  }

  private done(id: number): void {
    const out = this.out.get(id);
    if (out === undefined) return;
    this.out.delete(id);
    out.resolve(batchResults(out.packed, out.res, out.hex));
  }

  /**
   * Stops and joins the threads. Batches not started are answered at once with nulls, a batch being
   * copied stops before its next file (the file being copied is finished or removed, never left
   * half-written under its name); every batch is answered before this resolves.
   */
  async close(): Promise<void> {
    this.closed = true;
    const handle = this.handle;
    if (handle === null) return;
    if (this.out.size > 0) {
      const answered = [...this.out.values()].map((o) => new Promise<void>((r) => {
        const resolve = o.resolve;
        o.resolve = (results) => {
          resolve(results);
          r();
        };
      }));
      hlfs.copierStop(handle);
      await Promise.all(answered);
    }
    hlfs.copierClose(handle);
    this.handle = null;
  }
}
