#!/usr/bin/env node
// Runs the node:test suite through tsx. Node 20's --test takes no globs, so this finds the files.
// Usage: node scripts/test.mjs            (every test/**/*.test.ts)
//        node scripts/test.mjs FILE...    (just those)
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import process from 'node:process';

const files = process.argv.slice(2).length > 0
  ? process.argv.slice(2)
  : readdirSync('test', { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => `test/${f}`)
      .sort();
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
