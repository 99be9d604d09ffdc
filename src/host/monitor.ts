// The dead-man's switch: a push monitor pinged at the start and end of each backup. When the pings
// stop (the timer never fired, the machine is off, the process hung), the monitor raises the alarm
// on its own: the one failure a notification from this machine can never report.
//
// uptime-kuma: GET <push URL>?status=up|down&msg=...&ping=<duration ms>. Kuma has no "started"
//   state, and an "up" at the start would mark a run that then hangs as healthy, so the start ping
//   is skipped for Kuma.
// healthchecks (healthchecks.io and compatible): POST <url>/start, <url> on success, <url>/fail on
//   failure, the summary as the body (kept as the ping's log). The run's duration is measured by
//   healthchecks between /start and the end ping.
import type { PushMonitorConfig } from '../config/notify-schema.js';
import { redactUrl, requestWithRetries, scrubSecrets, urlSecrets, type HttpDeps, type HttpRequest, type RetryPolicy } from './http.js';

export type MonitorEvent = 'start' | 'success' | 'failure';

export type PingResult = { ok: true; skipped: boolean } | { ok: false; error: string };

/** Pure: the request for one event, or null when this kind of monitor takes no ping for it. */
export function monitorRequest(config: PushMonitorConfig, event: MonitorEvent, detail: { message: string; durationMs?: number }): HttpRequest | null {
  const url = new URL(config.url);
  if (config.kind === 'uptime-kuma') {
    if (event === 'start') return null;
    url.searchParams.set('status', event === 'success' ? 'up' : 'down');
    url.searchParams.set('msg', detail.message.slice(0, 250));
    url.searchParams.set('ping', detail.durationMs === undefined ? '' : String(Math.round(detail.durationMs)));
    return { url: url.href, method: 'GET' };
  }
  const base = url.pathname.replace(/\/+$/, '');
  url.pathname = event === 'start' ? `${base}/start` : event === 'failure' ? `${base}/fail` : base;
  return { url: url.href, method: 'POST', headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: detail.message.slice(0, 10_000) };
}

export async function pingMonitor(
  config: PushMonitorConfig,
  event: MonitorEvent,
  detail: { message: string; durationMs?: number },
  policy: RetryPolicy,
  deps: HttpDeps,
): Promise<PingResult> {
  const req = monitorRequest(config, event, detail);
  if (req === null) return { ok: true, skipped: true };
  const label = `${config.kind} monitor ${redactUrl(config.url)}`;
  const secrets = [...urlSecrets(config.url), ...urlSecrets(req.url)];
  const result = await requestWithRetries(label, req, policy, deps, secrets);
  // Some Uptime Kuma versions answer 200 {"ok":false,"msg":"Monitor not found or not active."}.
  if (result.ok && config.kind === 'uptime-kuma' && /"ok"\s*:\s*false/.test(result.body)) {
    return { ok: false, error: scrubSecrets(`${label}: ${event} ping refused: ${result.body.slice(0, 200)} (check monitor.push.url and that the monitor is active)`, secrets) };
  }
  if (result.ok) {
    deps.logger.debug(`${label}: pinged ${event}`);
    return { ok: true, skipped: false };
  }
  return { ok: false, error: scrubSecrets(`${label}: ${event} ping failed: ${result.error} after ${result.attempts} attempt(s) (check monitor.push.url)`, secrets) };
}
