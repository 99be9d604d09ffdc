// Removing and measuring trash trees without ever following a symlink: a trash day is a copy of
// whatever the source held, so it can hold symlinks to '/', and retention must remove the link, not
// what it points at. Buffer paths throughout (names are bytes); an explicit stack instead of
// recursion, so a deep tree cannot overflow the call stack.
import fs from 'node:fs';
import { displayPath, joinPath } from '../engine/bytes.js';

export type RemoveResult = { ok: true; bytesFreed: number } | { ok: false; bytesFreed: number; error: string };

/** Space a tree holds on disk (st_blocks, so sparse files count what they use). Never follows links. */
export function treeSizeSync(root: Buffer): number {
  let total = 0;
  const stack: Buffer[] = [root];
  while (stack.length > 0) {
    const p = stack.pop() as Buffer;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue; // vanished or unreadable: it frees nothing we can count
    }
    total += st.blocks * 512;
    if (st.isDirectory()) {
      try {
        for (const name of fs.readdirSync(p, { encoding: 'buffer' })) stack.push(joinPath(p, name));
      } catch {
        // an unreadable directory: its contents are not counted
      }
    }
  }
  return total;
}

/** rm -rf that never follows a symlink; a missing root is success. Stops at the first error. */
export function removeTreeSync(root: Buffer): RemoveResult {
  let bytesFreed = 0;
  const stack: { path: Buffer; listed: boolean }[] = [{ path: root, listed: false }];
  while (stack.length > 0) {
    const top = stack.pop() as { path: Buffer; listed: boolean };
    try {
      if (top.listed) {
        fs.rmdirSync(top.path);
        continue;
      }
      let st: fs.Stats;
      try {
        st = fs.lstatSync(top.path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      if (!st.isDirectory()) {
        fs.unlinkSync(top.path);
        bytesFreed += st.blocks * 512;
        continue;
      }
      bytesFreed += st.blocks * 512;
      // A read-only directory (a copied 0555 dir) cannot have entries removed by a non-root owner.
      if ((st.mode & 0o700) !== 0o700 && process.getuid?.() !== 0) fs.chmodSync(top.path, 0o700);
      stack.push({ path: top.path, listed: true });
      for (const name of fs.readdirSync(top.path, { encoding: 'buffer' })) stack.push({ path: joinPath(top.path, name), listed: false });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      return { ok: false, bytesFreed, error: `cannot remove ${displayPath(top.path)}: ${e.code ?? e.message}` };
    }
  }
  return { ok: true, bytesFreed };
}
