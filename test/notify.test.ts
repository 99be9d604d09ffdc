// Gotify, ntfy and push-monitor adapters against a real HTTP server on 127.0.0.1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { memoryLogger } from '../src/log.js';
import { notifyConfigSchema, monitorConfigSchema } from '../src/config/notify-schema.js';
import { readSecretFile, sendAll, sendGotify, sendNtfy, type Policy } from '../src/host/notify.js';
import { monitorRequest, pingMonitor } from '../src/host/monitor.js';
import { redactUrl, scrubSecrets } from '../src/host/http.js';
import { deadUrl, startPushServer } from './helpers/push-server.js';
import { tempDir, isRoot } from './helpers/tmp.js';

const GOTIFY_TOKEN = 'AbCdEf.gotify-app-token-123';
const NTFY_TOKEN = 'tk_ntfysecrettoken456';
const policy: Policy = { healthWaitSeconds: 10, retries: 3, backoffSeconds: 0.01, timeoutSeconds: 5 };
const message = { title: 'home-lab backup FAILED: daily', markdown: '**Status:** FAILED\n- `bare/x`: EIO', failure: true };

function deps() {
  const logger = memoryLogger();
  return { logger, fetch: globalThis.fetch, now: Date.now, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 20))) };
}

function secretFile(dir: string, name: string, content: string, mode = 0o600): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content + '\n', { mode });
  fs.chmodSync(file, mode);
  return file;
}

function assertNoSecret(texts: string[], ...secrets: string[]): void {
  for (const text of texts) for (const secret of secrets) assert.ok(!text.includes(secret), `secret leaked into: ${text}`);
}

test('config: defaults when nothing is configured, key paths in errors', () => {
  const notify = notifyConfigSchema.parse(undefined);
  assert.deepEqual(notify, { onSuccess: true, healthWaitSeconds: 120, retries: 3, backoffSeconds: 2, timeoutSeconds: 15 });
  const monitor = monitorConfigSchema.parse({});
  assert.deepEqual(monitor, { rotationDays: {} });
  const g = notifyConfigSchema.parse({ gotify: { url: 'https://gotify.lan', tokenFile: '/etc/t' } });
  assert.deepEqual(g.gotify, { url: 'https://gotify.lan', tokenFile: '/etc/t', priorities: { success: 2, failure: 8 }, enabled: true });
  const bad = notifyConfigSchema.safeParse({ gotify: { url: 'ftp://x', tokenFile: '/t', priorities: { failure: 11 } } });
  assert.equal(bad.success, false);
  const paths = bad.error!.issues.map((i) => i.path.join('.'));
  assert.deepEqual(paths.sort(), ['gotify.priorities.failure', 'gotify.url']);
  const badMonitor = monitorConfigSchema.safeParse({ push: { kind: 'pingdom', url: 'https://x' }, metricsFile: '/x/metrics.txt' });
  assert.deepEqual(badMonitor.error!.issues.map((i) => i.path.join('.')).sort(), ['metricsFile', 'push.kind']);
});

test('Gotify: waits for /health, then posts a markdown message with the token header', async (t) => {
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN, unhealthyProbes: 3 });
  const dir = tempDir(t);
  const d = deps();
  const config = notifyConfigSchema.parse({ gotify: { url: server.url, tokenFile: secretFile(dir, 'gotify.token', GOTIFY_TOKEN) } }).gotify!;
  const result = await sendGotify(config, message, policy, d);
  assert.deepEqual(result, { target: `Gotify ${server.url}`, ok: true, attempts: 1 });
  assert.equal(server.to('/health').length, 4, 'three failing probes, then a healthy one');
  const [post] = server.to('/message');
  assert.ok(post);
  assert.equal(post.headers['x-gotify-key'], GOTIFY_TOKEN);
  assert.ok(!post.url.includes(GOTIFY_TOKEN), 'token only in the header, never in the URL');
  assert.deepEqual(JSON.parse(post.body), {
    title: message.title,
    message: message.markdown,
    priority: 8,
    extras: { 'client::display': { contentType: 'text/markdown' } },
  });
  assert.ok(d.logger.lines.some((l) => l.message.includes('waiting up to 10 s')));
  assertNoSecret(d.logger.lines.map((l) => l.message), GOTIFY_TOKEN);
});

test('Gotify: success priority, under a path prefix', async (t) => {
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN });
  const dir = tempDir(t);
  // A Gotify behind a reverse proxy at /: the base URL with a trailing slash works the same.
  const config = notifyConfigSchema.parse({ gotify: { url: server.url + '/', tokenFile: secretFile(dir, 't', GOTIFY_TOKEN), priorities: { success: 1 } } }).gotify!;
  const result = await sendGotify(config, { ...message, failure: false }, policy, deps());
  assert.equal(result.ok, true);
  assert.equal(JSON.parse(server.to('/message')[0]!.body).priority, 1);
});

test('Gotify: a wrong token is refused with 401 and not retried; the error names the file, never the token', async (t) => {
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN });
  const dir = tempDir(t);
  const wrong = 'wrong-token-789xyz';
  const file = secretFile(dir, 'gotify.token', wrong);
  const d = deps();
  const result = await sendGotify(notifyConfigSchema.parse({ gotify: { url: server.url, tokenFile: file } }).gotify!, message, policy, d);
  assert.equal(result.ok, false);
  assert.ok(!result.ok && result.error.includes('HTTP 401'), JSON.stringify(result));
  assert.ok(!result.ok && result.error.includes(file));
  assert.equal(server.to('/message').length, 1, '4xx is final: no retry');
  assertNoSecret([...d.logger.lines.map((l) => l.message), !result.ok ? result.error : ''], wrong);
});

test('Gotify: 500s are retried with backoff until the server takes the message', async (t) => {
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN, failingMessages: 2 });
  const dir = tempDir(t);
  const d = deps();
  const result = await sendGotify(notifyConfigSchema.parse({ gotify: { url: server.url, tokenFile: secretFile(dir, 't', GOTIFY_TOKEN) } }).gotify!, message, policy, d);
  assert.deepEqual(result, { target: `Gotify ${server.url}`, ok: true, attempts: 3 });
  assert.equal(server.to('/message').length, 3);
  assert.equal(d.logger.lines.filter((l) => l.level === 'warn' && l.message.includes('retrying')).length, 2);
  assertNoSecret(d.logger.lines.map((l) => l.message), GOTIFY_TOKEN);
});

test('Gotify: a server that never answers: health wait runs out, every retry fails, the error says so', async (t) => {
  const url = await deadUrl();
  const dir = tempDir(t);
  const d = deps();
  const config = notifyConfigSchema.parse({ gotify: { url, tokenFile: secretFile(dir, 't', GOTIFY_TOKEN) } }).gotify!;
  const result = await sendGotify(config, message, { ...policy, healthWaitSeconds: 0.1, retries: 2 }, d);
  assert.equal(result.ok, false);
  assert.ok(!result.ok && /ECONNREFUSED/.test(result.error) && /after 3 attempt/.test(result.error), JSON.stringify(result));
  assert.ok(d.logger.lines.some((l) => l.level === 'warn' && l.message.includes('not healthy after 0.1 s')));
  assertNoSecret(d.logger.lines.map((l) => l.message), GOTIFY_TOKEN);
});

test('ntfy: waits for /v1/health, posts title, priority, markdown body and bearer token', async (t) => {
  const server = await startPushServer(t, { ntfyToken: NTFY_TOKEN, unhealthyProbes: 2 });
  const dir = tempDir(t);
  const d = deps();
  const topicUrl = `${server.url}/backups-x83hd`;
  const config = notifyConfigSchema.parse({ ntfy: { url: topicUrl, tokenFile: secretFile(dir, 'ntfy.token', NTFY_TOKEN) } }).ntfy!;
  const result = await sendNtfy(config, { ...message, title: 'Sicherung fehlgeschlagen: Müll' }, policy, d);
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.equal(server.to('/v1/health').length, 3);
  const [post] = server.to('/backups-x83hd');
  assert.ok(post);
  assert.equal(post.headers['x-priority'], '5');
  assert.equal(post.headers['x-markdown'], 'yes');
  assert.equal(post.headers.authorization, `Bearer ${NTFY_TOKEN}`);
  // Non-ASCII titles travel as an RFC 2047 encoded word, which ntfy decodes.
  const encoded = /^=\?UTF-8\?B\?(.+)\?=$/.exec(String(post.headers['x-title']));
  assert.ok(encoded);
  assert.equal(Buffer.from(encoded[1]!, 'base64').toString('utf8'), 'Sicherung fehlgeschlagen: Müll');
  assert.equal(post.body, message.markdown);
  // The topic is a secret too: logs show only the server.
  assertNoSecret(d.logger.lines.map((l) => l.message), NTFY_TOKEN, 'backups-x83hd');
});

test('ntfy: success priority and ASCII title as is; a protected topic without token gets a hint', async (t) => {
  const open = await startPushServer(t);
  const ok = await sendNtfy(notifyConfigSchema.parse({ ntfy: { url: `${open.url}/t1` } }).ntfy!, { ...message, failure: false }, policy, deps());
  assert.equal(ok.ok, true);
  const [post] = open.to('/t1');
  assert.equal(post!.headers['x-priority'], '2');
  assert.equal(post!.headers['x-title'], message.title);
  assert.equal(post!.headers.authorization, undefined);

  const locked = await startPushServer(t, { ntfyToken: NTFY_TOKEN });
  const refused = await sendNtfy(notifyConfigSchema.parse({ ntfy: { url: `${locked.url}/secret-topic` } }).ntfy!, message, policy, deps());
  assert.equal(refused.ok, false);
  assert.ok(!refused.ok && refused.error.includes('set notify.ntfy.tokenFile'), JSON.stringify(refused));
  assert.ok(!refused.ok && !refused.error.includes('secret-topic'));
});

test('ntfy: a long body is cut below 4 KiB so it stays a message, not an attachment', async (t) => {
  const server = await startPushServer(t);
  const long = Array.from({ length: 400 }, (_, i) => `- \`bare/ünïcode/${i}.jpg\`: EIO`).join('\n');
  await sendNtfy(notifyConfigSchema.parse({ ntfy: { url: `${server.url}/t` } }).ntfy!, { ...message, markdown: long }, policy, deps());
  const body = server.to('/t')[0]!.body;
  assert.ok(Buffer.byteLength(body) <= 4000);
  assert.ok(body.endsWith('(truncated)'));
  assert.ok(!body.includes('\uFFFD'));
});

test('sendAll: both targets at once, disabled ones skipped', async (t) => {
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN });
  const dir = tempDir(t);
  const config = notifyConfigSchema.parse({
    gotify: { url: server.url, tokenFile: secretFile(dir, 't', GOTIFY_TOKEN) },
    ntfy: { url: `${server.url}/topic`, enabled: false },
    healthWaitSeconds: 1,
    backoffSeconds: 0.01,
  });
  const results = await sendAll(config, message, deps());
  assert.deepEqual(results.map((r) => [r.target.split(' ')[0], r.ok]), [['Gotify', true]]);
  const both = await sendAll({ ...config, ntfy: { ...config.ntfy!, enabled: true } }, message, deps());
  assert.deepEqual(both.map((r) => r.ok), [true, true]);
});

test('token files: missing, empty, and readable by others (warning)', async (t) => {
  const dir = tempDir(t);
  const missing = readSecretFile(path.join(dir, 'nope'), 'Gotify token', 'notify.gotify.tokenFile');
  assert.ok(!missing.ok && missing.error.includes('ENOENT') && missing.error.includes('notify.gotify.tokenFile'));
  const empty = readSecretFile(secretFile(dir, 'empty', ''), 'Gotify token', 'k');
  assert.ok(!empty.ok && empty.error.includes('is empty'));
  const loose = readSecretFile(secretFile(dir, 'loose', 'tok-loose-123', 0o644), 'Gotify token', 'k');
  assert.ok(loose.ok && loose.secret === 'tok-loose-123');
  assert.ok(loose.ok && loose.warning?.includes('mode 0644') && loose.warning.includes('chmod 600'));
  assert.ok(loose.ok && !loose.warning?.includes('tok-loose-123'));
  const tight = readSecretFile(secretFile(dir, 'tight', 'tok', 0o600), 'Gotify token', 'k');
  assert.ok(tight.ok && tight.warning === null);

  // The warning reaches the log when sending.
  const server = await startPushServer(t, { gotifyToken: GOTIFY_TOKEN });
  const d = deps();
  await sendGotify(notifyConfigSchema.parse({ gotify: { url: server.url, tokenFile: secretFile(dir, 'g', GOTIFY_TOKEN, 0o640) } }).gotify!, message, policy, d);
  assert.ok(d.logger.lines.some((l) => l.level === 'warn' && l.message.includes('accessible to group or others')));
});

test('token file unreadable for a non-root user', { skip: isRoot ? 'root reads any file; the ENOENT case covers the message' : false }, (t) => {
  const dir = tempDir(t);
  const file = secretFile(dir, 'locked', 'x', 0o000);
  const read = readSecretFile(file, 'Gotify token', 'k');
  assert.ok(!read.ok && read.error.includes('EACCES'));
});

test('push monitor requests: Uptime Kuma and healthchecks', () => {
  const kuma = { kind: 'uptime-kuma' as const, url: 'https://kuma.lan/api/push/Tok3n?status=up&msg=OK&ping=' };
  assert.equal(monitorRequest(kuma, 'start', { message: 'x' }), null);
  const up = new URL(monitorRequest(kuma, 'success', { message: 'backup OK: daily', durationMs: 754_321.4 })!.url);
  assert.equal(up.pathname, '/api/push/Tok3n');
  assert.deepEqual(Object.fromEntries(up.searchParams), { status: 'up', msg: 'backup OK: daily', ping: '754321' });
  const down = new URL(monitorRequest(kuma, 'failure', { message: 'FAILED' })!.url);
  assert.equal(down.searchParams.get('status'), 'down');

  const hc = { kind: 'healthchecks' as const, url: 'https://hc-ping.com/0d1c-uuid/' };
  assert.equal(monitorRequest(hc, 'start', { message: 'x' })!.url, 'https://hc-ping.com/0d1c-uuid/start');
  assert.equal(monitorRequest(hc, 'success', { message: 'x' })!.url, 'https://hc-ping.com/0d1c-uuid');
  const fail = monitorRequest(hc, 'failure', { message: 'body' })!;
  assert.deepEqual([fail.method, fail.url, fail.body], ['POST', 'https://hc-ping.com/0d1c-uuid/fail', 'body']);
});

test('push monitor against the server: pings arrive; a bad push token is an error without the token', async (t) => {
  const server = await startPushServer(t, { kumaToken: 'kumaPushTok' });
  const d = deps();
  const hc = { kind: 'healthchecks' as const, url: `${server.url}/hc/uuid-1234` };
  assert.deepEqual(await pingMonitor(hc, 'start', { message: 'started' }, policy, d), { ok: true, skipped: false });
  assert.deepEqual(await pingMonitor(hc, 'failure', { message: 'FAILED: 2 errors' }, policy, d), { ok: true, skipped: false });
  assert.deepEqual(server.requests.map((r) => [r.method, r.url, r.body]), [
    ['POST', '/hc/uuid-1234/start', 'started'],
    ['POST', '/hc/uuid-1234/fail', 'FAILED: 2 errors'],
  ]);
  const kuma = { kind: 'uptime-kuma' as const, url: `${server.url}/api/push/kumaPushTok` };
  assert.deepEqual(await pingMonitor(kuma, 'start', { message: 'x' }, policy, d), { ok: true, skipped: true });
  assert.deepEqual(await pingMonitor(kuma, 'success', { message: 'OK', durationMs: 5 }, policy, d), { ok: true, skipped: false });
  const wrong = await pingMonitor({ ...kuma, url: `${server.url}/api/push/wrongPushTok` }, 'success', { message: 'OK' }, policy, d);
  assert.ok(!wrong.ok && wrong.error.includes('HTTP 404'), JSON.stringify(wrong));
  assertNoSecret([!wrong.ok ? wrong.error : '', ...d.logger.lines.map((l) => l.message)], 'wrongPushTok', 'kumaPushTok', 'uuid-1234');
});

test('redaction helpers', () => {
  assert.equal(redactUrl('https://ntfy.sh/my-secret-topic'), 'https://ntfy.sh/…');
  assert.equal(redactUrl('http://127.0.0.1:8080'), 'http://127.0.0.1:8080');
  assert.equal(redactUrl('https://kuma.lan/api/push/x?status=up'), 'https://kuma.lan/…');
  assert.equal(redactUrl('not a url'), '(invalid URL)');
  assert.equal(scrubSecrets('token abcd1234 and abcd1234', ['abcd1234']), 'token *** and ***');
});
