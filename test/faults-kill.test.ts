// SIGKILL at random points of real `home-lab mirror` runs (the built CLI), then a rerun: no
// half-written file ever carries a real name, the rerun converges to what `rsync -a --delete` makes of
// the same source, and `home-lab verify` finds the manifest consistent with the files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, isRoot } from './helpers/tmp.js';
import { ageDirectories, contentMap, homeLabAsync, isTempName, rsyncMirror, type KillAt } from './helpers/faults.js';
import { generateTree } from './oracle/tree.js';
import { Random } from './oracle/random.js';
import { diffSnapshots, snapshot } from './oracle/snapshot.js';
import { joinPath } from '../src/engine/bytes.js';
import { hlfs } from '../src/native/hlfs.js';
import { runScrub } from '../src/scrub/run.js';
import { outcomeOf } from '../src/scrub/report.js';

const KILL_POINTS = Number(process.env.HOME_LAB_KILL_POINTS ?? 20);

/** Changes about a quarter of the source: rewrites, deletions, new files, now and then a big one. */
function mutate(src: string, r: Random): void {
  const files: Buffer[] = [];
  const dirs: Buffer[] = [Buffer.from(src)];
  const walk = (p: Buffer) => {
    for (const name of fs.readdirSync(p, { encoding: 'buffer' })) {
      const c = joinPath(p, name);
      const st = fs.lstatSync(c);
      if (st.isDirectory()) {
        dirs.push(c);
        walk(c);
      } else if (st.isFile()) files.push(c);
    }
  };
  walk(Buffer.from(src));
  const write = (p: Buffer, size: number) => {
    fs.writeFileSync(p, r.bytes(Math.min(size, 4096)).toString('latin1').repeat(Math.ceil(size / 4096)).slice(0, size), 'latin1');
    const ns = BigInt(r.int(1, 2_000_000_000)) * 1_000_000_000n + BigInt(r.int(0, 999_999_999));
    hlfs.utimensat(p, ns, ns, true);
  };
  for (const f of files) {
    const roll = r.next();
    if (roll < 0.2) write(f, r.int(0, 300_000));
    else if (roll < 0.28) fs.rmSync(f);
  }
  for (let i = 0; i < 8; i++) write(joinPath(r.pick(dirs), Buffer.from(`new-${r.int(0, 1e9)}`)), r.int(0, 100_000));
  if (r.chance(0.5)) write(joinPath(r.pick(dirs), Buffer.from(`big-${r.int(0, 1e9)}`)), 3 * 1024 * 1024);
}

test(`SIGKILL at ${KILL_POINTS} points of a mirror, then a rerun: equals rsync, verify clean, never a half-written file`, { skip: isRoot ? false : 'needs root: the generated trees hold unreadable modes and other owners' }, async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  const ref = path.join(tmp, 'ref');
  fs.mkdirSync(src);
  generateTree(src, { seed: 11, entries: 80 });
  const r = new Random(2024);
  // One trash directory per round, like one per day (the same name trashed twice in a day is a
  // separate test below).
  const mirrorArgs = (round: number) => ['mirror', '-i', '--allow-deletions', '--no-progress', '--trash', path.join(dst, `.home-lab/trash/round-${round}`), src, dst];
  const first = await homeLabAsync(mirrorArgs(-1));
  assert.equal(first.code, 0, first.stderr);
  const everSeen = new Set(contentMap(dst, ['.home-lab']).values());

  let landed = 0;
  let converged = 0;
  const halfWritten: string[] = [];
  for (let k = 0; k < KILL_POINTS; k++) {
    mutate(src, r);
    ageDirectories(src);
    const before = contentMap(dst, ['.home-lab']);
    const wanted = contentMap(src);
    for (const sha of wanted.values()) everSeen.add(sha);
    const killAt: KillAt = k % 2 === 0 ? { afterLines: r.int(0, 30) } : { afterMs: r.int(0, 1500) };
    const killedRun = await homeLabAsync(mirrorArgs(k), { killAt });
    if (killedRun.killed) landed++;
    else assert.equal(killedRun.code, 0, `round ${k}: the run the kill missed failed: ${killedRun.stderr}`);

    // A file under a real name is always a whole version: the one before the run or the source's.
    for (const [rel, sha] of contentMap(dst, ['.home-lab'])) {
      if (isTempName(rel)) continue;
      if (sha !== before.get(rel) && sha !== wanted.get(rel)) halfWritten.push(`round ${k}: ${rel}`);
    }
    // Trashed files are whole too (moved by rename, never copied).
    const trash = path.join(dst, '.home-lab/trash');
    if (fs.existsSync(trash)) for (const [rel, sha] of contentMap(trash)) if (!everSeen.has(sha)) halfWritten.push(`round ${k}: trash ${rel}`);
    for (const sha of contentMap(dst, ['.home-lab']).values()) everSeen.add(sha);

    const rerun = await homeLabAsync(mirrorArgs(k));
    assert.equal(rerun.code, 0, `round ${k} (${JSON.stringify(killAt)}): the rerun failed: ${rerun.stderr}`);
    rsyncMirror(src, ref);
    assert.deepEqual(diffSnapshots(snapshot(ref), snapshot(dst, ['.home-lab'])), [], `round ${k} (${JSON.stringify(killAt)}): the rerun does not equal rsync`);
    // The code `home-lab verify` runs, in-process (one process start less per round).
    const verify = await runScrub({ target: dst, mode: 'verify', chown: false });
    assert.equal(outcomeOf(verify), 'ok', `round ${k}: verify after the rerun: ${JSON.stringify(verify.findings.slice(0, 5))}`);
    converged++;
  }
  assert.deepEqual(halfWritten, [], 'half-written files under real names');
  assert.ok(landed >= KILL_POINTS / 2, `only ${landed} of ${KILL_POINTS} kills landed before the run ended`);
  t.diagnostic(`kill points tried: ${KILL_POINTS}, kills that landed mid-run: ${landed}, reruns that converged to rsync with verify clean: ${converged}, half-written files: 0`);
});

test('the same 255-byte name trashed twice in one day is kept, not a failed run', async (t) => {
  const tmp = tempDir(t);
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  const long = 'n'.repeat(255);
  fs.mkdirSync(src);
  const args = ['mirror', '--no-progress', '--trash', path.join(dst, '.home-lab/trash/2024-01-01'), src, dst];
  for (const [i, content] of ['one', 'two', 'three'].entries()) {
    fs.writeFileSync(path.join(src, long), content);
    const ns = BigInt(i + 1) * 1_000_000_000n;
    hlfs.utimensat(Buffer.from(path.join(src, long)), ns, ns, true);
    const run = await homeLabAsync(args);
    assert.equal(run.code, 0, `overwrite with "${content}": ${run.stderr}`);
  }
  assert.equal(fs.readdirSync(path.join(dst, '.home-lab/trash/2024-01-01')).length, 2, 'both older versions kept');
  assert.equal(fs.readFileSync(path.join(dst, long), 'utf8'), 'three');
});
