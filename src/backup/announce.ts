// The end of every backup: record it (local state), expose it (Prometheus textfile), tell the
// dead-man's switch (push monitor) and push it (Gotify, ntfy). Each part is independent: one
// failing never stops the others, and none of them changes the backup's own result. The caller
// maps { ok: false } to exit code notifyFailed (8) only when the backup itself succeeded.
//
// Config keys used (config/notify-schema.ts): notify.{gotify,ntfy,onSuccess,healthWaitSeconds,
// retries,backoffSeconds,timeoutSeconds}, monitor.{push,metricsFile,rotationDays}, stateDir.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MonitorConfig, NotifyConfig } from '../config/notify-schema.js';
import type { Logger } from '../log.js';
import type { BackupOutcome } from './outcome.js';
import type { Fetch } from '../host/http.js';
import { sendAll, type PushMessage } from '../host/notify.js';
import { pingMonitor } from '../host/monitor.js';
import { renderReport } from './report-text.js';
import { renderMetrics, writeMetrics } from './metrics.js';
import { emptyState, loadState, markNotified, recordOutcome, recordStart, resolveStateDir, saveState, STATE_FILE, type RunState } from './state.js';

/** The resolved Config (config/schema.ts) fits: only these keys are read. */
export interface AnnounceConfig {
  notify: NotifyConfig;
  monitor: MonitorConfig;
  /** Local state directory; default $XDG_STATE_HOME/home-lab or ~/.local/state/home-lab. */
  stateDir?: string;
}

export interface AnnounceDeps {
  fetch: Fetch;
  now: () => number;
  logger: Logger;
  /** Pauses between retries and health polls (tests shorten them). Default: setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** For XDG_STATE_HOME and systemd's INVOCATION_ID. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Shown in notification titles. Default: os.hostname(). */
  host?: string;
}

export interface AnnounceResult {
  ok: boolean;
  /** What failed, one line each, without secrets. */
  errors: string[];
}

export const METRICS_FILE = 'home-lab.prom';

export function metricsFileFor(monitor: MonitorConfig, stateDir: string): string {
  return monitor.metricsFile ?? path.join(stateDir, METRICS_FILE);
}

/** Loads the state; a corrupt file is moved aside (kept for inspection) and replaced. */
function loadForUpdate(stateDir: string, deps: AnnounceDeps, errors: string[]): RunState {
  const loaded = loadState(stateDir);
  if (loaded.ok) return loaded.state;
  const file = path.join(stateDir, STATE_FILE);
  const aside = `${file}.corrupt-${deps.now()}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    // unreadable and immovable: saveState will report the real problem
  }
  const message = `${loaded.error} (moved to ${aside}; starting a new state)`;
  deps.logger.error(message);
  errors.push(message);
  return emptyState();
}

function save(stateDir: string, state: RunState, deps: AnnounceDeps, errors: string[]): void {
  const saved = saveState(stateDir, state);
  if (!saved.ok) {
    deps.logger.error(saved.error);
    errors.push(saved.error);
  }
}

/** At the start of a backup: mark the run in the state and ping the monitor's /start. */
export async function announceStart(config: AnnounceConfig, deps: AnnounceDeps, start: { startedAtMs: number; dryRun?: boolean }): Promise<AnnounceResult> {
  if (start.dryRun) return { ok: true, errors: [] };
  const errors: string[] = [];
  const env = deps.env ?? process.env;
  const stateDir = resolveStateDir(config.stateDir, env);
  const state = recordStart(loadForUpdate(stateDir, deps, errors), {
    startedAtMs: start.startedAtMs,
    pid: process.pid,
    invocationId: env.INVOCATION_ID ?? null,
  });
  save(stateDir, state, deps, errors);
  if (config.monitor.push) {
    const ping = await pingMonitor(config.monitor.push, 'start', { message: 'home-lab backup started' }, config.notify, deps);
    if (!ping.ok) {
      deps.logger.error(ping.error);
      errors.push(ping.error);
    }
  }
  return { ok: errors.length === 0, errors };
}

export async function announce(outcome: BackupOutcome, config: AnnounceConfig, deps: AnnounceDeps): Promise<AnnounceResult> {
  if (outcome.dryRun) {
    deps.logger.info('dry run: no state, metrics, monitor ping or notification');
    return { ok: true, errors: [] };
  }
  const errors: string[] = [];
  const env = deps.env ?? process.env;
  const report = renderReport(outcome, { host: deps.host ?? os.hostname() });

  // 1. Local state first: the most reliable record, and what status and the metrics read.
  const stateDir = resolveStateDir(config.stateDir, env);
  let state = recordOutcome(loadForUpdate(stateDir, deps, errors), outcome, env.INVOCATION_ID ?? null);
  save(stateDir, state, deps, errors);

  // 2. Metrics, from the whole state (every disk keeps its last numbers).
  const metricsFile = metricsFileFor(config.monitor, stateDir);
  const written = writeMetrics(metricsFile, renderMetrics(state, { rotationDays: config.monitor.rotationDays, nowMs: deps.now() }));
  if (written.ok) deps.logger.debug(`metrics written to ${metricsFile}`);
  else {
    deps.logger.error(written.error);
    errors.push(written.error);
  }

  // 3. The dead-man's switch.
  if (config.monitor.push) {
    const ping = await pingMonitor(
      config.monitor.push,
      report.failure ? 'failure' : 'success',
      { message: report.title, durationMs: outcome.finishedAtMs - outcome.startedAtMs },
      config.notify,
      deps,
    );
    if (!ping.ok) {
      deps.logger.error(ping.error);
      errors.push(ping.error);
    }
  }

  // 4. Push notifications: failures always, successes when notify.onSuccess.
  const targets = [config.notify.gotify?.enabled, config.notify.ntfy?.enabled].filter(Boolean).length;
  if (targets === 0) {
    if (report.failure) deps.logger.warn('no notification target configured (notify.gotify, notify.ntfy): this failure is only in the log, the state and the metrics');
  } else if (report.failure || config.notify.onSuccess) {
    const message: PushMessage = report;
    const results = await sendAll(config.notify, message, deps);
    for (const result of results) {
      if (result.ok) deps.logger.info(`notification sent via ${result.target}`);
      else {
        const line = `notification via ${result.target} failed: ${result.error}`;
        deps.logger.error(line);
        errors.push(line);
      }
    }
    if (results.some((r) => r.ok)) {
      state = markNotified(state);
      save(stateDir, state, deps, errors);
    }
  }
  return { ok: errors.length === 0, errors };
}
