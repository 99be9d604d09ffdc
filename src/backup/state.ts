// The local run state: what `home-lab status` and the metrics are built from, kept on the server
// (not on the backup disk, which is often in a drawer). One JSON file, replaced atomically:
//   <stateDir>/state.json, stateDir = the config's stateDir, $XDG_STATE_HOME/home-lab or
//   ~/.local/state/home-lab.
// The record/mark functions are pure (state in, state out); load/save are the only I/O.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { BackupOutcome, Coverage } from './outcome.js';
import { outcomeTotals } from './report-text.js';
import { writeFileAtomicSync } from './atomic-file.js';
import { expandHome } from '../host/notify.js';

const runStatus = z.enum(['ok', 'partial', 'refused', 'fatal', 'busy']);
const coverage = z.object({
  verifiedShare100d: z.number(),
  oldestVerifiedAtMs: z.number().nullable(),
  neverVerified: z.number(),
  rows: z.number(),
});
const runTotals = z.object({
  durationMs: z.number(),
  filesCopied: z.number(),
  bytesCopied: z.number(),
  filesDeleted: z.number(),
  bytesDeleted: z.number(),
  filesVerified: z.number(),
  errors: z.number(),
  corruptFound: z.number(),
});
const diskRecord = z.object({
  mountPoint: z.string(),
  lastAttemptAtMs: z.number(),
  lastFinishedAtMs: z.number(),
  lastStatus: runStatus,
  /** Only status 'ok' counts as a success. */
  lastSuccessAtMs: z.number().nullable(),
  lastError: z.string().nullable(),
  freeBytes: z.number().nullable(),
  lastRun: runTotals,
  coverage: coverage.nullable(),
});
const stateSchema = z.object({
  version: z.literal(1),
  disks: z.record(z.string(), diskRecord),
  /** The last finished run, whatever disk (or none) it used. */
  lastRun: z
    .object({
      startedAtMs: z.number(),
      finishedAtMs: z.number(),
      status: runStatus,
      disk: z.string().nullable(),
      error: z.string().nullable(),
      /** systemd's INVOCATION_ID of the run, so the OnFailure= handler can tell it already reported. */
      invocationId: z.string().nullable(),
      notified: z.boolean(),
    })
    .nullable(),
  /** Set at the start of a run, cleared at its end: left behind when the process died. */
  running: z.object({ startedAtMs: z.number(), pid: z.number(), invocationId: z.string().nullable() }).nullable(),
});

export type RunState = z.output<typeof stateSchema>;
export type DiskRecord = z.output<typeof diskRecord>;
export type RunTotals = z.output<typeof runTotals>;
export type { Coverage };

export const STATE_FILE = 'state.json';

export function resolveStateDir(configured: string | undefined, env: NodeJS.ProcessEnv = process.env, home = env.HOME || os.homedir()): string {
  if (configured) return path.resolve(expandHome(configured, home));
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(home, '.local', 'state');
  return path.join(base, 'home-lab');
}

export function emptyState(): RunState {
  return { version: 1, disks: {}, lastRun: null, running: null };
}

export type LoadResult = { ok: true; state: RunState; exists: boolean } | { ok: false; error: string };

export function loadState(stateDir: string): LoadResult {
  const file = path.join(stateDir, STATE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, state: emptyState(), exists: false };
    return { ok: false, error: `cannot read the run state ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: `the run state ${file} is not valid JSON: move it aside; the next backup writes a new one` };
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `the run state ${file} is not in the expected shape (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}): move it aside; the next backup writes a new one` };
  }
  return { ok: true, state: parsed.data, exists: true };
}

export function saveState(stateDir: string, state: RunState): { ok: true } | { ok: false; error: string } {
  const file = path.join(stateDir, STATE_FILE);
  try {
    writeFileAtomicSync(file, JSON.stringify(state, null, 2) + '\n', { mode: 0o600, dirMode: 0o700 });
    return { ok: true };
  } catch (error) {
    return { ok: false, error: `cannot write the run state ${file} (${(error as Error).message}): check that ${stateDir} is writable, or set stateDir in the config` };
  }
}

export function recordStart(state: RunState, start: { startedAtMs: number; pid: number; invocationId: string | null }): RunState {
  return { ...state, running: { ...start } };
}

export function recordOutcome(state: RunState, outcome: BackupOutcome, invocationId: string | null): RunState {
  const t = outcomeTotals(outcome);
  const success = outcome.status === 'ok';
  const error = success ? null : (outcome.errors[0] ?? `run ended ${outcome.status}`);
  const disks = { ...state.disks };
  if (outcome.disk) {
    const previous = disks[outcome.disk.name];
    disks[outcome.disk.name] = {
      mountPoint: outcome.disk.mountPoint,
      lastAttemptAtMs: outcome.startedAtMs,
      lastFinishedAtMs: outcome.finishedAtMs,
      lastStatus: outcome.status,
      lastSuccessAtMs: success ? outcome.finishedAtMs : (previous?.lastSuccessAtMs ?? null),
      lastError: error,
      freeBytes: outcome.disk.freeBytes,
      lastRun: {
        durationMs: outcome.finishedAtMs - outcome.startedAtMs,
        filesCopied: t.filesCopied,
        bytesCopied: t.bytesCopied,
        filesDeleted: t.filesDeleted,
        bytesDeleted: t.bytesDeleted,
        filesVerified: t.filesVerified,
        errors: t.errors,
        corruptFound: outcome.corruptFound,
      },
      coverage: outcome.coverage ?? previous?.coverage ?? null,
    };
  }
  return {
    ...state,
    disks,
    lastRun: {
      startedAtMs: outcome.startedAtMs,
      finishedAtMs: outcome.finishedAtMs,
      status: outcome.status,
      disk: outcome.disk?.name ?? null,
      error,
      invocationId,
      notified: false,
    },
    running: null,
  };
}

export function markNotified(state: RunState): RunState {
  return state.lastRun ? { ...state, lastRun: { ...state.lastRun, notified: true } } : state;
}
