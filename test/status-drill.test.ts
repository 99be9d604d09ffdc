// `home-lab status` shows the age of the last restore drill of a mounted disk, and warns when it failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStatus, renderStatus } from '../src/backup/status.js';
import type { RunState } from '../src/backup/state.js';

const DAY = 86_400_000;
const now = 1_800_000_000_000;

function state(): RunState {
  const run = { startedAtMs: now - DAY, finishedAtMs: now - DAY + 60_000, status: 'ok' as const, disk: 'daily', error: null };
  return JSON.parse(JSON.stringify({
    version: 1, lastRun: run, running: null,
    disks: { daily: { mountPoint: '/mnt/daily', lastAttemptAtMs: run.startedAtMs, lastStatus: 'ok', lastSuccessAtMs: run.finishedAtMs, lastError: null, coverage: null, freeBytes: null, lastRun: { corruptFound: 0 } } },
  })) as RunState;
}

const base = { stateFile: '/state.json', nowMs: now, configuredDisks: ['daily'], rotationDays: {}, pidAlive: () => false };

test('status: drill never rehearsed, passed 3 days ago, and failed', () => {
  const coverage = null;
  const never = buildStatus({ ...base, state: state(), live: { daily: { freeBytes: 1, coverage, drill: null } } });
  assert.match(renderStatus(never, { timeZone: 'UTC' }).join('\n'), /restore drill never rehearsed/);

  const passed = buildStatus({ ...base, state: state(), live: { daily: { freeBytes: 1, coverage, drill: { lastRunAtMs: now - 3 * DAY, lastResult: 'passed', lastPassedAtMs: now - 3 * DAY } } } });
  assert.match(renderStatus(passed, { timeZone: 'UTC' }).join('\n'), /restore drill last passed .*3 days? ago/);
  assert.ok(passed.ok, passed.warnings.join('; '));

  const failed = buildStatus({ ...base, state: state(), live: { daily: { freeBytes: 1, coverage, drill: { lastRunAtMs: now - DAY, lastResult: 'failed', lastPassedAtMs: now - 40 * DAY } } } });
  assert.ok(failed.warnings.some((w) => /restore drill .*FAILED/.test(w)), failed.warnings.join('; '));
});
