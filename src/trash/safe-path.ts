// Relative paths that come from outside the walk (command lines, manifest rows, trash listings) are
// checked here before they are joined to a root: an absolute path, a '..' component or a NUL byte
// would let a crafted manifest or a typo read or write outside the mirror, the disk or the restore
// target. Pure.
import { SLASH } from '../engine/bytes.js';

const DOT = 0x2e;

/** Why this relative path is unsafe to join under a root, or null when it is safe. */
export function unsafeRelativePath(p: Buffer): string | null {
  if (p.length === 0) return 'empty path';
  if (p.includes(0)) return 'contains a NUL byte';
  if (p[0] === SLASH) return 'absolute path (must be relative to the root)';
  for (const part of components(p)) {
    if (part.length === 2 && part[0] === DOT && part[1] === DOT) return "contains a '..' component";
  }
  return null;
}

/**
 * 'a//b/./c/' -> 'a/b/c'; '.' -> '' (the root itself). Returns an error string for an unsafe path.
 * Never resolves '..' (a path with one is refused, not interpreted).
 */
export function normalizeRelativePath(p: Buffer): { ok: true; path: Buffer } | { ok: false; error: string } {
  if (p.length > 0 && p[0] === SLASH) return { ok: false, error: 'absolute path (must be relative to the root)' };
  if (p.includes(0)) return { ok: false, error: 'contains a NUL byte' };
  const parts = components(p).filter((c) => !(c.length === 1 && c[0] === DOT));
  const joined = Buffer.concat(parts.flatMap((c, i) => (i === 0 ? [c] : [Buffer.from('/'), c])));
  if (joined.length === 0) return { ok: true, path: joined };
  const problem = unsafeRelativePath(joined);
  return problem === null ? { ok: true, path: joined } : { ok: false, error: problem };
}

/** Non-empty components of a '/'-separated path. */
export function components(p: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= p.length; i++) {
    if (i === p.length || p[i] === SLASH) {
      if (i > start) out.push(p.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}
