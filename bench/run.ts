// `home-lab bench`: per tree, generate (or reuse) the source on its own tmpfs, then run every
// scenario (scenario.ts) with both tools, and gather the report.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FatalError } from '../src/errors.js';
import { ContentWriter, isReusable, planTotals, planTree, treeSignature, writeMarker, writeTree, type TreePlan } from './generate.js';
import { describeMachine } from './machine.js';
import { Progress, runScenario, type BenchEvent, type TreeContext } from './scenario.js';
import { findPackageRoot, resolveTools } from './tools.js';
import { treeSpec, type TreeName } from './trees.js';
import { SCENARIO_NAMES, type BenchReport, type BenchSettings, type ScenarioResult, type TreeInfo } from './types.js';
import { prepareTreeDir, removeTree, treeBytesNeeded } from './workdir.js';

export interface BenchOptions extends BenchSettings {
  /** Leave the trees (and their tmpfs mounts) in place for the next run. */
  keep: boolean;
  /** Mount a tmpfs per tree when root (default true). */
  mountTmpfs: boolean;
  signal?: AbortSignal;
  onEvent?: (event: BenchEvent) => void;
  env?: NodeJS.ProcessEnv;
}

export type { BenchEvent } from './scenario.js';

export function defaultBenchDir(): string {
  return path.join(os.tmpdir(), 'home-lab-bench');
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  if (options.repetitions < 1) throw new FatalError('--repetitions must be at least 1', 'usage');
  if (!(options.scale > 0)) throw new FatalError('--scale must be a number above 0', 'usage');
  const emit = options.onEvent ?? (() => {});
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    emit({ kind: 'warning', message });
  };
  const startedAt = new Date().toISOString();
  const loadAtStart = os.loadavg()[0] ?? 0;
  if (loadAtStart > os.availableParallelism()) {
    warn(`the machine is busy (load ${loadAtStart.toFixed(1)} on ${os.availableParallelism()} cores): wall times are unreliable; compare CPU seconds, or rerun when it is idle`);
  }
  const packageRoot = findPackageRoot();
  const tools = resolveTools({ packageRoot, mirrorArgs: options.mirrorArgs, ...(options.env ? { env: options.env } : {}) });
  if (tools.standIn) warn(`STAND-IN: "home-lab" is ${tools.mirrorCommand} (harness testing only): these are not home-lab's numbers`);
  const scenarios = SCENARIO_NAMES.filter((s) => options.scenarios.includes(s));
  const progress = new Progress(options.trees.length * (1 + scenarios.length * options.repetitions * 2), emit);
  emit({ kind: 'start', totalSteps: progress.total });
  fs.mkdirSync(options.dir, { recursive: true });

  const trees: TreeInfo[] = [];
  const turns = { count: 0 };
  const results: ScenarioResult[] = [];
  const failures: string[] = [];
  for (const name of options.trees) {
    const spec = treeSpec(name, options);
    const treeDir = prepareTreeDir(path.join(options.dir, name), treeBytesNeeded(spec, options.repetitions), { mountTmpfs: options.mountTmpfs, warn });
    try {
      const ctx = await prepareTree(name, spec, treeDir.dir, options.seed, progress, options.signal);
      const info: TreeInfo = { name, ...planTotals(ctx.plan), reused: ctx.reused, generateSeconds: ctx.seconds, fs: treeDir.kind, dir: treeDir.dir };
      trees.push(info);
      progress.done++;
      emit({ kind: 'tree', info, done: progress.done, total: progress.total });
      let synced = false;
      for (const scenario of scenarios) {
        const result = await runScenario(ctx.tree, scenario, { tools, options, progress, emit, synced, turns });
        results.push(result);
        emit({ kind: 'result', result });
        if (result.status === 'failed') failures.push(`${name} ${scenario}: ${result.reason ?? 'failed'}${result.problems.length ? `: ${result.problems.join('; ')}` : ''}`);
        // A failed scenario leaves the destinations in an unknown state: the next one re-syncs them.
        synced = result.status !== 'failed';
        options.signal?.throwIfAborted();
      }
    } finally {
      treeDir.release(options.keep);
    }
  }
  if (!options.keep) {
    try {
      fs.rmdirSync(options.dir);
    } catch {
      // Not empty (the user's own files) or already gone: leave it.
    }
  }
  return {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: describeMachine(packageRoot),
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] ?? 0 },
    options: {
      trees: options.trees,
      scenarios,
      quick: options.quick,
      scale: options.scale,
      repetitions: options.repetitions,
      seed: options.seed,
      dir: options.dir,
      mirrorArgs: options.mirrorArgs,
    },
    standIn: tools.standIn,
    mirrorCommand: tools.mirrorCommand,
    scrubCommand: tools.scrubCommand,
    trees,
    results,
    failures,
    warnings,
    ok: failures.length === 0,
  };
}

async function prepareTree(
  name: TreeName,
  spec: ReturnType<typeof treeSpec>,
  treeDir: string,
  seed: number,
  progress: Progress,
  signal: AbortSignal | undefined,
): Promise<{ tree: TreeContext; reused: boolean; seconds: number; plan: TreePlan }> {
  const plan = planTree(spec, seed);
  const src = path.join(treeDir, 'src');
  const signature = treeSignature(spec, seed);
  const startMs = performance.now();
  const reused = isReusable(treeDir, signature);
  if (!reused) {
    const totals = planTotals(plan);
    progress.activity(`${name}: generating ${totals.files} files, ${(totals.bytes / 1e6).toFixed(0)} MB`);
    writeMarker(treeDir, { signature, state: 'mutated' });
    removeTree(src);
    await writeTree(plan, src, () => signal?.throwIfAborted());
    writeMarker(treeDir, { signature, state: 'pristine' });
  }
  const tree: TreeContext = {
    name,
    plan,
    src,
    treeDir,
    homeLabDst: path.join(treeDir, 'dst-home-lab'),
    rsyncDst: path.join(treeDir, 'dst-rsync'),
    content: new ContentWriter(seed),
    generation: 0,
    mutated: false,
  };
  return { tree, reused, seconds: (performance.now() - startMs) / 1000, plan };
}
