// Stops and starts the user's services: `systemctl --user stop|start|is-active UNIT`. Results are
// values: a stop that times out or a start that fails is reported, never thrown, so the caller's
// finally can go on restarting the other units.
import { describeFailure, type CommandRunner } from './command.js';

export interface SystemdOptions {
  run: CommandRunner;
  systemctl?: string;
  /** How long a stop (or start) may take, including waiting for the unit to settle. */
  timeoutMs: number;
  /** Between is-active polls; tests pass a small value. */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export type UnitResult = { ok: true } | { ok: false; error: string };

const INACTIVE = new Set(['inactive', 'failed']);

export function createSystemd(o: SystemdOptions) {
  const systemctl = o.systemctl ?? 'systemctl';
  const pollMs = o.pollMs ?? 500;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = o.now ?? Date.now;

  /** 'active', 'inactive', 'failed', 'activating', 'deactivating', 'unknown'... (is-active's word). */
  async function state(unit: string): Promise<string> {
    const r = await o.run(systemctl, ['--user', 'is-active', unit], { timeoutMs: 30_000 });
    return r.stdout.trim().split('\n')[0] || (r.ok ? 'active' : 'unknown');
  }

  async function waitFor(unit: string, done: (s: string) => boolean, fail: (s: string) => boolean, startedAtMs: number): Promise<string> {
    for (;;) {
      const s = await state(unit);
      if (done(s) || fail(s) || now() - startedAtMs >= o.timeoutMs) return s;
      await sleep(pollMs);
    }
  }

  return {
    state,

    /** Stops the unit and waits until it is inactive (or failed), up to timeoutMs. */
    async stop(unit: string): Promise<UnitResult> {
      const t0 = now();
      const args = ['--user', 'stop', unit];
      const r = await o.run(systemctl, args, { timeoutMs: o.timeoutMs });
      if (!r.ok) return { ok: false, error: describeFailure(systemctl, args, r) };
      const s = await waitFor(unit, (x) => INACTIVE.has(x), () => false, t0);
      return INACTIVE.has(s) ? { ok: true } : { ok: false, error: `${unit} is still ${s} ${Math.round(o.timeoutMs / 1000)} s after \`systemctl --user stop\`` };
    },

    /** Starts the unit and waits until it is active; a unit that fails to come up is an error. */
    async start(unit: string): Promise<UnitResult> {
      const t0 = now();
      const args = ['--user', 'start', unit];
      const r = await o.run(systemctl, args, { timeoutMs: o.timeoutMs });
      if (!r.ok) return { ok: false, error: `${describeFailure(systemctl, args, r)}; see \`journalctl --user -u ${unit}\`` };
      const s = await waitFor(unit, (x) => x === 'active', (x) => x === 'failed' || x === 'inactive', t0);
      return s === 'active' ? { ok: true } : { ok: false, error: `${unit} is ${s} after \`systemctl --user start\`; see \`journalctl --user -u ${unit}\`` };
    },
  };
}

export type Systemd = ReturnType<typeof createSystemd>;
