// One scenario of `home-lab bench` on one tree: prepare each repetition identically for both tools,
// run them in alternating order, verify home-lab's mirror against rsync's, summarize.
//
// Fairness: each tool has its own destination (dst-home-lab, dst-rsync). Before a repetition both
// are in the same state: emptied (initial), or both mirrors of the same source which was then changed
// the same way (modify, delete-add), or left alone (noop, scrub). home-lab's destination also holds
// its manifest (.home-lab/), which is part of what its runs cost and is excluded from comparisons.
import fs from 'node:fs';
import { planTotals, treeSignature, writeMarker, type ContentWriter, type PlannedFile, type TreePlan } from './generate.js';
import { deleteAndAdd, modifyFiles } from './mutate.js';
import { runMeasured, type MeasuredRun } from './measure.js';
import { rateSpread, spread } from './stats.js';
import type { ToolCommand, Tools } from './tools.js';
import type { TreeName } from './trees.js';
import type { RunRecord, ScenarioName, ScenarioResult, ToolName, ToolResult, TreeInfo } from './types.js';
import { verifyMirror } from './verify.js';
import { removeTree } from './workdir.js';
import type { BenchOptions } from './run.js';

export type BenchEvent =
  | { kind: 'start'; totalSteps: number }
  | { kind: 'activity'; label: string; done: number; total: number }
  | { kind: 'tree'; info: TreeInfo; done: number; total: number }
  | { kind: 'run'; tree: TreeName; scenario: ScenarioName; tool: ToolName; repetition: number; run: MeasuredRun; done: number; total: number }
  | { kind: 'warning'; message: string }
  | { kind: 'result'; result: ScenarioResult };

export interface TreeContext {
  name: TreeName;
  plan: TreePlan;
  src: string;
  homeLabDst: string;
  rsyncDst: string;
  treeDir: string;
  content: ContentWriter;
  /** Counts source mutations, so each one picks different files. */
  generation: number;
  mutated: boolean;
}

export class Progress {
  done = 0;
  constructor(
    readonly total: number,
    private readonly emit: (event: BenchEvent) => void,
  ) {}
  activity(label: string): void {
    this.emit({ kind: 'activity', label, done: this.done, total: this.total });
  }
}

export interface ScenarioContext {
  tools: Tools;
  options: BenchOptions;
  progress: Progress;
  emit: (event: BenchEvent) => void;
  /** Both destinations are known mirrors of the current source. */
  synced: boolean;
  /** Repetitions run so far in the whole bench: who goes first alternates across scenarios too. */
  turns: { count: number };
}

function commandFor(tools: Tools, tool: ToolName, scenario: ScenarioName, tree: TreeContext): ToolCommand | null {
  const dst = tool === 'home-lab' ? tree.homeLabDst : tree.rsyncDst;
  if (scenario === 'scrub') return tool === 'home-lab' ? tools.homeLabScrub(tree.src, dst) : tools.rsyncScrub(tree.src, dst);
  return tool === 'home-lab' ? tools.homeLabMirror(tree.src, dst) : tools.rsyncMirror(tree.src, dst);
}

function describe(command: ToolCommand, tree: TreeContext): string {
  const shown = command.program === process.execPath ? ['home-lab', ...command.args.slice(1)] : [command.program, ...command.args];
  return shown.map((arg) => arg.split(tree.treeDir).join('TREE')).join(' ');
}

function emptyResult(tree: TreeContext, scenario: ScenarioName, status: ScenarioResult['status'], reason: string, problems: string[] = []): ScenarioResult {
  return { tree: tree.name, scenario, status, reason, files: tree.plan.files.length, bytes: 0, homeLab: null, rsync: null, ratio: null, problems };
}

/** Untimed: makes both destinations mirrors of the source (for scenarios run without `initial`). */
async function syncBoth(tree: TreeContext, ctx: ScenarioContext): Promise<{ problem: string; stderrTail?: string } | null> {
  for (const tool of ['home-lab', 'rsync'] as const) {
    ctx.progress.activity(`${tree.name}: preparing ${tool}'s destination (untimed)`);
    fs.mkdirSync(tool === 'home-lab' ? tree.homeLabDst : tree.rsyncDst, { recursive: true });
    const command = tool === 'home-lab' ? ctx.tools.homeLabMirror(tree.src, tree.homeLabDst) : ctx.tools.rsyncMirror(tree.src, tree.rsyncDst);
    const run = await runMeasured(command.program, command.args, { ...(ctx.options.signal ? { signal: ctx.options.signal } : {}), env: command.env ?? ctx.options.env ?? process.env });
    if (!run.ok) return { problem: `${describe(command, tree)} failed while preparing: ${runError(run)}`, stderrTail: run.stderrTail };
  }
  const problems = verifyMirror({ plan: tree.plan, srcRoot: tree.src, homeLabRoot: tree.homeLabDst, rsyncRoot: tree.rsyncDst, touched: [], generation: -1 });
  return problems.length ? { problem: `the prepared destinations differ: ${problems.join('; ')}` } : null;
}

/** Why a run failed, in one line: the tool's own error line when it printed one. */
export function runError(run: Pick<MeasuredRun, 'error' | 'code' | 'stderrTail'>): string {
  if (run.error) return run.error;
  const lines = run.stderrTail.split('\n').map((line) => line.trim()).filter(Boolean);
  const said = lines.find((line) => /^(home-lab:|rsync error|rsync:|error:?\b)/i.test(line)) ?? lines.find((line) => /error/i.test(line)) ?? lines[lines.length - 1];
  return `exit code ${run.code}${said ? `: ${said}` : ''}`;
}

export async function runScenario(tree: TreeContext, scenario: ScenarioName, ctx: ScenarioContext): Promise<ScenarioResult> {
  const reps = ctx.options.repetitions;
  const skipSteps = (): void => {
    ctx.progress.done += reps * 2;
  };
  const homeLabCommand = commandFor(ctx.tools, 'home-lab', scenario, tree);
  if (!homeLabCommand) {
    skipSteps();
    return emptyResult(tree, scenario, 'skipped', 'this build of home-lab has neither `verify` nor `scrub --percent`');
  }
  if (scenario !== 'initial' && !ctx.synced) {
    const failed = await syncBoth(tree, ctx);
    if (failed) {
      skipSteps();
      return { ...emptyResult(tree, scenario, 'failed', failed.problem), ...(failed.stderrTail ? { stderrTail: failed.stderrTail } : {}) };
    }
  }
  const runs: Record<ToolName, RunRecord[]> = { 'home-lab': [], rsync: [] };
  const bytesPerRep: number[] = [];
  const commands: Partial<Record<ToolName, string>> = {};
  for (let rep = 0; rep < reps; rep++) {
    ctx.progress.activity(`${tree.name} · ${scenario} · ${rep + 1}/${reps}: preparing`);
    const touched = prepareRepetition(tree, scenario);
    bytesPerRep.push(scenarioBytes(tree, scenario, touched));
    const order: ToolName[] = ctx.turns.count++ % 2 === 0 ? ['home-lab', 'rsync'] : ['rsync', 'home-lab'];
    for (const [position, tool] of order.entries()) {
      const command = commandFor(ctx.tools, tool, scenario, tree);
      if (!command) throw new Error('unreachable: rsync always has a command');
      commands[tool] = describe(command, tree);
      ctx.progress.activity(`${tree.name} · ${scenario} · ${rep + 1}/${reps} · ${tool}`);
      const run = await runMeasured(command.program, command.args, { ...(ctx.options.signal ? { signal: ctx.options.signal } : {}), env: command.env ?? ctx.options.env ?? process.env });
      ctx.progress.done++;
      ctx.emit({ kind: 'run', tree: tree.name, scenario, tool, repetition: rep + 1, run, done: ctx.progress.done, total: ctx.progress.total });
      ctx.options.signal?.throwIfAborted();
      if (!run.ok) {
        ctx.progress.done += (reps - rep) * 2 - position - 1;
        return {
          ...emptyResult(tree, scenario, 'failed', `${tool} failed (repetition ${rep + 1}): \`${describe(command, tree)}\`: ${runError(run)}`),
          stderrTail: run.stderrTail,
        };
      }
      runs[tool].push({
        repetition: rep + 1,
        order: position === 0 ? 1 : 2,
        seconds: run.seconds,
        cpuSeconds: run.userSeconds + run.systemSeconds,
        peakRssBytes: Math.max(run.sampledPeakRssBytes, run.mainHwmBytes),
        sampledPeakRssBytes: run.sampledPeakRssBytes,
        mainHwmBytes: run.mainHwmBytes,
        hwmSumBytes: run.hwmSumBytes,
        samples: run.samples,
        processes: run.processes,
      });
    }
    ctx.progress.activity(`${tree.name} · ${scenario} · ${rep + 1}/${reps}: verifying home-lab's mirror`);
    const problems = verifyMirror({ plan: tree.plan, srcRoot: tree.src, homeLabRoot: tree.homeLabDst, rsyncRoot: tree.rsyncDst, touched, generation: tree.generation * 1000 + rep });
    if (problems.length) {
      ctx.progress.done += (reps - rep - 1) * 2;
      return { ...emptyResult(tree, scenario, 'failed', `home-lab's mirror is wrong after repetition ${rep + 1}`, problems) };
    }
  }
  const files = tree.plan.files.length;
  const homeLab = summarize('home-lab', commands['home-lab'] ?? '', runs['home-lab'], files, bytesPerRep);
  const rsync = summarize('rsync', commands.rsync ?? '', runs.rsync, files, bytesPerRep);
  return {
    tree: tree.name,
    scenario,
    status: 'ok',
    files,
    bytes: Math.round(spread(bytesPerRep).median),
    homeLab,
    rsync,
    ratio: homeLab.seconds.median / rsync.seconds.median,
    problems: [],
  };
}

/** Untimed changes before one repetition; returns the files whose bytes must be checked after it. */
function prepareRepetition(tree: TreeContext, scenario: ScenarioName): PlannedFile[] {
  switch (scenario) {
    case 'initial':
      for (const dst of [tree.homeLabDst, tree.rsyncDst]) {
        removeTree(dst);
        fs.mkdirSync(dst);
      }
      return [];
    case 'noop':
    case 'scrub':
      return [];
    case 'modify':
    case 'delete-add': {
      if (!tree.mutated) {
        // From now on src/ is no longer what the seed generates: a later --keep run regenerates it.
        writeMarker(tree.treeDir, { signature: treeSignature(tree.plan.spec, tree.plan.seed), state: 'mutated' });
        tree.mutated = true;
      }
      const generation = tree.generation++;
      return scenario === 'modify' ? modifyFiles(tree.plan, tree.src, generation, tree.content) : deleteAndAdd(tree.plan, tree.src, generation, tree.content).added;
    }
  }
}

/** Bytes a repetition must move (or, for scrub, read from the mirror): the MB/s numerator. */
function scenarioBytes(tree: TreeContext, scenario: ScenarioName, touched: readonly PlannedFile[]): number {
  switch (scenario) {
    case 'initial':
    case 'scrub':
      return planTotals(tree.plan).bytes;
    case 'noop':
      return 0;
    case 'modify':
    case 'delete-add':
      return touched.reduce((sum, file) => sum + file.sizeBytes, 0);
  }
}

function summarize(tool: ToolName, command: string, runs: RunRecord[], files: number, bytesPerRep: number[]): ToolResult {
  const seconds = runs.map((r) => r.seconds);
  const moved = bytesPerRep.some((b) => b > 0);
  return {
    tool,
    command,
    runs,
    seconds: spread(seconds),
    cpuSeconds: spread(runs.map((r) => r.cpuSeconds)),
    filesPerSecond: rateSpread(files, seconds),
    mbPerSecond: moved ? spread(runs.map((r, i) => (bytesPerRep[i] ?? 0) / 1e6 / r.seconds)) : null,
    peakRssBytes: spread(runs.map((r) => r.peakRssBytes)),
  };
}
