// The OnFailure= handler (`home-lab notify --failure --unit U`): the backup unit failed for good.
// The backup may have died before it could say anything (killed, OOM, timeout, crash), so this
// pushes a high-priority message from a separate process, with systemd's verdict, the last recorded
// error and the unit's last log lines; it pings the monitor's failure too. When the failed run
// already delivered its own report (same invocation, notified), nothing is sent twice.
import os from 'node:os';
import type { CommandRunner } from '../host/command.js';
import { readSecretFile, sendAll } from '../host/notify.js';
import { pingMonitor } from '../host/monitor.js';
import { scrubSecrets } from '../host/http.js';
import { loadState, resolveStateDir } from './state.js';
import { renderUnitFailure, formatTime } from './report-text.js';
import type { AnnounceConfig, AnnounceDeps, AnnounceResult } from './announce.js';

export interface FailureNoticeInput {
  unit: string;
  /** systemd's MONITOR_* variables for OnFailure= handlers (systemd >= 251), when present. */
  monitor: { serviceResult?: string; exitStatus?: string; invocationId?: string };
  /** Send even when the failed run already reported itself. */
  always?: boolean;
}

const JOURNAL_LINES = 15;

export async function notifyUnitFailure(
  input: FailureNoticeInput,
  config: AnnounceConfig,
  deps: AnnounceDeps & { run: CommandRunner },
): Promise<AnnounceResult & { skipped: boolean }> {
  const env = deps.env ?? process.env;
  const errors: string[] = [];
  const loaded = loadState(resolveStateDir(config.stateDir, env));
  const state = loaded.ok ? loaded.state : null;
  if (!loaded.ok) deps.logger.warn(loaded.error);

  const last = state?.lastRun ?? null;
  if (!input.always && input.monitor.invocationId && last?.invocationId === input.monitor.invocationId && last.notified) {
    deps.logger.info(`${input.unit} failed, but that run already sent its own report: nothing more to push`);
    return { ok: true, errors: [], skipped: true };
  }

  let lastError: string | null = null;
  if (state?.running) {
    lastError = `the run started ${formatTime(state.running.startedAtMs)} never finished: the process died or was killed before it could report`;
  } else if (last && last.status !== 'ok') {
    lastError = `${last.status}: ${last.error ?? 'no error recorded'}`;
  }

  // The journal should hold no secret (nothing here logs one); scrub the tokens anyway before
  // the lines leave the machine.
  const secrets: string[] = [];
  for (const file of [config.notify.gotify?.tokenFile, config.notify.ntfy?.tokenFile]) {
    if (!file) continue;
    const read = readSecretFile(file, 'token', '');
    if (read.ok) secrets.push(read.secret);
  }
  const journal = await deps.run('journalctl', ['--user', '--unit', input.unit, '--lines', String(JOURNAL_LINES), '--no-pager', '--output', 'cat'], { timeoutMs: 10_000 });
  const journalLines = journal.ok ? journal.stdout.split('\n').filter((l) => l.trim() !== '').slice(-JOURNAL_LINES).map((l) => scrubSecrets(l, secrets)) : [];
  if (!journal.ok) deps.logger.debug(`journalctl gave no lines: ${journal.error ?? journal.stderr.trim()}`);

  const report = renderUnitFailure({
    unit: input.unit,
    host: deps.host ?? os.hostname(),
    result: input.monitor.serviceResult ?? null,
    exitStatus: input.monitor.exitStatus ?? null,
    lastError,
    journal: journalLines,
  });

  if (config.monitor.push) {
    const ping = await pingMonitor(config.monitor.push, 'failure', { message: report.title }, config.notify, deps);
    if (!ping.ok) {
      deps.logger.error(ping.error);
      errors.push(ping.error);
    }
  }
  const results = await sendAll(config.notify, report, deps);
  if (results.length === 0) deps.logger.warn(`${input.unit} failed and no notification target is configured (notify.gotify, notify.ntfy)`);
  for (const r of results) {
    if (r.ok) deps.logger.info(`failure of ${input.unit} pushed via ${r.target}`);
    else {
      const line = `notification via ${r.target} failed: ${r.error}`;
      deps.logger.error(line);
      errors.push(line);
    }
  }
  return { ok: errors.length === 0, errors, skipped: false };
}
