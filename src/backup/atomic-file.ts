// Replace a small file so that readers see either the old or the new content, never a mix or an
// empty file: write a temp file in the same directory (same filesystem, so rename is atomic),
// fsync it, rename it over the target, fsync the directory. node_exporter's textfile collector and
// `home-lab status` may read while a run writes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Throws the fs error (with its path) on failure; the temp file is removed. The temp name starts
 * with '.' and does not end in .prom, so the textfile collector never reads it.
 */
export function writeFileAtomicSync(file: string, content: string, options: { mode?: number; dirMode?: number } = {}): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: options.dirMode ?? 0o755 });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(temp, 'wx', options.mode ?? 0o644);
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, file);
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw error;
  }
  syncDir(dir);
}

// The rename is durable only once the directory entry is on disk. Best effort: some filesystems
// refuse fsync on a directory, and the data is already safe in the renamed file.
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // ignored, see above
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
