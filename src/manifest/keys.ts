// Which manifest keys are safe to turn into a path under a root. The manifest lives on a backup disk
// that may be damaged or tampered with: a row must never lead a reader (scrub, verify, or xxhsum -c
// on an exported file) outside the root. Pure.
import { SLASH } from '../engine/bytes.js';

/** Why a manifest path cannot be used, or null when it is a plain relative path. Pure. */
export function unsafePathReason(p: Buffer): string | null {
  if (p.length === 0) return 'empty path';
  if (p[0] === SLASH) return 'absolute path';
  if (p.includes(0)) return 'path contains a NUL byte';
  let start = 0;
  for (let i = 0; i <= p.length; i++) {
    if (i < p.length && p[i] !== SLASH) continue;
    const len = i - start;
    if (len === 0) return 'empty path component (// or a trailing /)';
    if (len === 1 && p[start] === 0x2e) return "'.' path component";
    if (len === 2 && p[start] === 0x2e && p[start + 1] === 0x2e) return "'..' path component";
    start = i + 1;
  }
  return null;
}

/**
 * A row's key must join back to exactly its path: a name with a '/', an empty or dot name, or a
 * directory that is not a safe relative path would make the row point somewhere else. Pure.
 */
export function unsafeKeyReason(dir: Buffer, name: Buffer): string | null {
  if (name.length === 0) return 'empty file name';
  if (name.includes(SLASH)) return "file name contains '/'";
  if (dir.length > 0) {
    const d = unsafePathReason(dir);
    if (d !== null) return d;
  }
  return unsafePathReason(name);
}
