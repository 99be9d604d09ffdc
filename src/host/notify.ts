// Push notifications: Gotify (POST /message, X-Gotify-Key) and ntfy (POST to the topic URL). Each
// sender waits for the server's health endpoint first (it is often a container the backup just
// restarted), then sends with retries. Tokens come from files and never appear in a log line or an
// error: every message built here is scrubbed of them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GotifyConfig, NotifyConfig, NtfyConfig } from '../config/notify-schema.js';
import { redactUrl, requestWithRetries, scrubSecrets, urlSecrets, waitForHealth, type HttpDeps } from './http.js';

export interface PushMessage {
  title: string;
  /** Markdown body. */
  markdown: string;
  /** Failures go out with the configured high priority. */
  failure: boolean;
}

export type SendResult = { target: string; ok: true; attempts: number } | { target: string; ok: false; error: string };

export type Policy = Pick<NotifyConfig, 'healthWaitSeconds' | 'retries' | 'backoffSeconds' | 'timeoutSeconds'>;

/** `~/x` -> $HOME/x; config paths are written by hand. */
export function expandHome(file: string, home = os.homedir()): string {
  return file === '~' ? home : file.startsWith('~/') ? path.join(home, file.slice(2)) : file;
}

export type SecretRead = { ok: true; secret: string; warning: string | null } | { ok: false; error: string };

/**
 * Reads a token file (first line, trimmed). Warns when group or others may read it: the token
 * lets anyone post to (Gotify) or read (ntfy) the owner's notifications.
 */
export function readSecretFile(file: string, what: string, configKey: string): SecretRead {
  const resolved = expandHome(file);
  let text: string;
  let mode: number;
  try {
    mode = fs.statSync(resolved).mode;
    text = fs.readFileSync(resolved, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { ok: false, error: `cannot read the ${what} file ${resolved} (${code}): put the token in it (chmod 600), or fix ${configKey}` };
  }
  const secret = (text.split('\n')[0] ?? '').trim();
  if (secret === '') return { ok: false, error: `the ${what} file ${resolved} is empty: put the token on its first line (${configKey})` };
  const warning =
    (mode & 0o077) !== 0
      ? `the ${what} file ${resolved} is accessible to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): run chmod 600 ${resolved}`
      : null;
  return { ok: true, secret, warning };
}

function under(base: string, relative: string): string {
  return new URL(relative, base.endsWith('/') ? base : base + '/').href;
}

export async function sendGotify(config: GotifyConfig, message: PushMessage, policy: Policy, deps: HttpDeps): Promise<SendResult> {
  const target = `Gotify ${redactUrl(config.url)}`;
  const token = readSecretFile(config.tokenFile, 'Gotify token', 'notify.gotify.tokenFile');
  if (!token.ok) return { target, ok: false, error: token.error };
  if (token.warning) deps.logger.warn(token.warning);
  const secrets = [token.secret, ...urlSecrets(config.url).filter((s) => s.includes('?'))];

  await healthFirst(target, under(config.url, 'health'), (body) => !/"health"\s*:\s*"red"/.test(body), policy, deps);
  const result = await requestWithRetries(
    target,
    {
      url: under(config.url, 'message'),
      method: 'POST',
      headers: { 'X-Gotify-Key': token.secret, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        title: message.title,
        message: message.markdown,
        priority: message.failure ? config.priorities.failure : config.priorities.success,
        extras: { 'client::display': { contentType: 'text/markdown' } },
      }),
    },
    policy,
    deps,
    secrets,
  );
  if (result.ok) return { target, ok: true, attempts: result.attempts };
  const hint =
    result.status === 401 || result.status === 403
      ? `: the token in ${expandHome(config.tokenFile)} is not a valid application token (Gotify > Apps > create one)`
      : '';
  return { target, ok: false, error: scrubSecrets(`${result.error} after ${result.attempts} attempt(s)${hint}`, secrets) };
}

export async function sendNtfy(config: NtfyConfig, message: PushMessage, policy: Policy, deps: HttpDeps): Promise<SendResult> {
  const target = `ntfy ${redactUrl(config.url)}`;
  let token: string | null = null;
  if (config.tokenFile !== undefined) {
    const read = readSecretFile(config.tokenFile, 'ntfy token', 'notify.ntfy.tokenFile');
    if (!read.ok) return { target, ok: false, error: read.error };
    if (read.warning) deps.logger.warn(read.warning);
    token = read.secret;
  }
  // The topic name is the only thing protecting an unauthenticated topic: treat it as a secret.
  const secrets = [...(token ? [token] : []), ...urlSecrets(config.url)];

  await healthFirst(target, new URL('/v1/health', config.url).href, (body) => !/"healthy"\s*:\s*false/.test(body), policy, deps);
  const headers: Record<string, string> = {
    // HTTP headers are Latin-1: ntfy decodes RFC 2047 encoded words, so any title survives.
    'X-Title': encodeHeader(message.title),
    'X-Priority': String(message.failure ? config.priorities.failure : config.priorities.success),
    'X-Markdown': 'yes',
    'X-Tags': message.failure ? 'rotating_light' : 'white_check_mark',
    'Content-Type': 'text/markdown; charset=utf-8',
  };
  if (token) headers.Authorization = `Bearer ${token}`;
  const body = truncateUtf8(message.markdown, NTFY_MAX_BODY_BYTES);
  const result = await requestWithRetries(target, { url: config.url, method: 'POST', headers, body }, policy, deps, secrets);
  if (result.ok) return { target, ok: true, attempts: result.attempts };
  const hint =
    result.status === 401 || result.status === 403
      ? config.tokenFile
        ? `: the server refused the token in ${expandHome(config.tokenFile)} for this topic`
        : ': the topic needs an access token (set notify.ntfy.tokenFile)'
      : '';
  return { target, ok: false, error: scrubSecrets(`${result.error} after ${result.attempts} attempt(s)${hint}`, secrets) };
}

// ntfy turns a body over 4096 bytes into an attachment: keep the message readable in the app.
const NTFY_MAX_BODY_BYTES = 4000;

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const marker = '\n\n… (truncated)';
  let cut = Buffer.from(text).subarray(0, maxBytes - Buffer.byteLength(marker)).toString('utf8');
  cut = cut.replace(/\uFFFD$/, ''); // a character split by the cut
  return cut + marker;
}

function encodeHeader(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

async function healthFirst(target: string, healthUrl: string, healthy: (body: string) => boolean, policy: Policy, deps: HttpDeps): Promise<void> {
  if (policy.healthWaitSeconds <= 0) return;
  const health = await waitForHealth(target, healthUrl, healthy, policy, deps);
  if (health.healthy) {
    if (health.waitedMs > 0) deps.logger.debug(`${target}: healthy after ${Math.round(health.waitedMs / 1000)} s`);
  } else {
    deps.logger.warn(`${target}: not healthy after ${policy.healthWaitSeconds} s (${health.lastError}); sending anyway`);
  }
}

/** Sends to every enabled target at once; one result per target (none configured: empty). */
export async function sendAll(config: NotifyConfig, message: PushMessage, deps: HttpDeps): Promise<SendResult[]> {
  const sends: Promise<SendResult>[] = [];
  if (config.gotify?.enabled) sends.push(sendGotify(config.gotify, message, config, deps));
  if (config.ntfy?.enabled) sends.push(sendNtfy(config.ntfy, message, config, deps));
  return Promise.all(sends);
}
