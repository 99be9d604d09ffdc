// The witness: a small file with this attempt's id and time, written into the first source before
// the mirror and read back from the disk after it. Equal content proves the run went end to end from
// the source to this disk (right source, right disk, mirror really ran); a stale witness on the disk
// means something in between silently did not happen.
import fs from 'node:fs';
import path from 'node:path';

export const WITNESS_FILE = '.home-lab-witness';

export interface Witness {
  runId: string;
  startedAtMs: number;
}

export function witnessText(w: Witness): string {
  return `home-lab backup witness: this file is rewritten by every backup run and read back from the disk.\n${JSON.stringify(w)}\n`;
}

/** Writes the witness (temp file + rename, fsync'd) into sourceDir. Returns an error message or null. */
export function writeWitness(sourceDir: string, w: Witness): string | null {
  const file = path.join(sourceDir, WITNESS_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      fs.writeSync(fd, witnessText(w));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return null;
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    return `cannot write the witness ${file}: ${(error as Error).message}`;
  }
}

/** Compares the copy on the disk with what was written; returns an error message or null. */
export function checkWitness(copyDir: string, w: Witness): string | null {
  const file = path.join(copyDir, WITNESS_FILE);
  let found: string;
  try {
    found = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return `the witness ${file} could not be read back from the disk (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): the mirror did not reach the disk`;
  }
  if (found === witnessText(w)) return null;
  const seen = /\{.*\}/.exec(found)?.[0];
  let when = 'unreadable content';
  try {
    const old = JSON.parse(seen ?? '') as Partial<Witness>;
    if (typeof old.startedAtMs === 'number') when = `written by the run of ${new Date(old.startedAtMs).toISOString()}`;
  } catch {
    // keep 'unreadable content'
  }
  return `the witness on the disk (${file}) is stale: ${when}, not this run's (${new Date(w.startedAtMs).toISOString()}): this run's mirror did not reach the disk end to end (is the witness excluded?)`;
}
