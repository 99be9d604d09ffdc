// The source changing under a real `home-lab mirror`: a file growing, shrinking or vanishing while it
// is copied, and a source directory swapped for a symlink to somewhere else mid-run. The run may
// succeed with a consistent snapshot or report the file; it must never leave a torn file under a real
// name, never copy what a symlink points at, and a rerun once things are still must converge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';
import { ageDirectories, contentMap, homeLabAsync, rsyncMirror } from './helpers/faults.js';
import { diffSnapshots, snapshot } from './oracle/snapshot.js';
import { runScrub } from '../src/scrub/run.js';
import { outcomeOf } from '../src/scrub/report.js';

const ACTOR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers/fault-actor.mjs');
const ROUNDS = 3;
// The swap is a race: more rounds, so a walk that follows the link is caught (before the engine's fix,
// 2 or 3 runs in 3 copied files from outside).
const SWAP_ROUNDS = 5;

/** Starts the actor and resolves once it is changing things; returns a stop function. */
async function startActor(args: string[]): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, [ACTOR, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`actor ${args[0]} exited early (${code})`)));
  });
  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  };
}

/** One `home-lab mirror` while the actor runs; the run must end as done (0) or partial (3). */
async function mirrorDuring(actor: string[], src: string, dst: string, round: number) {
  const stop = await startActor(actor);
  let run;
  try {
    run = await homeLabAsync(['mirror', '--no-progress', src, dst]);
  } finally {
    await stop();
  }
  assert.ok(run.code === 0 || run.code === 3, `round ${round}: exit ${run.code}: ${run.stderr}`);
  return run;
}

async function converges(src: string, dst: string, ref: string): Promise<void> {
  ageDirectories(src);
  const rerun = await homeLabAsync(['mirror', '--no-progress', src, dst]);
  assert.equal(rerun.code, 0, rerun.stderr);
  rsyncMirror(src, ref);
  assert.deepEqual(diffSnapshots(snapshot(ref), snapshot(dst, ['.home-lab'])), []);
  const v = await runScrub({ target: dst, mode: 'verify', chown: false });
  assert.equal(outcomeOf(v), 'ok', JSON.stringify(v.counts));
}

for (const mode of ['grow', 'shrink', 'vanish'] as const) {
  test(`a file that keeps ${mode === 'grow' ? 'growing' : mode === 'shrink' ? 'shrinking' : 'vanishing'} during its copy: reported or consistent, never torn; a rerun converges`, async (t) => {
    const tmp = tempDir(t);
    const src = path.join(tmp, 'src');
    const dst = path.join(tmp, 'dst');
    fs.mkdirSync(src);
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(src, `small-${i}`), `small ${i}\n`);
    const big = path.join(src, 'big');
    const original = Buffer.alloc(8 * 1024 * 1024, 0x78);
    fs.writeFileSync(big, original);
    let reported = 0;
    for (let round = 0; round < ROUNDS; round++) {
      if (mode === 'shrink') fs.writeFileSync(big, original);
      const run = await mirrorDuring([mode, big], src, dst, round);
      if (run.code === 3) {
        reported++;
        // The actor renames big to big.aside and back: either name may be the one caught.
        assert.match(run.stderr, /^error: big(\.aside)?: .*(changed|vanished|ENOENT|no longer)/m, run.stderr);
        assert.match(run.stdout, /path\(s\) failed/);
      }
      // Whatever is under the real name is whole: only 'x' bytes, as long as some state of the source.
      const copy = path.join(dst, 'big');
      if (fs.existsSync(copy)) {
        const data = fs.readFileSync(copy);
        assert.ok(data.every((byte) => byte === 0x78), `round ${round}: foreign bytes in the copy`);
        if (mode === 'shrink') assert.ok(data.length <= original.length);
        if (mode === 'grow') assert.ok(data.length >= original.length);
      }
      const v = await runScrub({ target: dst, mode: 'verify', chown: false });
      assert.equal(v.counts.corrupt + v.counts.missing, 0, `round ${round}: the manifest lies: ${JSON.stringify(v.counts)}`);
      await converges(src, dst, path.join(tmp, 'ref'));
    }
    t.diagnostic(`${mode}: ${ROUNDS} runs, ${reported} reported the change, ${ROUNDS - reported} copied a consistent state, all converged`);
  });
}

test('a source directory swapped for a symlink mid-run: what it points at is never copied; a rerun converges', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  const outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside);
  for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(outside, `f${i}`), 'OUTSIDE-SECRET');
  fs.mkdirSync(path.join(outside, 'deeper'));
  fs.writeFileSync(path.join(outside, 'deeper/g'), 'OUTSIDE-SECRET');
  for (let d = 0; d < 30; d++) {
    fs.mkdirSync(path.join(src, `d${String(d).padStart(2, '0')}`), { recursive: true });
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(src, `d${String(d).padStart(2, '0')}`, `f${i}`), `inside ${d}/${i}\n`);
  }
  const swapped = path.join(src, 'd15');
  let escapes = 0;
  let links = 0;
  const leakedRounds: string[] = [];
  for (let round = 0; round < SWAP_ROUNDS; round++) {
    fs.rmSync(dst, { recursive: true, force: true });
    const run = await mirrorDuring(['swap', swapped, outside], src, dst, round);
    const leaked = [...contentMap(dst, ['.home-lab'])].filter(([rel]) => fs.readFileSync(path.join(dst, rel)).toString() === 'OUTSIDE-SECRET');
    escapes += leaked.length;
    if (leaked.length > 0) leakedRounds.push(`round ${round}: ${leaked.length} files from outside SRC copied, e.g. ${leaked[0]?.[0]}; exit ${run.code}`);
    const st = fs.lstatSync(path.join(dst, 'd15'), { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) {
      links++;
      assert.equal(fs.readlinkSync(path.join(dst, 'd15')), outside, 'copied as the link it was, as rsync does');
    }
    await converges(src, dst, path.join(tmp, 'ref'));
  }
  t.diagnostic(`symlink swap: ${SWAP_ROUNDS} runs, ${links} saw the link (copied as a link), escapes: ${escapes}`);
  assert.deepEqual(leakedRounds, [], 'what the swapped-in symlink points at was copied into the backup');
});
