// BackupOutcome fixtures for the announce/notify/status/metrics tests.
import type { BackupOutcome, StepOutcome } from '../../src/backup/outcome.js';

export const T0 = Date.UTC(2024, 4, 1, 3, 0, 0);

export function step(overrides: Partial<StepOutcome> = {}): StepOutcome {
  return {
    name: 'source bare',
    status: 'ok',
    durationMs: 60_000,
    filesCopied: 120,
    bytesCopied: 5 * 1024 * 1024,
    filesDeleted: 3,
    bytesDeleted: 4096,
    filesVerified: 40,
    failures: [],
    notes: [],
    ...overrides,
  };
}

export function okOutcome(overrides: Partial<BackupOutcome> = {}): BackupOutcome {
  return {
    status: 'ok',
    startedAtMs: T0,
    finishedAtMs: T0 + 754_000,
    disk: { name: 'daily', mountPoint: '/mnt/backup-daily', freeBytes: 500 * 1024 ** 3 },
    steps: [step({ name: 'service immich.service', filesCopied: 10, bytesCopied: 1000, filesDeleted: 0, bytesDeleted: 0, filesVerified: 5 }), step()],
    errors: [],
    corruptFound: 0,
    refusal: null,
    coverage: { verifiedShare100d: 0.42, oldestVerifiedAtMs: T0 - 90 * 86_400_000, neverVerified: 7, rows: 1000 },
    dryRun: false,
    ...overrides,
  };
}

export function partialOutcome(overrides: Partial<BackupOutcome> = {}): BackupOutcome {
  const failures = Array.from({ length: 14 }, (_, i) => ({ path: `bare/photos/IMG_${i}.jpg`, error: 'EIO: i/o error, read' }));
  return okOutcome({
    status: 'partial',
    steps: [step({ status: 'partial', failures, notes: ['deletions skipped: 14 copies failed'] })],
    errors: ['14 files could not be copied'],
    ...overrides,
  });
}
