// <disk>/.home-lab/drill.json: when the last restore drill ran and when one last passed, so
// `home-lab status` can show the age of the last proven restore. Written atomically (temp + rename).
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../backup/atomic-file.js';

export const DRILL_FILE = path.join('.home-lab', 'drill.json');

export interface DrillRecord {
  version: 1;
  lastRunAtMs: number;
  lastResult: 'passed' | 'failed';
  /** null until a drill has passed on this disk. */
  lastPassedAtMs: number | null;
  /** Files and bytes restored by the last drill. */
  files: number;
  bytes: number;
  /** The last drill's problems (escaped paths), at most 10. */
  problems: string[];
}

export type ReadDrill = { ok: true; record: DrillRecord | null } | { ok: false; error: string };

/** The disk's drill record; record null when no drill ever ran there. */
export function readDrillRecord(diskRoot: string): ReadDrill {
  const file = path.join(diskRoot, DRILL_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: true, record: null };
    return { ok: false, error: `cannot read ${file}: ${code ?? 'EIO'}` };
  }
  try {
    const v = JSON.parse(text) as Partial<DrillRecord>;
    const okTime = (t: unknown) => typeof t === 'number' && Number.isFinite(t);
    if (v.version !== 1 || !okTime(v.lastRunAtMs) || (v.lastPassedAtMs !== null && !okTime(v.lastPassedAtMs)) || (v.lastResult !== 'passed' && v.lastResult !== 'failed')) {
      return { ok: false, error: `${file} is not a drill record this home-lab understands; run \`home-lab restore --drill\` to write a new one` };
    }
    return {
      ok: true,
      record: {
        version: 1,
        lastRunAtMs: v.lastRunAtMs as number,
        lastResult: v.lastResult,
        lastPassedAtMs: v.lastPassedAtMs ?? null,
        files: Number(v.files ?? 0),
        bytes: Number(v.bytes ?? 0),
        problems: Array.isArray(v.problems) ? v.problems.filter((p): p is string => typeof p === 'string').slice(0, 10) : [],
      },
    };
  } catch {
    return { ok: false, error: `${file} is not valid JSON; run \`home-lab restore --drill\` to write a new one` };
  }
}

/** Records a drill; a failed drill keeps the time of the last one that passed. */
export function writeDrillRecord(diskRoot: string, run: { atMs: number; passed: boolean; files: number; bytes: number; problems: string[] }): DrillRecord {
  const previous = readDrillRecord(diskRoot);
  const lastPassed = previous.ok && previous.record ? previous.record.lastPassedAtMs : null;
  const record: DrillRecord = {
    version: 1,
    lastRunAtMs: run.atMs,
    lastResult: run.passed ? 'passed' : 'failed',
    lastPassedAtMs: run.passed ? run.atMs : lastPassed,
    files: run.files,
    bytes: run.bytes,
    problems: run.problems.slice(0, 10),
  };
  writeFileAtomicSync(path.join(diskRoot, DRILL_FILE), JSON.stringify(record, null, 2) + '\n', { dirMode: 0o700 });
  return record;
}
