// Progress for long work: a cli-progress bar on a TTY, a plain line every few seconds otherwise
// (journald-friendly: no bars, no colours). Fed by the engine's progress events.
import { createRequire } from 'node:module';
import type cliProgressTypes from 'cli-progress';
import type { Logger } from '../log.js';
import { formatBytes } from '../units.js';

export { formatBytes };

export interface ProgressSink {
  update(state: { filesDone: number; filesTotal: number; bytesDone: number; bytesTotal: number }): void;
  stop(): void;
}

const PLAIN_INTERVAL_MS = 10_000;

export function createProgress(options: { tty: boolean; label: string; logger: Logger; enabled: boolean }): ProgressSink {
  if (!options.enabled) return { update() {}, stop() {} };
  if (options.tty) {
    // Loaded only for a terminal: its 16 modules cost start-up time on every non-interactive run.
    const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof cliProgressTypes;
    const bar = new cliProgress.SingleBar(
      {
        format: `${options.label} [{bar}] {percentage}% | {value}/{total} files | {done}/{all} | {rate}/s | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    let running = false;
    return {
      update(s) {
        const payload = {
          done: formatBytes(s.bytesDone),
          all: formatBytes(s.bytesTotal),
          rate: formatBytes(s.bytesDone / Math.max(0.001, (Date.now() - started) / 1000)),
        };
        if (!running) {
          bar.start(Math.max(s.filesTotal, 1), s.filesDone, payload);
          running = true;
        }
        bar.setTotal(Math.max(s.filesTotal, 1));
        bar.update(s.filesDone, payload);
      },
      stop() {
        if (running) bar.stop();
      },
    };
  }
  let last = Date.now();
  return {
    update(s) {
      const t = Date.now();
      if (t - last < PLAIN_INTERVAL_MS) return;
      last = t;
      options.logger.info(`${options.label}: ${s.filesDone}/${s.filesTotal} files, ${formatBytes(s.bytesDone)}/${formatBytes(s.bytesTotal)}`);
    },
    stop() {},
  };
}
