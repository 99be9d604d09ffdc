// HTTP plumbing shared by the notification and monitor adapters: one request with a time limit,
// retries with exponential backoff, a wait for a health endpoint, and the rules that keep secrets
// (tokens, push URLs) out of every message this module produces.
import type { Logger } from '../log.js';

/** The outside world: global fetch in production, a real server on 127.0.0.1 in tests. */
export type Fetch = typeof fetch;

export interface HttpDeps {
  fetch: Fetch;
  now: () => number;
  logger: Logger;
  /** Pauses between attempts; tests may shorten them. Default: setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

export interface RetryPolicy {
  /** Extra attempts after the first. */
  retries: number;
  /** First pause; doubles each time, capped at MAX_BACKOFF_MS. */
  backoffSeconds: number;
  /** Time limit of each request. */
  timeoutSeconds: number;
}

const MAX_BACKOFF_MS = 30_000;

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function backoffMs(policy: Pick<RetryPolicy, 'backoffSeconds'>, attempt: number): number {
  return Math.min(policy.backoffSeconds * 1000 * 2 ** attempt, MAX_BACKOFF_MS);
}

/**
 * What may be printed of a URL: scheme, host and port. Paths and queries of ntfy topics and
 * push-monitor URLs are secrets (whoever knows them can read or fake the pings).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = (u.pathname !== '/' && u.pathname !== '') || u.search !== '' ? '/…' : '';
    return `${u.protocol}//${u.host}${hidden}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Replaces every secret (token, full URL, URL path) in a text with "***". */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}

/** A URL's secret parts, for scrubSecrets: the whole URL and its path+query. */
export function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const tail = u.pathname + u.search;
    return tail.length > 1 ? [url, u.href, tail] : [url, u.href];
  } catch {
    return [url];
  }
}

export type HttpResult =
  | { ok: true; status: number; body: string; attempts: number }
  | { ok: false; error: string; status: number | null; attempts: number };

export interface HttpRequest {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/** One request, never throwing: network errors and time-outs become { ok: false }. */
export async function request(req: HttpRequest, timeoutSeconds: number, deps: Pick<HttpDeps, 'fetch'>): Promise<HttpResult> {
  try {
    const response = await deps.fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: 'error',
      signal: AbortSignal.timeout(Math.round(timeoutSeconds * 1000)),
    });
    const body = await response.text();
    if (response.ok) return { ok: true, status: response.status, body, attempts: 1 };
    const excerpt = body.replace(/\s+/g, ' ').trim().slice(0, 200);
    return { ok: false, status: response.status, error: `HTTP ${response.status} ${response.statusText}${excerpt ? `: ${excerpt}` : ''}`, attempts: 1 };
  } catch (error) {
    return { ok: false, status: null, error: describeFetchError(error), attempts: 1 };
  }
}

// undici reports "fetch failed" and hides the reason in .cause (ECONNREFUSED, ENOTFOUND, ...).
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer within the time limit';
  const cause = (error as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: string }).code;
    return code ? `${error.message} (${code})` : `${error.message} (${cause.message})`;
  }
  return error.message;
}

/** Worth another attempt: the server is down, restarting, overloaded or slow. Other 4xx are final. */
function retryable(result: HttpResult): boolean {
  if (result.ok) return false;
  return result.status === null || result.status >= 500 || result.status === 429 || result.status === 408;
}

/**
 * Sends with up to policy.retries extra attempts. `label` names the target in log lines (already
 * redacted); `secrets` are scrubbed from every error and log line.
 */
export async function requestWithRetries(
  label: string,
  req: HttpRequest,
  policy: RetryPolicy,
  deps: HttpDeps,
  secrets: readonly string[],
): Promise<HttpResult> {
  const sleep = deps.sleep ?? realSleep;
  let last: HttpResult | undefined;
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0) await sleep(backoffMs(policy, attempt - 1));
    const result = await request(req, policy.timeoutSeconds, deps);
    if (result.ok) return { ...result, attempts: attempt + 1 };
    last = { ...result, error: scrubSecrets(result.error, secrets), attempts: attempt + 1 };
    if (!retryable(result)) break;
    if (attempt < policy.retries) deps.logger.warn(`${label}: attempt ${attempt + 1} failed (${last.error}); retrying`);
  }
  return last!;
}

/**
 * Polls a health endpoint until `healthy` says yes or waitSeconds pass. Returns how it ended; the
 * caller sends anyway when the wait runs out (a proxy may hide /health while /message works).
 */
export async function waitForHealth(
  label: string,
  healthUrl: string,
  healthy: (body: string) => boolean,
  policy: RetryPolicy & { healthWaitSeconds: number },
  deps: HttpDeps,
): Promise<{ healthy: boolean; waitedMs: number; lastError: string | null }> {
  const sleep = deps.sleep ?? realSleep;
  const startMs = deps.now();
  const deadlineMs = startMs + policy.healthWaitSeconds * 1000;
  for (let attempt = 0; ; attempt++) {
    const result = await request({ url: healthUrl, method: 'GET' }, policy.timeoutSeconds, deps);
    if (result.ok && healthy(result.body)) return { healthy: true, waitedMs: deps.now() - startMs, lastError: null };
    const lastError = result.ok ? `unhealthy: ${result.body.slice(0, 200)}` : result.error;
    const leftMs = deadlineMs - deps.now();
    if (leftMs <= 0) return { healthy: false, waitedMs: deps.now() - startMs, lastError };
    if (attempt === 0) deps.logger.info(`${label}: waiting up to ${policy.healthWaitSeconds} s for the server to be healthy (${lastError})`);
    await sleep(Math.min(backoffMs(policy, attempt), leftMs));
  }
}
