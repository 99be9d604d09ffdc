import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { backupFixture, fastTempDir as tempDir, flipByte, manifestFor, rowsOf, writeTree, type FileSpec } from './helpers/manifest-fixture.js';
import { runScrub, type ScrubOptions } from '../src/scrub/run.js';
import { parsePercent, type Percent } from '../src/scrub/select.js';
import { outcomeOf } from '../src/scrub/report.js';
import { ManifestError, ManifestStore, manifestPath } from '../src/manifest/store.js';

const DAY = 86_400_000;
const T0 = 1_750_000_000_000;

function pct(text: string): Percent {
  const p = parsePercent(text);
  if ('error' in p) throw new Error(p.error);
  return p;
}

/** A clock that the test moves: one "night" per scrub. */
function clock(start = T0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function files(n: number): FileSpec[] {
  return Array.from({ length: n }, (_, i) => [`d${i % 3}/f${String(i).padStart(3, '0')}`, `content of file ${i}\n`.repeat(1 + (i % 5))]);
}

const fixture = backupFixture;

function scrub(target: string, now: () => number, extra: Partial<ScrubOptions> = {}) {
  return runScrub({ target, mode: 'scrub', now, elapsedMs: () => 0, ...extra });
}

test('a flipped byte (same size and mtime) is found by scrub --percent 100', async (t) => {
  const spec = files(12);
  const { backup } = fixture(t, spec);
  const victim = spec[7]?.[0] as string;
  flipByte(path.join(backup, victim), 3);
  const c = clock();
  const r = await scrub(backup, c.now, { percent: pct('100') });
  assert.equal(r.filesChecked, 12);
  assert.equal(r.counts.corrupt, 1);
  assert.equal(r.counts.ok, 11);
  assert.equal(r.findings[0]?.path.toString(), victim);
  assert.match(r.findings[0]?.detail ?? '', /content hash .* differs/);
  assert.equal(outcomeOf(r), 'findings');
  const row = rowsOf(backup).find((x) => x.path.toString() === victim);
  assert.equal(row?.verifyStatus, 'corrupt');
  assert.equal(row?.verifiedAtMs, T0);
});

test('with --percent 10 a flipped byte is found within 10 runs, for every file position', async (t) => {
  const n = 23;
  for (let victim = 0; victim < n; victim++) {
    const spec = files(n);
    const { backup } = fixture(t, spec);
    const c = clock();
    // Mix the verification history first, so the victim can sit anywhere in the rotation.
    const warmups = (victim * 7) % 11;
    for (let i = 0; i < warmups; i++) {
      await scrub(backup, c.now, { percent: pct('10') });
      c.advance(DAY);
    }
    flipByte(path.join(backup, spec[victim]?.[0] as string), 0);
    let foundAt = -1;
    for (let run = 1; run <= 10 && foundAt < 0; run++) {
      const r = await scrub(backup, c.now, { percent: pct('10') });
      assert.equal(r.filesChecked, 3, 'ceil(10 % of 23)');
      if (r.counts.corrupt > 0) foundAt = run;
      c.advance(DAY);
    }
    assert.ok(foundAt > 0, `file ${victim} not found within 10 runs (after ${warmups} warm-up runs)`);
  }
});

test('a file chosen at random is found within 10 runs at 10 %', async (t) => {
  const spec = files(40);
  const { backup } = fixture(t, spec);
  const c = clock();
  const victim = Math.floor(Math.random() * spec.length);
  flipByte(path.join(backup, spec[victim]?.[0] as string), 1);
  const foundIn: number[] = [];
  for (let run = 1; run <= 10; run++) {
    const r = await scrub(backup, c.now, { percent: pct('10') });
    if (r.counts.corrupt > 0) foundIn.push(run);
    c.advance(DAY);
  }
  assert.equal(foundIn.length, 1, `file ${victim} found in runs ${foundIn.join(',')}`);
});

test('coverage: ceil(100 / P) scrubs at P % verify every row at least once', async (t) => {
  const spec = files(57);
  const { backup } = fixture(t, spec);
  for (const p of ['1', '3', '7', '10', '33', '50', '100', '12.5']) {
    const store = ManifestStore.open(backup);
    store.database.exec('UPDATE files SET verified_at = NULL, verify_status = NULL');
    store.close();
    const c = clock();
    const runs = Math.ceil(100 / Number(p));
    let last;
    for (let i = 0; i < runs; i++) {
      last = await scrub(backup, c.now, { percent: pct(p) });
      c.advance(DAY);
    }
    const rows = rowsOf(backup);
    assert.equal(rows.filter((r) => r.verifiedAtMs === null).length, 0, `${p} %: some rows never verified after ${runs} runs`);
    assert.equal(last?.coverage.neverVerified, 0);
    assert.equal(last?.coverage.files, 57);
  }
});

test('selection takes never-verified rows first, then the oldest, and records per batch', async (t) => {
  const spec = files(10);
  const { backup } = fixture(t, spec);
  const c = clock();
  // Verify everything once, then add a new row: it must be picked before any verified one.
  await scrub(backup, c.now, { percent: pct('100') });
  c.advance(DAY);
  writeTree(backup, [['new-file', 'new']]);
  const store = ManifestStore.open(backup);
  store.upsert({ path: Buffer.from('new-file'), sizeBytes: 3, mtimeNs: fs.lstatSync(path.join(backup, 'new-file'), { bigint: true }).mtimeNs, hash: '0000000000000000', hashedAtMs: 0 });
  // Make one row older than all others.
  store.setVerified(Buffer.from('d2/f005'), T0 - 5 * DAY, 'ok');
  store.close();
  const r = await scrub(backup, c.now, { percent: pct('1') }); // ceil(1 % of 11) = 1
  assert.equal(r.filesChecked, 1);
  assert.equal(r.findings[0]?.path.toString(), 'new-file', 'never verified first (its hash is wrong: a finding)');
  c.advance(DAY);
  const seen: string[] = [];
  await scrub(backup, c.now, { percent: pct('1'), onEvent: () => {} });
  for (const row of rowsOf(backup)) if (row.verifiedAtMs === c.now()) seen.push(row.path.toString());
  assert.deepEqual(seen, ['d2/f005'], 'then the oldest verification');
});

test('a killed scrub keeps the batches it recorded', async (t) => {
  // Pages are recorded every flushPages pages, or a second after the last record: once per page
  // here, by count (the first two cases) and by time (the clock of the third moves 2 s a look).
  let ms = 0;
  const cases: { offThread: boolean; extra: Partial<ScrubOptions> }[] = [
    { offThread: false, extra: { flushPages: 1 } },
    { offThread: true, extra: { flushPages: 1 } },
    { offThread: false, extra: { elapsedMs: () => (ms += 2000) } },
  ];
  for (const { offThread, extra } of cases) {
    const spec = files(30);
    const { backup } = fixture(t, spec);
    const c = clock();
    await assert.rejects(
      scrub(backup, c.now, {
        percent: pct('100'),
        pageRows: 8,
        offThread,
        ...extra,
        onEvent: (e) => {
          if (e.kind === 'progress' && e.filesDone === 20) throw new Error('killed');
        },
      }),
      /killed/,
    );
    const verified = rowsOf(backup).filter((r) => r.verifiedAtMs !== null);
    if (offThread) {
      // Outcomes still on their way back from libuv's threads at the kill are lost (checked again
      // next time); what was recorded is whole.
      assert.ok(verified.length <= 16, `${verified.length} recorded`);
    } else {
      assert.equal(verified.length, 16, 'two whole pages of 8 committed; the third was rolled back');
    }
    assert.ok(verified.every((r) => r.verifyStatus === 'ok'));
    // The next night starts with the rows never verified, and gets them all.
    c.advance(DAY);
    const next = await scrub(backup, c.now, { percent: pct('100'), offThread });
    assert.equal(next.filesChecked, 30);
    const all = rowsOf(backup);
    const fresh = all.filter((r) => r.verifiedAtMs === T0 + DAY).length;
    assert.equal(fresh, 30);
  }
});

test('byte and time budgets stop the night early, oldest first', async (t) => {
  const spec: FileSpec[] = Array.from({ length: 10 }, (_, i) => [`f${i}`, Buffer.alloc(100, i)]);
  const { backup } = fixture(t, spec);
  const c = clock();
  const r = await scrub(backup, c.now, { percent: pct('100'), maxBytes: 350 });
  assert.equal(r.filesChecked, 3);
  assert.equal(r.stoppedBy, 'bytes');
  let elapsed = 0;
  const r2 = await runScrub({
    target: backup,
    mode: 'scrub',
    percent: pct('100'),
    now: c.now,
    maxDurationMs: 1000,
    elapsedMs: () => elapsed,
    onEvent: (e) => {
      if (e.kind === 'progress') elapsed += 400;
    },
  });
  assert.equal(r2.filesChecked, 3, 'starts no file after the time budget ran out');
  assert.equal(r2.stoppedBy, 'time');
  assert.equal(r2.findings.length, 0);
  // Those three were the never-verified ones left by the first run.
  const fresh = rowsOf(backup).filter((x) => x.verifiedAtMs !== null).map((x) => x.path.toString());
  assert.deepEqual(fresh, ['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
});

test('--source repairs backup rot, and a following verify is clean', async (t) => {
  const spec = files(9);
  const { backup, source } = fixture(t, spec);
  const victim = spec[4]?.[0] as string;
  const missing = spec[5]?.[0] as string;
  const inodeBefore = fs.statSync(path.join(backup, victim)).ino;
  const dirTimes = fs.lstatSync(path.dirname(path.join(backup, victim)), { bigint: true }).mtimeNs;
  flipByte(path.join(backup, victim), 2);
  fs.unlinkSync(path.join(backup, missing));
  fs.utimesSync(path.dirname(path.join(backup, missing)), new Date(0), new Date(0));
  const dirTimesMissing = fs.lstatSync(path.dirname(path.join(backup, missing)), { bigint: true }).mtimeNs;
  const c = clock();
  const r = await scrub(backup, c.now, { percent: pct('100'), sources: [{ root: source, prefix: '' }] });
  assert.equal(r.counts.repaired, 2, JSON.stringify(r.findings.map((f) => f.detail)));
  assert.equal(r.counts.corrupt + r.counts.missing + r.counts.sourceRot, 0);
  assert.equal(outcomeOf(r), 'repaired');
  assert.deepEqual(fs.readFileSync(path.join(backup, victim)), fs.readFileSync(path.join(source, victim)));
  assert.notEqual(fs.statSync(path.join(backup, victim)).ino, inodeBefore, 'replaced by rename, not rewritten in place');
  assert.equal(fs.lstatSync(path.join(backup, victim), { bigint: true }).mtimeNs, fs.lstatSync(path.join(source, victim), { bigint: true }).mtimeNs);
  assert.equal(fs.lstatSync(path.dirname(path.join(backup, missing)), { bigint: true }).mtimeNs, dirTimesMissing, 'directory times kept');
  void dirTimes;
  const statuses = new Map(rowsOf(backup).map((row) => [row.path.toString(), row.verifyStatus]));
  assert.equal(statuses.get(victim), 'repaired');
  assert.equal(statuses.get(missing), 'repaired');
  assert.deepEqual(fs.readdirSync(path.dirname(path.join(backup, victim))).filter((n) => n.startsWith('.home-lab.tmp')), []);
  c.advance(DAY);
  const v = await runScrub({ target: backup, mode: 'verify', now: c.now });
  assert.equal(outcomeOf(v), 'ok', JSON.stringify(v.findings.map((f) => [f.path.toString(), f.detail])));
  assert.equal(v.counts.ok, 9);
  assert.equal(v.coverage.shareVerifiedInWindow, 1);
});

test('source rot is reported loudly and the good backup is kept', async (t) => {
  const spec = files(6);
  const { backup, source } = fixture(t, spec);
  const victim = spec[2]?.[0] as string;
  const good = fs.readFileSync(path.join(backup, victim));
  flipByte(path.join(source, victim), 1);
  const c = clock();
  const r = await scrub(backup, c.now, { percent: pct('100'), sources: [{ root: source, prefix: '' }] });
  assert.equal(r.counts.sourceRot, 1);
  assert.equal(r.counts.repaired, 0);
  assert.equal(outcomeOf(r), 'findings');
  assert.equal(r.findings[0]?.kind, 'source-rot');
  assert.match(r.findings[0]?.detail ?? '', /backup holds the last good copy/);
  assert.deepEqual(fs.readFileSync(path.join(backup, victim)), good);
  assert.equal(rowsOf(backup).find((x) => x.path.toString() === victim)?.verifyStatus, 'source-rot');
});

test('a changed source is skipped: a corrupt backup stays a finding for the next mirror to replace', async (t) => {
  const spec = files(4);
  const { backup, source } = fixture(t, spec);
  const victim = spec[1]?.[0] as string;
  flipByte(path.join(backup, victim), 0);
  fs.appendFileSync(path.join(source, victim), 'edited');
  const r = await scrub(backup, clock().now, { percent: pct('100'), sources: [{ root: source, prefix: '' }] });
  assert.equal(r.counts.corrupt, 1);
  assert.equal(r.counts.repaired, 0);
  assert.equal(r.counts.sourceSkipped, 1);
  assert.match(r.findings[0]?.detail ?? '', /next mirror/);
});

test('truncated, deleted, symlinked and unsafe rows each give their finding', async (t) => {
  const spec = files(6);
  const { dir, backup } = fixture(t, spec);
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'f000'), spec[0]?.[1] as string);
  fs.truncateSync(path.join(backup, spec[1]?.[0] as string), 3);
  fs.unlinkSync(path.join(backup, spec[2]?.[0] as string));
  fs.unlinkSync(path.join(backup, spec[3]?.[0] as string));
  fs.symlinkSync(path.join(outside, 'f000'), path.join(backup, spec[3]?.[0] as string));
  // A row under a directory that became a symlink pointing outside TARGET: never followed.
  fs.mkdirSync(path.join(backup, 'linked'));
  fs.writeFileSync(path.join(backup, 'linked', 'f000'), spec[0]?.[1] as string);
  manifestFor(backup, ['linked/f000']);
  fs.rmSync(path.join(backup, 'linked'), { recursive: true });
  fs.symlinkSync(outside, path.join(backup, 'linked'));
  const store = ManifestStore.open(backup);
  const ins = store.database.prepare("INSERT INTO files VALUES (?, ?, 1, 0, '0000000000000000', 0, NULL, NULL)");
  ins.run(Buffer.from('..'), Buffer.from('outside'));
  ins.run(Buffer.from(''), Buffer.from('/etc/passwd'));
  ins.run(Buffer.from('/tmp'), Buffer.from('x'));
  store.close();
  const r = await scrub(backup, clock().now, { percent: pct('100') });
  const byPath = new Map(r.findings.map((f) => [f.path.toString(), f]));
  assert.match(byPath.get(spec[1]?.[0] as string)?.detail ?? '', /size is 3 bytes/);
  assert.equal(byPath.get(spec[2]?.[0] as string)?.kind, 'missing');
  assert.match(byPath.get(spec[3]?.[0] as string)?.detail ?? '', /symlink/);
  assert.equal(byPath.get('linked/f000')?.kind, 'corrupt');
  assert.match(byPath.get('linked/f000')?.detail ?? '', /linked is a symlink/);
  assert.equal(r.counts.unsafe, 3);
  assert.equal(outcomeOf(r), 'findings');
  assert.equal(r.counts.ok, 3);
});

test('verify lists files the manifest does not know and rows whose file is gone', async (t) => {
  const spec = files(5);
  const { backup } = fixture(t, spec);
  fs.writeFileSync(path.join(backup, 'd1', 'stray'), 'not mirrored');
  fs.writeFileSync(Buffer.concat([Buffer.from(backup + '/'), Buffer.from([0x64, 0x32, 0x2f, 0x6e, 0xff, 0x0a])]), 'odd name');
  fs.writeFileSync(path.join(backup, 'd1', '.home-lab.tmp.abc123'), 'a copy in flight');
  fs.writeFileSync(path.join(backup, '.home-lab', 'other'), 'home-lab own');
  fs.mkdirSync(path.join(backup, 'emptydir'));
  fs.symlinkSync('d1', path.join(backup, 'a-link'));
  fs.unlinkSync(path.join(backup, spec[0]?.[0] as string));
  const r = await runScrub({ target: backup, mode: 'verify', now: clock().now });
  assert.equal(r.filesChecked, 5);
  assert.equal(r.counts.missing, 1);
  assert.equal(r.counts.unmanifested, 2);
  const stray = r.findings.filter((f) => f.kind === 'unmanifested').map((f) => f.path);
  assert.deepEqual(stray, [Buffer.from('d1/stray'), Buffer.from([0x64, 0x32, 0x2f, 0x6e, 0xff, 0x0a])]);
});

test('verify finds an unknown file in a directory that holds as many files as its rows (one renamed), and none where the names match', async (t) => {
  const spec = files(6);
  const { backup } = fixture(t, spec);
  const [first] = spec[0] as [string, string];
  // Same count in the directory, another name: the row is missing and the new name unmanifested.
  fs.renameSync(path.join(backup, first), path.join(backup, path.dirname(first), 'renamed'));
  const r = await runScrub({ target: backup, mode: 'verify', now: clock().now });
  assert.equal(r.counts.missing, 1);
  assert.deepEqual(r.findings.filter((f) => f.kind === 'unmanifested').map((f) => f.path.toString()), [path.join(path.dirname(first), 'renamed')]);
  fs.renameSync(path.join(backup, path.dirname(first), 'renamed'), path.join(backup, first));
  const again = await runScrub({ target: backup, mode: 'verify', now: clock().now });
  assert.equal(again.counts.unmanifested + again.counts.missing, 0);
});

test('a missing or garbage manifest is a ManifestError naming the file', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(runScrub({ target: dir, mode: 'scrub' }), (e: unknown) => e instanceof ManifestError && e.message.includes(manifestPath(dir)));
  fs.mkdirSync(path.join(dir, '.home-lab'));
  fs.writeFileSync(manifestPath(dir), Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 251)));
  const before = fs.readFileSync(manifestPath(dir));
  await assert.rejects(runScrub({ target: dir, mode: 'verify' }), (e: unknown) => e instanceof ManifestError && e.message.includes(manifestPath(dir)) && /corrupt/.test(e.message));
  assert.deepEqual(fs.readFileSync(manifestPath(dir)), before, 'left untouched');
});

test('verification times in the future count as never verified', async (t) => {
  const spec = files(5);
  const { backup } = fixture(t, spec);
  const store = ManifestStore.open(backup);
  store.database.prepare('UPDATE files SET verified_at = ?').run(T0 + 1000 * DAY);
  store.close();
  const r = await scrub(backup, clock().now, { percent: pct('1') });
  assert.equal(r.futureVerificationsReset, 5);
  assert.equal(r.filesChecked, 1);
  assert.equal(r.coverage.neverVerified, 4);
});

test('an empty manifest: nothing to check, exit ok, full coverage', async (t) => {
  const dir = tempDir(t);
  manifestFor(dir, []);
  const r = await scrub(dir, clock().now, { percent: pct('1') });
  assert.equal(r.filesChecked, 0);
  assert.equal(r.stoppedBy, 'end');
  assert.equal(outcomeOf(r), 'ok');
  assert.equal(r.coverage.shareVerifiedInWindow, 1);
});

test('files hashed off this thread give the same findings as hashing them here', async (t) => {
  // Big and small files, with a flipped byte, a truncation, a missing file and a source to repair
  // from; off this thread, each page's files are hashed in one native job (src/scrub/run.ts).
  const big = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
  const spec: FileSpec[] = [
    ['a/big-ok.bin', big(3 << 20, 1)],
    ['a/big-flipped.bin', big(200_000, 2)],
    ['a/big-truncated.bin', big(1 << 20, 3)],
    ['a/big-missing.bin', big(150_000, 4)],
    ['b/small-flipped.txt', big(1000, 5)],
    ['b/small-ok.txt', big(5000, 6)],
    ['b/big-late.bin', big(900_000, 7)],
  ];
  const results = [];
  for (const offThread of [true, false]) {
    const { backup, source } = fixture(t, spec);
    flipByte(path.join(backup, 'a/big-flipped.bin'), 123_456);
    flipByte(path.join(backup, 'b/small-flipped.txt'), 10);
    fs.truncateSync(path.join(backup, 'a/big-truncated.bin'), 1000);
    fs.rmSync(path.join(backup, 'a/big-missing.bin'));
    const r = await runScrub({ target: backup, mode: 'verify', now: clock().now, elapsedMs: () => 0, offThread });
    const found = r.findings.map((f) => `${f.kind} ${f.path.toString()}`).sort();
    assert.deepEqual(found, ['corrupt a/big-flipped.bin', 'corrupt a/big-truncated.bin', 'corrupt b/small-flipped.txt', 'missing a/big-missing.bin'], `offThread: ${offThread}`);
    assert.equal(r.filesChecked, 7);
    assert.equal(r.bytesChecked, (3 << 20) + 1000 + 5000 + 900_000 + 200_000 + 1000);
    const repaired = await runScrub({ target: backup, mode: 'verify', now: clock(T0 + DAY).now, elapsedMs: () => 0, offThread, sources: [{ root: source, prefix: '' }] });
    assert.equal(repaired.counts.repaired, 4, `offThread: ${offThread}`);
    const again = await runScrub({ target: backup, mode: 'verify', now: clock(T0 + 2 * DAY).now, elapsedMs: () => 0, offThread });
    assert.equal(again.counts.ok, 7);
    assert.deepEqual(rowsOf(backup).map((x) => x.verifyStatus), Array(7).fill('ok'));
    results.push(found);
  }
  assert.deepEqual(results[0], results[1]);
});
