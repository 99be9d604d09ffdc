// A size-limited tmpfs for tests that need a real filesystem boundary or a real "disk full" (root).
// Unmounted before its directory is removed (node:test runs after-hooks in registration order).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export function mountTmpfs(t: TestContext, size: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'home-lab-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  t.after(() => {
    try {
      execFileSync('umount', [dir], { stdio: 'ignore' });
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
