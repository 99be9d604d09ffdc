// The Prometheus textfile and the run state: valid exposition format, atomic replacement (no
// reader ever sees a partial file), per-disk numbers kept across runs, and the alert rules.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import YAML from 'yaml';
import { renderMetrics, writeMetrics, escapeLabelValue } from '../src/backup/metrics.js';
import { emptyState, loadState, markNotified, recordOutcome, recordStart, resolveStateDir, saveState, STATE_FILE } from '../src/backup/state.js';
import { writeFileAtomicSync } from '../src/backup/atomic-file.js';
import { parsePrometheusText, valueOf } from './helpers/prom-parse.js';
import { okOutcome, partialOutcome, T0 } from './helpers/outcome.js';
import { tempDir } from './helpers/tmp.js';

const DAY = 86_400_000;

test('the strict parser rejects what node_exporter would reject (and our own slips)', () => {
  const good = '# HELP a_b x\n# TYPE a_b gauge\na_b{disk="d\\"1\\\\"} 1.5e3\na_b{disk="x"} +Inf\n';
  assert.equal(valueOf(parsePrometheusText(good), 'a_b', { disk: 'd"1\\' }), 1500);
  const bad = [
    '# TYPE a gauge\na 1', // no final newline
    '# TYPE a gauge\na one\n',
    '# TYPE a gauge\na{disk=x} 1\n',
    '# TYPE a gauge\na 1\na 2\n',
    '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="1"} 2\n',
    'a 1\n',
    '# TYPE a gauge\n\na 1\n',
    '# TYPE 1a gauge\n1a 1\n',
    '# TYPE a gauge\na{d="1"} 1\n# TYPE a gauge\n',
  ];
  for (const text of bad) assert.throws(() => parsePrometheusText(text), Error, JSON.stringify(text));
});

test('metrics: a fresh state with rotation configured, then runs on two disks', () => {
  const rotationDays = { daily: 2, monthly: 35 };
  const fresh = parsePrometheusText(renderMetrics(emptyState(), { rotationDays, nowMs: T0 }));
  assert.equal(valueOf(fresh, 'home_lab_backup_last_success_timestamp_seconds', { disk: 'monthly' }), 0);
  assert.equal(valueOf(fresh, 'home_lab_backup_disk_rotation_seconds', { disk: 'monthly' }), 35 * 86400);
  assert.equal(fresh.get('home_lab_backup_last_run_status'), undefined);

  let state = recordOutcome(emptyState(), okOutcome({ disk: { name: 'monthly', mountPoint: '/mnt/m', freeBytes: 123 } }), null);
  state = recordOutcome(state, partialOutcome({ startedAtMs: T0 + DAY, finishedAtMs: T0 + DAY + 5000 }), null);
  const text = renderMetrics(state, { rotationDays, nowMs: T0 + DAY + 6000 });
  const m = parsePrometheusText(text);
  for (const f of m.values()) {
    assert.ok(f.name.startsWith('home_lab_backup_'), f.name);
    assert.equal(f.type, 'gauge');
    assert.ok(f.help && f.help.length > 10);
  }
  // monthly keeps its success; daily's partial run has no success yet.
  assert.equal(valueOf(m, 'home_lab_backup_last_success_timestamp_seconds', { disk: 'monthly' }), (T0 + 754_000) / 1000);
  assert.equal(valueOf(m, 'home_lab_backup_last_success_timestamp_seconds', { disk: 'daily' }), 0);
  assert.equal(valueOf(m, 'home_lab_backup_last_attempt_timestamp_seconds', { disk: 'daily' }), (T0 + DAY) / 1000);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_ok', { disk: 'daily' }), 0);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_ok', { disk: 'monthly' }), 1);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_errors', { disk: 'daily' }), 14);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_files_copied', { disk: 'monthly' }), 130);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_bytes_copied', { disk: 'monthly' }), 1000 + 5 * 1024 * 1024);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_files_deleted', { disk: 'monthly' }), 3);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_bytes_deleted', { disk: 'monthly' }), 4096);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_files_verified', { disk: 'monthly' }), 45);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_duration_seconds', { disk: 'daily' }), 5);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_corrupt_found', { disk: 'daily' }), 0);
  assert.equal(valueOf(m, 'home_lab_backup_disk_free_bytes', { disk: 'monthly' }), 123);
  assert.equal(valueOf(m, 'home_lab_backup_verified_share_100d', { disk: 'daily' }), 0.42);
  assert.equal(valueOf(m, 'home_lab_backup_oldest_verification_timestamp_seconds', { disk: 'daily' }), (T0 - 90 * DAY) / 1000);
  assert.equal(valueOf(m, 'home_lab_backup_files_never_verified', { disk: 'daily' }), 7);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_status', { status: 'partial' }), 1);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_status', { status: 'ok' }), 0);
  assert.equal(valueOf(m, 'home_lab_backup_metrics_written_timestamp_seconds'), (T0 + DAY + 6000) / 1000);
});

test('metrics: a run without any disk only moves the global series; odd disk names are escaped', () => {
  const noDisk = recordOutcome(emptyState(), okOutcome({ status: 'fatal', disk: null, errors: ['no backup disk could be mounted'] }), null);
  const m = parsePrometheusText(renderMetrics(noDisk, { rotationDays: {}, nowMs: T0 }));
  assert.equal(m.get('home_lab_backup_last_attempt_timestamp_seconds'), undefined);
  assert.equal(valueOf(m, 'home_lab_backup_last_run_status', { status: 'fatal' }), 1);
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  const odd = recordOutcome(emptyState(), okOutcome({ disk: { name: 'we"ird\\disk', mountPoint: '/m', freeBytes: null } }), null);
  const parsed = parsePrometheusText(renderMetrics(odd, { rotationDays: {}, nowMs: T0 }));
  assert.equal(valueOf(parsed, 'home_lab_backup_last_run_ok', { disk: 'we"ird\\disk' }), 1);
  assert.equal(parsed.get('home_lab_backup_disk_free_bytes'), undefined);
});

test('metrics file: replaced atomically (new inode each time, no temp files left, a reader never sees a partial file)', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'textfile', 'home-lab.prom');
  // Versions of very different sizes, so a torn read would show.
  const versions = [1, 40, 3, 80].map((disks) => {
    let state = emptyState();
    for (let i = 0; i < disks; i++) state = recordOutcome(state, okOutcome({ disk: { name: `disk${i}`, mountPoint: `/m/${i}`, freeBytes: i } }), null);
    return renderMetrics(state, { rotationDays: {}, nowMs: T0 });
  });
  assert.deepEqual(writeMetrics(file, versions[0]!), { ok: true });
  assert.equal(fs.statSync(file).mode & 0o777, 0o644);

  // shared[0]: stop flag; shared[1]: reads done. The writer keeps going until the reader has read
  // many times (a plain fs.writeFileSync fails this test within a few hundred writes).
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const reader = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const fs = require('node:fs');
     const shared = new Int32Array(workerData.shared);
     const bad = [];
     let badCount = 0;
     while (Atomics.load(shared, 0) === 0) {
       let text;
       try { text = fs.readFileSync(workerData.file, 'utf8'); } catch (e) { text = 'read failed: ' + e.code; }
       Atomics.add(shared, 1, 1);
       if (!workerData.versions.includes(text)) { badCount++; if (bad.length < 5) bad.push(text.length + ' chars: ' + text.slice(0, 40)); }
     }
     parentPort.postMessage({ bad, badCount });`,
    { eval: true, workerData: { file, versions, shared: shared.buffer } },
  );
  const result = new Promise<{ bad: string[]; badCount: number }>((resolve, reject) => {
    reader.once('message', resolve);
    reader.once('error', reject);
  });
  while (Atomics.load(shared, 1) === 0) await new Promise((r) => setTimeout(r, 5));
  const inodes = new Set<number>();
  let writes = 0;
  while ((Atomics.load(shared, 1) < 500 || writes < 50) && writes < 3000) {
    assert.deepEqual(writeMetrics(file, versions[writes++ % versions.length]!), { ok: true });
    inodes.add(fs.statSync(file).ino);
  }
  Atomics.store(shared, 0, 1);
  const { bad, badCount } = await result;
  assert.equal(badCount, 0, bad.join('; '));
  assert.ok(Atomics.load(shared, 1) >= 500, `the reader read during the writes (${Atomics.load(shared, 1)} reads, ${writes} writes)`);
  assert.ok(inodes.size > 1, 'each write is a new file renamed over the old one');
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['home-lab.prom'], 'no temp file left behind');
});

test('metrics file: an unwritable target is an error value naming the file and the config key', (t) => {
  const dir = tempDir(t);
  const blocker = path.join(dir, 'not-a-dir');
  fs.writeFileSync(blocker, '');
  const result = writeMetrics(path.join(blocker, 'home-lab.prom'), 'x\n');
  assert.ok(!result.ok && result.error.includes(path.join(blocker, 'home-lab.prom')) && result.error.includes('monitor.metricsFile'));
});

test('atomic write: a failed write leaves the old file and no temp file', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'state.json');
  writeFileAtomicSync(file, 'old');
  // A directory squatting on the target name makes the rename fail after the temp file was written.
  const target = path.join(dir, 'sub');
  fs.mkdirSync(path.join(target, 'x'), { recursive: true });
  assert.throws(() => writeFileAtomicSync(target, 'new'));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['state.json', 'sub']);
  assert.equal(fs.readFileSync(file, 'utf8'), 'old');
});

test('state: location, round trip, success kept across failures, corrupt file reported', (t) => {
  assert.equal(resolveStateDir(undefined, { XDG_STATE_HOME: '/xdg/state' }, '/home/u'), '/xdg/state/home-lab');
  assert.equal(resolveStateDir(undefined, { XDG_STATE_HOME: 'relative' }, '/home/u'), '/home/u/.local/state/home-lab');
  assert.equal(resolveStateDir(undefined, {}, '/home/u'), '/home/u/.local/state/home-lab');
  assert.equal(resolveStateDir('~/st', {}, '/home/u'), '/home/u/st');

  const dir = path.join(tempDir(t), 'state');
  const missing = loadState(dir);
  assert.ok(missing.ok && !missing.exists && missing.state.lastRun === null);

  let state = recordStart(emptyState(), { startedAtMs: T0, pid: 4242, invocationId: 'inv-1' });
  assert.deepEqual(state.running, { startedAtMs: T0, pid: 4242, invocationId: 'inv-1' });
  state = recordOutcome(state, okOutcome(), 'inv-1');
  assert.equal(state.running, null);
  assert.equal(state.disks.daily!.lastSuccessAtMs, T0 + 754_000);
  state = recordOutcome(state, partialOutcome({ startedAtMs: T0 + DAY, finishedAtMs: T0 + DAY + 1000 }), 'inv-2');
  assert.equal(state.disks.daily!.lastSuccessAtMs, T0 + 754_000, 'a failure keeps the last success');
  assert.equal(state.disks.daily!.lastStatus, 'partial');
  assert.equal(state.disks.daily!.lastError, '14 files could not be copied');
  assert.equal(state.lastRun!.notified, false);
  state = markNotified(state);
  assert.equal(state.lastRun!.notified, true);

  assert.deepEqual(saveState(dir, state), { ok: true });
  assert.equal(fs.statSync(path.join(dir, STATE_FILE)).mode & 0o777, 0o600);
  const back = loadState(dir);
  assert.ok(back.ok && back.exists);
  assert.deepEqual(back.ok && back.state, state);

  fs.writeFileSync(path.join(dir, STATE_FILE), '{"version": 1, "disks": ');
  const torn = loadState(dir);
  assert.ok(!torn.ok && torn.error.includes('not valid JSON') && torn.error.includes(path.join(dir, STATE_FILE)));
  fs.writeFileSync(path.join(dir, STATE_FILE), '{"version": 2}');
  const wrong = loadState(dir);
  assert.ok(!wrong.ok && wrong.error.includes('version'));
});

test('alert rules: valid YAML, every rule names metrics this file writes', () => {
  const rules = YAML.parse(fs.readFileSync(new URL('../monitoring/home-lab.rules.yml', import.meta.url), 'utf8')) as {
    groups: { name: string; rules: { alert: string; expr: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[];
  };
  let state = recordOutcome(emptyState(), okOutcome(), null);
  state = recordOutcome(state, okOutcome({ corruptFound: 1 }), null);
  const written = new Set(parsePrometheusText(renderMetrics(state, { rotationDays: { daily: 2 }, nowMs: T0 })).keys());
  const alerts = rules.groups.flatMap((g) => g.rules);
  assert.deepEqual(alerts.map((r) => r.alert).sort(), [
    'HomeLabBackupCorruptFiles',
    'HomeLabBackupDiskOverdue',
    'HomeLabBackupLastRunFailed',
    'HomeLabBackupMetricsMissing',
    'HomeLabBackupNoSuccess',
  ]);
  for (const rule of alerts) {
    const names = rule.expr.match(/home_lab_backup_[a-z0-9_]+/g) ?? [];
    assert.ok(names.length > 0, rule.alert);
    for (const name of names) assert.ok(written.has(name), `${rule.alert} uses ${name}, which is never written`);
    assert.ok(rule.annotations.summary && rule.labels.severity);
  }
  assert.match(alerts.find((r) => r.alert === 'HomeLabBackupNoSuccess')!.expr, /> 26 \* 3600/);
});
