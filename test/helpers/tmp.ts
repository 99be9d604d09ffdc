// Temp directories for tests, removed after the test (kept when HOME_LAB_KEEP_TMP=1, for debugging).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export function tempDir(t: TestContext, prefix = 'home-lab-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => {
    if (process.env.HOME_LAB_KEEP_TMP !== '1') fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export const isRoot = process.getuid?.() === 0;
