// One copy/hash task, run synchronously through a caller's buffer: by a pool worker, or by the main
// thread for the first few files of a run (src/engine/pool.ts).
import { copyFileSync } from './copy-file.js';
import { hashFileSync } from './hash.js';
import type { Task, TaskResult } from './tasks.js';

// Tasks arrive with Buffer paths: the caller's own on the main thread, decodeTasks' views in a
// worker (batches are packed, never structured-cloned into plain Uint8Arrays).
export function runTask(task: Task, buffer: Buffer): TaskResult {
  switch (task.kind) {
    case 'copy': {
      const r = copyFileSync(task.job, buffer);
      return r.ok ? { ...r, copied: true } : r;
    }
    case 'hash': {
      const r = hashFileSync(task.path, buffer);
      if (!r.ok) return r;
      if (r.sizeBytes !== task.sizeBytes || r.mtimeNs !== task.mtimeNs) {
        return { ok: false, code: 'CHANGED', error: 'destination file changed while it was hashed' };
      }
      return { ok: true, hash: r.hash, sizeBytes: r.sizeBytes, mtimeNs: r.mtimeNs, copied: false };
    }
    case 'checksum': {
      const job = task.job;
      const s = hashFileSync(job.src, buffer);
      if (!s.ok) return s;
      const d = hashFileSync(job.dst, buffer);
      if (d.ok && d.hash === s.hash && d.sizeBytes === s.sizeBytes) {
        return { ok: true, hash: d.hash, sizeBytes: d.sizeBytes, mtimeNs: d.mtimeNs, copied: false };
      }
      const r = copyFileSync(job, buffer);
      return r.ok ? { ...r, copied: true } : r;
    }
  }
}
