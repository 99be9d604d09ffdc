// Where a restore reads from: the mirror root the owner names, and the disk root above it that holds
// .home-lab/ (the manifest, the trash, drill.json). The manifest's rows are relative to the disk
// root, so a mirror at <disk>/bare finds its rows under the prefix 'bare'.
import fs from 'node:fs';
import { SLASH, displayPath, joinPath } from '../engine/bytes.js';
import { FatalError } from '../errors.js';
import { MANIFEST_DIR, MANIFEST_FILE } from '../manifest/store.js';

export interface MirrorLocation {
  /** The mirror root, symlinks resolved (bytes). */
  mirrorRoot: Buffer;
  /** The nearest directory at or above the mirror root, on the same filesystem, holding .home-lab/; null when none. */
  diskRoot: Buffer | null;
  /** True when diskRoot holds .home-lab/manifest.db. */
  hasManifest: boolean;
  /** mirrorRoot relative to diskRoot ('' when they are the same). */
  prefix: Buffer;
}

export function locateMirror(target: string | Buffer): MirrorLocation {
  let mirrorRoot: Buffer;
  try {
    mirrorRoot = fs.realpathSync(target, { encoding: 'buffer' });
    if (!fs.statSync(mirrorRoot).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    throw new FatalError(`the backup ${displayPath(target)} is not a readable directory (${code}): is the disk mounted? Pass the mirror root with --target.`, 'usage');
  }
  const dev = fs.statSync(mirrorRoot).dev;
  let candidate = mirrorRoot;
  for (;;) {
    const meta = joinPath(candidate, Buffer.from(MANIFEST_DIR));
    if (isRealDir(meta)) {
      const prefix = candidate.length === mirrorRoot.length ? Buffer.alloc(0) : mirrorRoot.subarray(candidate.length === 1 ? 1 : candidate.length + 1);
      return { mirrorRoot, diskRoot: candidate, hasManifest: isRealFile(joinPath(meta, Buffer.from(MANIFEST_FILE))), prefix };
    }
    const parent = parentOf(candidate);
    if (parent === null) break;
    try {
      if (fs.statSync(parent).dev !== dev) break; // the disk's mount point was the last candidate
    } catch {
      break;
    }
    candidate = parent;
  }
  return { mirrorRoot, diskRoot: null, hasManifest: false, prefix: Buffer.alloc(0) };
}

function parentOf(p: Buffer): Buffer | null {
  if (p.length <= 1) return null;
  const at = p.lastIndexOf(SLASH);
  return at <= 0 ? Buffer.from('/') : p.subarray(0, at);
}

function isRealDir(p: Buffer): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isRealFile(p: Buffer): boolean {
  try {
    return fs.lstatSync(p).isFile();
  } catch {
    return false;
  }
}
