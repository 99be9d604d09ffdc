// A separate process that takes the disk lock, for tests of two runs at once and of killed runs.
// Usage: node --import tsx test/helpers/lock-child.ts DISK
// Prints "acquired" or "busy <message>" on one line; when acquired, holds the lock until stdin
// closes, then releases it and prints "released".
import { acquireDiskLock } from '../../src/backup/lock.js';
import { FatalError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';

const disk = process.argv[2] as string;
try {
  const lock = acquireDiskLock({ diskRoot: disk, logger: silentLogger, command: 'test' });
  process.stdout.write('acquired\n');
  process.stdin.resume();
  process.stdin.on('end', () => {
    lock.release();
    process.stdout.write('released\n');
  });
} catch (error) {
  if (!(error instanceof FatalError)) throw error;
  process.stdout.write(`${error.kind} ${error.message}\n`);
}
