// announce() end to end against a real HTTP server on 127.0.0.1: state, metrics, monitor ping and
// both push services; failures reported but never hiding the backup's own result; no token in any
// log line, error, state or metrics file. Plus the OnFailure= handler (notifyUnitFailure).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { memoryLogger } from '../src/log.js';
import { announce, announceStart, type AnnounceConfig } from '../src/backup/announce.js';
import { notifyUnitFailure } from '../src/backup/failure-notice.js';
import { loadState, STATE_FILE } from '../src/backup/state.js';
import { notifyConfigSchema, monitorConfigSchema } from '../src/config/notify-schema.js';
import type { CommandRunner } from '../src/host/command.js';
import { parsePrometheusText, valueOf } from './helpers/prom-parse.js';
import { okOutcome, partialOutcome } from './helpers/outcome.js';
import { startPushServer, type PushServer } from './helpers/push-server.js';
import { tempDir } from './helpers/tmp.js';

const GOTIFY_TOKEN = 'Gt0ken.announce-abc';
const NTFY_TOKEN = 'tk_announce_ntfy_xyz';
const TOPIC = 'home-backups-k2p9';
const HC_UUID = '5b9e3c1a-hc-uuid';

function setup(t: Parameters<typeof tempDir>[0], server: PushServer, overrides: { gotifyToken?: string; onSuccess?: boolean } = {}) {
  const dir = tempDir(t);
  const gotifyFile = path.join(dir, 'gotify.token');
  fs.writeFileSync(gotifyFile, (overrides.gotifyToken ?? GOTIFY_TOKEN) + '\n', { mode: 0o600 });
  const ntfyFile = path.join(dir, 'ntfy.token');
  fs.writeFileSync(ntfyFile, NTFY_TOKEN, { mode: 0o600 });
  const config: AnnounceConfig = {
    stateDir: path.join(dir, 'state'),
    notify: notifyConfigSchema.parse({
      gotify: { url: server.url, tokenFile: gotifyFile },
      ntfy: { url: `${server.url}/${TOPIC}`, tokenFile: ntfyFile },
      healthWaitSeconds: 10,
      backoffSeconds: 0.01,
      onSuccess: overrides.onSuccess ?? true,
    }),
    monitor: monitorConfigSchema.parse({
      push: { kind: 'healthchecks', url: `${server.url}/hc/${HC_UUID}` },
      metricsFile: path.join(dir, 'textfile', 'home-lab.prom'),
      rotationDays: { daily: 2 },
    }),
  };
  const logger = memoryLogger();
  const deps = { fetch: globalThis.fetch, now: Date.now, logger, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 20))), env: { INVOCATION_ID: 'inv-42' }, host: 'nas' };
  const secretsAbsent = (extra: string[] = []) => {
    const texts = [
      ...logger.lines.map((l) => l.message),
      ...extra,
      ...[path.join(config.stateDir!, STATE_FILE), config.monitor.metricsFile!].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8')),
    ];
    for (const text of texts) for (const secret of [GOTIFY_TOKEN, NTFY_TOKEN, overrides.gotifyToken ?? GOTIFY_TOKEN, TOPIC, HC_UUID]) {
      assert.ok(!text.includes(secret), `secret ${secret} leaked into: ${text.slice(0, 300)}`);
    }
  };
  return { dir, config, logger, deps, secretsAbsent };
}

test('announce: a successful run is recorded, exported, pinged and pushed to both services', async (t) => {
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN, ntfyToken: NTFY_TOKEN, unhealthyProbes: 2 });
  const { config, deps, secretsAbsent } = setup(t, server);
  const outcome = okOutcome();
  const result = await announce(outcome, config, deps);
  assert.deepEqual(result, { ok: true, errors: [] });

  const state = loadState(config.stateDir!);
  assert.ok(state.ok);
  assert.equal(state.state.disks.daily!.lastSuccessAtMs, outcome.finishedAtMs);
  assert.deepEqual(state.state.lastRun, { startedAtMs: outcome.startedAtMs, finishedAtMs: outcome.finishedAtMs, status: 'ok', disk: 'daily', error: null, invocationId: 'inv-42', notified: true });
  const metrics = parsePrometheusText(fs.readFileSync(config.monitor.metricsFile!, 'utf8'));
  assert.equal(valueOf(metrics, 'home_lab_backup_last_success_timestamp_seconds', { disk: 'daily' }), outcome.finishedAtMs / 1000);

  assert.deepEqual(server.to(`/hc/${HC_UUID}`).map((r) => r.method), ['POST']);
  const gotify = JSON.parse(server.to('/message')[0]!.body) as { title: string; priority: number; message: string };
  assert.equal(gotify.priority, 2);
  assert.equal(gotify.title, 'home-lab backup on nas OK: daily (12m 34s)');
  assert.match(gotify.message, /\*\*Copied:\*\* 130 files/);
  const ntfy = server.to(`/${TOPIC}`)[0]!;
  assert.equal(ntfy.headers['x-priority'], '2');
  assert.equal(ntfy.headers['x-title'], gotify.title);
  secretsAbsent();
});

test('announce: a failed notification is reported but the partial run is still recorded as partial', async (t) => {
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN, ntfyToken: NTFY_TOKEN });
  const wrong = 'wr0ng-gotify-token-99';
  const { config, deps, logger, secretsAbsent } = setup(t, server, { gotifyToken: wrong });
  const result = await announce(partialOutcome(), config, deps);
  assert.equal(result.ok, false);
  assert.equal(result.errors.length, 1);
  assert.match(result.errors[0]!, /^notification via Gotify http:\/\/127\.0\.0\.1:\d+ failed: HTTP 401/);
  assert.ok(logger.lines.some((l) => l.level === 'error' && l.message === result.errors[0]));

  const state = loadState(config.stateDir!);
  assert.ok(state.ok);
  assert.equal(state.state.lastRun!.status, 'partial', 'the backup result stands');
  assert.equal(state.state.lastRun!.notified, true, 'ntfy still delivered');
  assert.equal(state.state.disks.daily!.lastSuccessAtMs, null);
  assert.deepEqual(server.to(`/hc/${HC_UUID}/fail`).length, 1);
  const ntfy = server.to(`/${TOPIC}`)[0]!;
  assert.equal(ntfy.headers['x-priority'], '5');
  assert.match(String(ntfy.headers['x-title']), /PARTIAL: daily, 14 errors/);
  assert.match(ntfy.body, /bare\/photos\/IMG_0\.jpg/);
  assert.match(ntfy.body, /… and 4 more/);
  secretsAbsent(result.errors);
});

test('announce: notify.onSuccess false pushes nothing on success but still pings and records', async (t) => {
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN, ntfyToken: NTFY_TOKEN });
  const { config, deps } = setup(t, server, { onSuccess: false });
  assert.deepEqual(await announce(okOutcome(), config, deps), { ok: true, errors: [] });
  assert.equal(server.to('/message').length, 0);
  assert.equal(server.to(`/${TOPIC}`).length, 0);
  assert.equal(server.to(`/hc/${HC_UUID}`).length, 1);
  assert.ok(fs.existsSync(config.monitor.metricsFile!));
});

test('announce: a dry run announces nothing', async (t) => {
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN });
  const { config, deps } = setup(t, server);
  assert.deepEqual(await announce(okOutcome({ dryRun: true }), config, deps), { ok: true, errors: [] });
  assert.equal(server.requests.length, 0);
  assert.equal(fs.existsSync(config.stateDir!), false);
});

test('announce: nothing configured still writes state and default metrics, and warns on failure', async (t) => {
  const dir = tempDir(t);
  const logger = memoryLogger();
  const config = { stateDir: path.join(dir, 's'), notify: notifyConfigSchema.parse({}), monitor: monitorConfigSchema.parse({}) };
  const result = await announce(partialOutcome(), config, { fetch: globalThis.fetch, now: Date.now, logger, env: {} });
  assert.deepEqual(result, { ok: true, errors: [] });
  assert.ok(fs.existsSync(path.join(dir, 's', 'home-lab.prom')));
  assert.ok(logger.lines.some((l) => l.level === 'warn' && l.message.includes('no notification target configured')));
});

test('announce: a corrupt state file is moved aside, reported, and replaced', async (t) => {
  const dir = tempDir(t);
  const stateDir = path.join(dir, 's');
  fs.mkdirSync(stateDir);
  fs.writeFileSync(path.join(stateDir, STATE_FILE), '{ torn');
  const logger = memoryLogger();
  const config = { stateDir, notify: notifyConfigSchema.parse({}), monitor: monitorConfigSchema.parse({}) };
  const result = await announce(okOutcome(), config, { fetch: globalThis.fetch, now: () => 1234, logger, env: {} });
  assert.equal(result.ok, false);
  assert.match(result.errors[0]!, /not valid JSON.*moved to .*state\.json\.corrupt-1234/);
  assert.equal(fs.readFileSync(path.join(stateDir, 'state.json.corrupt-1234'), 'utf8'), '{ torn');
  const state = loadState(stateDir);
  assert.ok(state.ok && state.state.lastRun?.status === 'ok');
});

test('announceStart: marks the run and pings /start', async (t) => {
  const server = await startPushServer(t);
  const { config, deps } = setup(t, server);
  assert.deepEqual(await announceStart(config, deps, { startedAtMs: 1000 }), { ok: true, errors: [] });
  const state = loadState(config.stateDir!);
  assert.ok(state.ok);
  assert.deepEqual(state.state.running, { startedAtMs: 1000, pid: process.pid, invocationId: 'inv-42' });
  assert.deepEqual(server.requests.map((r) => r.url), [`/hc/${HC_UUID}/start`]);
  assert.deepEqual(await announceStart(config, deps, { startedAtMs: 1000, dryRun: true }), { ok: true, errors: [] });
  assert.equal(server.requests.length, 1);
});

test('notify --failure: a run that died is pushed at high priority with systemd\'s verdict and the last log lines', async (t) => {
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN, ntfyToken: NTFY_TOKEN });
  const { config, deps, secretsAbsent } = setup(t, server);
  await announceStart(config, deps, { startedAtMs: Date.UTC(2024, 4, 2, 3) });
  const calls: string[][] = [];
  // journalctl --user needs a running user manager, which this sandbox lacks: a stand-in runner.
  const run: CommandRunner = async (program, args) => {
    calls.push([program, ...args]);
    return { ok: true, code: 0, stdout: `copying bare/photos\nleaked ${GOTIFY_TOKEN}?\nKilled\n`, stderr: '' };
  };
  const result = await notifyUnitFailure(
    { unit: 'home-lab-backup.service', monitor: { serviceResult: 'signal', exitStatus: 'KILL', invocationId: 'inv-43' } },
    config,
    { ...deps, run },
  );
  assert.deepEqual(result, { ok: true, errors: [], skipped: false });
  assert.deepEqual(calls, [['journalctl', '--user', '--unit', 'home-lab-backup.service', '--lines', '15', '--no-pager', '--output', 'cat']]);
  const gotify = JSON.parse(server.to('/message')[0]!.body) as { title: string; priority: number; message: string };
  assert.equal(gotify.priority, 8);
  assert.equal(gotify.title, 'home-lab backup on nas FAILED: home-lab-backup.service signal');
  assert.match(gotify.message, /\*\*Result:\*\* signal \(exit status KILL\)/);
  assert.match(gotify.message, /never finished: the process died/);
  assert.match(gotify.message, /copying bare\/photos\nleaked \*\*\*\?\nKilled/);
  assert.equal(server.to(`/${TOPIC}`)[0]!.headers['x-priority'], '5');
  assert.equal(server.to(`/hc/${HC_UUID}/fail`).length, 1);
  secretsAbsent();
});

test('notify --failure: skipped when that very run already reported itself, sent with --always', async (t) => {
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN, ntfyToken: NTFY_TOKEN });
  const { config, deps } = setup(t, server);
  await announce(partialOutcome(), config, deps); // invocation inv-42, notified
  const before = server.requests.length;
  const run: CommandRunner = async () => ({ ok: false, code: 1, stdout: '', stderr: 'Failed to connect to bus' });
  const input = { unit: 'home-lab-backup.service', monitor: { serviceResult: 'exit-code', exitStatus: '3', invocationId: 'inv-42' } };
  const skipped = await notifyUnitFailure(input, config, { ...deps, run });
  assert.deepEqual(skipped, { ok: true, errors: [], skipped: true });
  assert.equal(server.requests.length, before);
  const forced = await notifyUnitFailure({ ...input, always: true }, config, { ...deps, run });
  assert.equal(forced.ok, true);
  const gotify = JSON.parse(server.to('/message').at(-1)!.body) as { message: string };
  assert.match(gotify.message, /\*\*Last recorded error:\*\* partial: 14 files could not be copied/);
  assert.doesNotMatch(gotify.message, /Last log lines/);
});
