// One copy/hash task, run synchronously through a caller's buffer: by a pool worker, or by the main
// thread for the first few files of a run (src/engine/pool.ts).
import { copyFileSync, type CopyJob } from './copy-file.js';
import { hashFileSync } from './hash.js';
import type { Task, TaskResult } from './tasks.js';

// Structured clone turns Buffers into plain Uint8Arrays; fs wants Buffers.
function buf(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function revive(job: CopyJob): CopyJob {
  // Jobs decoded from a packed batch already hold Buffers: no copy of the object then.
  return Buffer.isBuffer(job.src) && Buffer.isBuffer(job.dst) ? job : { ...job, src: buf(job.src), dst: buf(job.dst) };
}

export function runTask(task: Task, buffer: Buffer): TaskResult {
  switch (task.kind) {
    case 'copy': {
      const r = copyFileSync(revive(task.job), buffer);
      return r.ok ? { ...r, copied: true } : r;
    }
    case 'hash': {
      const r = hashFileSync(buf(task.path), buffer);
      if (!r.ok) return r;
      if (r.sizeBytes !== task.sizeBytes || r.mtimeNs !== task.mtimeNs) {
        return { ok: false, code: 'CHANGED', error: 'destination file changed while it was hashed' };
      }
      return { ok: true, hash: r.hash, sizeBytes: r.sizeBytes, mtimeNs: r.mtimeNs, copied: false };
    }
    case 'read': {
      const r = hashFileSync(buf(task.path), buffer);
      return r.ok ? { ...r, copied: false } : r;
    }
    case 'checksum': {
      const job = revive(task.job);
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
