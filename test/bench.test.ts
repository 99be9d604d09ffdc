// home-lab bench: the generator is deterministic, the verifier catches a wrong mirror, the report
// formats, and `home-lab bench --quick` with a tiny --scale runs end to end through the built CLI with
// a JSON report in which every scenario has both tools' timings and a ratio. No timing is asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { planTree, planTotals, writeTree } from '../bench/generate.js';
import { deleteAndAdd, modifyFiles } from '../bench/mutate.js';
import { ContentWriter } from '../bench/generate.js';
import { statusKb } from '../bench/measure.js';
import { spread } from '../bench/stats.js';
import { treeSpec, TREE_NAMES } from '../bench/trees.js';
import { countTree, verifyMirror } from '../bench/verify.js';
import { formatMarkdown, formatTable } from '../bench/report.js';
import { findPackageRoot, homeLabEnv, resolveTools } from '../bench/tools.js';
import { parseList } from '../src/cli/commands/bench.js';
import { SCENARIO_NAMES, type BenchReport } from '../bench/types.js';
import { tempDir } from './helpers/tmp.js';

const CLI = path.resolve('dist/src/cli/main.js');

test('planTree is deterministic from the seed and follows the spec', () => {
  const spec = treeSpec('small', { quick: true, scale: 0.1 });
  const a = planTree(spec, 7);
  assert.deepEqual(planTree(spec, 7), a);
  assert.notDeepEqual(planTree(spec, 8).files, a.files);
  assert.equal(a.files.length, 500);
  assert.equal(a.dirs.length, 21);
  assert.ok(a.files.every((f) => f.sizeBytes >= 1024 && f.sizeBytes <= 16 * 1024));
  assert.equal(new Set(a.files.map((f) => f.path)).size, a.files.length);
  const large = treeSpec('large', { quick: false, scale: 0.5 });
  assert.equal(large.files, 8);
  assert.deepEqual(large.sizes, { kind: 'fixed', bytes: 128 * 1024 * 1024 });
  assert.equal(treeSpec('many', { quick: false, scale: 1 }).files, 200_000);
});

test('spread, statusKb and the list flags', () => {
  assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3 });
  assert.deepEqual(spread([4, 1, 2, 3]), { median: 2.5, min: 1, max: 4 });
  assert.equal(statusKb('Name:\tnode\nVmHWM:\t  91234 kB\nVmRSS:\t   1200 kB\n', 'VmRSS'), 1200);
  assert.equal(statusKb('Name:\tzombie\n', 'VmRSS'), 0);
  assert.deepEqual(parseList('--trees', 'mixed,small', TREE_NAMES), ['small', 'mixed']);
  assert.deepEqual(parseList('--scenarios', undefined, SCENARIO_NAMES), [...SCENARIO_NAMES]);
  assert.throws(() => parseList('--trees', 'small,huge', TREE_NAMES), /unknown huge/);
});

test('the verifier catches a wrong mirror: changed bytes, files missing or extra', async (t) => {
  const dir = tempDir(t, 'home-lab-bench-test-');
  const plan = planTree(treeSpec('mixed', { quick: true, scale: 0.02 }), 3);
  const src = path.join(dir, 'src');
  await writeTree(plan, src);
  assert.deepEqual(countTree(src), { ...planTotals(plan), others: 0 });
  const reference = path.join(dir, 'rsync');
  const candidate = path.join(dir, 'home-lab');
  for (const dst of [reference, candidate]) assert.equal(spawnSync('rsync', ['-a', '--delete', src + '/', dst + '/']).status, 0);
  // home-lab's manifest dir is not part of the mirror (the engine restores the root's mtime after it).
  const rootTimes = fs.statSync(candidate);
  fs.mkdirSync(path.join(candidate, '.home-lab'));
  fs.writeFileSync(path.join(candidate, '.home-lab', 'manifest.db'), 'not part of the mirror');
  fs.utimesSync(candidate, rootTimes.atime, rootTimes.mtime);
  const check = (touched = plan.files.slice(0, 0)) => verifyMirror({ plan, srcRoot: src, homeLabRoot: candidate, rsyncRoot: reference, touched, generation: 0 });
  assert.deepEqual(check(), []);

  // A change the "engine" got wrong: same size and mtime as the source, other bytes. Only reading
  // the bytes shows it.
  const content = new ContentWriter(plan.seed);
  const touched = modifyFiles(plan, src, 0, content);
  for (const dst of [reference, candidate]) assert.equal(spawnSync('rsync', ['-a', '--delete', '--exclude=/.home-lab', src + '/', dst + '/']).status, 0);
  assert.deepEqual(check(touched), []);
  const victim = touched.find((f) => f.sizeBytes > 8);
  assert.ok(victim, 'a modified file with bytes');
  const wrongCopy = path.join(candidate, victim.path);
  const { mtime } = fs.statSync(wrongCopy);
  fs.writeFileSync(wrongCopy, Buffer.alloc(victim.sizeBytes, 0x78));
  fs.utimesSync(wrongCopy, mtime, mtime);
  const problems = check(touched);
  assert.ok(problems.some((p) => p.includes(victim.path) && p.includes('content differs')), problems.join('\n'));

  // Deletions and additions not mirrored: counts and rsync -n both object.
  assert.equal(spawnSync('rsync', ['-a', '--delete', '--exclude=/.home-lab', src + '/', candidate + '/']).status, 0);
  assert.deepEqual(check(), []);
  deleteAndAdd(plan, src, 1, content);
  assert.equal(spawnSync('rsync', ['-a', '--delete', src + '/', reference + '/']).status, 0);
  const wrong = check();
  assert.ok(wrong.some((p) => p.includes("home-lab's destination holds")), wrong.join('\n'));
  assert.ok(wrong.some((p) => p.includes('rsync -n -a --delete -i finds')), wrong.join('\n'));
});

/** A bench killed mid-run leaves its tmpfs mounts behind: unmount them before removing the dir. */
function removeWithMounts(dir: string): void {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mount) => mount.startsWith(dir + '/'));
  for (const mount of mounts.reverse()) spawnSync('umount', [mount]);
  fs.rmSync(dir, { recursive: true, force: true });
}

function runBenchCli(t: { after: (fn: () => void) => void }, args: string[], env: NodeJS.ProcessEnv = process.env): BenchReport {
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build first`);
  const dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'home-lab-bench-cli-'));
  t.after(() => removeWithMounts(dir));
  const result = spawnSync(process.execPath, [CLI, 'bench', '--quick', '--json', '--dir', path.join(dir, 'work'), ...args], { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(result.status, 0, `bench failed:\n${result.stderr}`);
  assert.ok(!fs.existsSync(path.join(dir, 'work')), 'the work dir is removed without --keep');
  return JSON.parse(result.stdout) as BenchReport;
}

function assertShape(report: BenchReport, repetitions: number): void {
  assert.equal(report.version, 1);
  assert.equal(report.ok, true, report.failures.join('\n'));
  assert.ok(report.machine.cpuModel && report.machine.cores > 0 && report.machine.rsync.startsWith('rsync'));
  for (const result of report.results) {
    if (result.status === 'skipped') continue;
    assert.equal(result.status, 'ok', `${result.tree} ${result.scenario}: ${result.reason}`);
    assert.ok(result.ratio !== null && result.ratio > 0, `${result.tree} ${result.scenario} has a ratio`);
    for (const tool of [result.homeLab, result.rsync]) {
      assert.ok(tool, `${result.tree} ${result.scenario} has both tools`);
      assert.equal(tool.runs.length, repetitions);
      for (const key of ['seconds', 'cpuSeconds', 'filesPerSecond', 'peakRssBytes'] as const) {
        assert.ok(Number.isFinite(tool[key].median) && tool[key].min <= tool[key].median && tool[key].median <= tool[key].max, `${tool.tool} ${key}`);
      }
      assert.ok(tool.runs.every((run) => run.seconds > 0 && run.peakRssBytes > 0 && run.processes >= 1));
      assert.equal(tool.mbPerSecond === null, result.scenario === 'noop');
    }
  }
  const table = formatTable(report);
  const markdown = formatMarkdown(report);
  for (const result of report.results) assert.ok(table.includes(result.scenario) && markdown.includes(`| ${result.tree} | ${result.scenario} |`));
  assert.match(markdown, /## Machine[\s\S]*\| CPU \|[\s\S]*## Method/);
}

test('home-lab bench --quick --scale 0.01: every tree and scenario, both tools, real engine', (t) => {
  const report = runBenchCli(t, ['--scale', '0.01', '--repetitions', '1']);
  assert.equal(report.standIn, null);
  assert.deepEqual(report.trees.map((tree) => tree.name), [...TREE_NAMES]);
  assert.deepEqual(
    report.results.map((r) => `${r.tree}/${r.scenario}`),
    TREE_NAMES.flatMap((tree) => SCENARIO_NAMES.map((scenario) => `${tree}/${scenario}`)),
  );
  assert.ok(report.results.filter((r) => r.scenario !== 'scrub').every((r) => r.status === 'ok'));
  assertShape(report, 1);
});

test('repetitions alternate which tool goes first (stand-in engine, for speed)', (t) => {
  const report = runBenchCli(t, ['--scale', '0.02', '--repetitions', '3', '--trees', 'small', '--scenarios', 'noop,modify'], { ...process.env, HOME_LAB_BENCH_STANDIN: 'rsync' });
  assert.equal(report.standIn, 'rsync');
  assert.deepEqual(report.results.map((r) => r.scenario), ['noop', 'modify']);
  assertShape(report, 3);
  // Who goes first alternates across repetitions and carries on into the next scenario.
  assert.deepEqual(report.results.map((r) => r.homeLab?.runs.map((run) => run.order)), [[1, 2, 1], [2, 1, 2]]);
  assert.deepEqual(report.results.map((r) => r.rsync?.runs.map((run) => run.order)), [[2, 1, 2], [1, 2, 1]]);
  assert.match(formatTable(report), /STAND-IN/);
});

test('home-lab runs without NODE_EXTRA_CA_CERTS (start-up cost only); rsync and the rest of the environment are untouched', () => {
  const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', KEEP_ME: '1' };
  assert.deepEqual(homeLabEnv(env), { PATH: process.env.PATH, KEEP_ME: '1' });
  assert.equal(env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt', 'the caller\'s object is not changed');
  const tools = resolveTools({ packageRoot: findPackageRoot(), mirrorArgs: [], env });
  assert.equal(tools.homeLabMirror('/s', '/d').env?.NODE_EXTRA_CA_CERTS, undefined);
  assert.equal(tools.homeLabMirror('/s', '/d').env?.KEEP_ME, '1');
  assert.equal(tools.rsyncMirror('/s', '/d').env, undefined, 'rsync runs with the bench\'s own environment');
});
