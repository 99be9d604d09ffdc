// The notification text (pure): title and markdown body for each kind of outcome.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatDuration, renderReport, renderUnitFailure } from '../src/backup/report-text.js';
import { okOutcome, partialOutcome, step } from './helpers/outcome.js';

test('formatting helpers', () => {
  assert.deepEqual([0, 1023, 1024, 1536, 5 * 1024 ** 3, 2.5 * 1024 ** 4].map(formatBytes), ['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '5.0 GiB', '2.5 TiB']);
  assert.deepEqual([0, 499, 59_500, 61_000, 3_599_000, 3_660_000, 26 * 3_600_000].map(formatDuration), ['0s', '0s', '1m 00s', '1m 01s', '59m 59s', '1h 01m', '26h 00m']);
});

test('success: one-line title with disk and duration; body with totals, coverage and steps', () => {
  const r = renderReport(okOutcome(), { host: 'nas', timeZone: 'UTC' });
  assert.equal(r.failure, false);
  assert.equal(r.title, 'home-lab backup on nas OK: daily (12m 34s)');
  assert.equal(
    r.markdown,
    [
      '**Status:** OK',
      '**Disk:** daily (`/mnt/backup-daily`), 500.0 GiB free',
      '**Started:** 2024-05-01 03:00:00, took 12m 34s',
      '**Copied:** 130 files (5.0 MiB) · **Deleted:** 3 files (4.0 KiB) · **Verified:** 45 files',
      '**Scrub coverage:** 42.0 % verified in the last 100 days; oldest check 2024-02-01; 7 never verified',
      '',
      '### Steps',
      '- **service immich.service**: OK, 1m 00s, 10 copied (1000 B), 0 deleted, 5 verified',
      '- **source bare**: OK, 1m 00s, 120 copied (5.0 MiB), 3 deleted, 40 verified',
    ].join('\n'),
  );
});

test('partial: the first errors with their paths, then counts of the rest', () => {
  const r = renderReport(partialOutcome(), { maxErrors: 3, timeZone: 'UTC' });
  assert.equal(r.failure, true);
  assert.equal(r.title, 'home-lab backup PARTIAL: daily, 14 errors');
  assert.match(r.markdown, /### Errors\n- 14 files could not be copied\n/);
  assert.match(r.markdown, /### Failed files \(14\)\n- `bare\/photos\/IMG_0\.jpg` \(source bare\): EIO: i\/o error, read\n- `bare\/photos\/IMG_1\.jpg`.*\n- `bare\/photos\/IMG_2\.jpg`.*\n- … and 11 more\n/);
  assert.match(r.markdown, /- \*\*source bare\*\*: PARTIAL, .*, 14 failures — deletions skipped: 14 copies failed$/m);
});

test('failures already named in the errors are not listed twice; odd names keep their backticks readable', () => {
  const r = renderReport(
    okOutcome({
      status: 'partial',
      steps: [step({ status: 'partial', failures: [{ path: 'a/b.txt', error: 'EACCES' }, { path: 'we`ird', error: 'ENOENT' }] })],
      errors: ['a/b.txt: EACCES: permission denied'],
    }),
  );
  assert.match(r.markdown, /### Failed files \(1\)\n- `` we`ird `` \(source bare\): ENOENT/);
});

test('no disk, refused deletions, corrupt files, dry run', () => {
  const noDisk = renderReport(okOutcome({ status: 'fatal', disk: null, steps: [], coverage: null, errors: ['no backup disk could be mounted: daily: not present; monthly: wrong key'] }));
  assert.equal(noDisk.title, 'home-lab backup FAILED: no disk, 1 error');
  assert.match(noDisk.markdown, /\*\*Disk:\*\* none could be mounted/);
  assert.doesNotMatch(noDisk.markdown, /### Steps/);

  const refused = renderReport(
    okOutcome({ status: 'refused', refusal: { files: 5000, bytes: 3 * 1024 ** 3, topDirs: [{ dir: 'bare/photos', files: 4900 }], reason: 'over the limit of 1,000 files (10 %)' } }),
  );
  assert.match(refused.title, /REFUSED: daily$/);
  assert.match(refused.markdown, /### Deletions refused\n5,000 files \(3\.0 GiB\) would have been deleted: over the limit of 1,000 files \(10 %\)\n- `bare\/photos`: 4,900 files/);

  const corrupt = renderReport(okOutcome({ corruptFound: 2 }));
  assert.equal(corrupt.failure, true, 'corruption is a failure even when the copy went fine');
  assert.match(corrupt.title, /OK: daily \(12m 34s\), 2 CORRUPT$/);
  assert.match(corrupt.markdown, /\*\*Corrupt backup files found:\*\* 2/);

  assert.match(renderReport(okOutcome({ dryRun: true })).title, /\(dry run\)$/);
});

test('unit failure message', () => {
  const r = renderUnitFailure({ unit: 'home-lab-backup.service', host: 'nas', result: 'timeout', exitStatus: null, lastError: null, journal: [] });
  assert.deepEqual(r, {
    title: 'home-lab backup on nas FAILED: home-lab-backup.service timeout',
    markdown: '**Unit:** `home-lab-backup.service`\n**Result:** timeout\n\nCheck with `journalctl --user -u home-lab-backup.service` and `home-lab status`.',
    failure: true,
  });
});
