// The shape of a bench report: what --json prints and what report.ts formats. Version it: the README
// table and CI read it.
import type { TreeName } from './trees.js';
import type { TreeFsKind } from './workdir.js';

export const SCENARIO_NAMES = ['initial', 'noop', 'modify', 'delete-add', 'scrub'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];
export type ToolName = 'home-lab' | 'rsync';

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface RunRecord {
  repetition: number;
  /** 1 when this tool ran first in its repetition, 2 when second (the tools alternate). */
  order: 1 | 2;
  seconds: number;
  /** User + system CPU of the tool's processes. */
  cpuSeconds: number;
  /** max(sampledPeakRssBytes, mainHwmBytes): what the table shows. */
  peakRssBytes: number;
  sampledPeakRssBytes: number;
  mainHwmBytes: number;
  hwmSumBytes: number;
  samples: number;
  processes: number;
}

export interface ToolResult {
  tool: ToolName;
  /** The command line, with the tree's paths. */
  command: string;
  runs: RunRecord[];
  seconds: Spread;
  cpuSeconds: Spread;
  filesPerSecond: Spread;
  /** null when the scenario moves no bytes (no-op). */
  mbPerSecond: Spread | null;
  peakRssBytes: Spread;
}

export interface ScenarioResult {
  tree: TreeName;
  scenario: ScenarioName;
  status: 'ok' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  reason?: string;
  /** Files in the tree: each tool examines all of them. */
  files: number;
  /** Bytes the scenario copies (initial: all; modify, delete-add: the changed files) or reads (scrub). */
  bytes: number;
  homeLab: ToolResult | null;
  rsync: ToolResult | null;
  /** median(home-lab seconds) / median(rsync seconds); lower is better. */
  ratio: number | null;
  /** Verification findings (a mismatch fails the scenario). */
  problems: string[];
  /** The end of the failing tool's stderr (up to 4 KiB), when a run failed. */
  stderrTail?: string;
}

export interface TreeInfo {
  name: TreeName;
  files: number;
  dirs: number;
  bytes: number;
  /** Reused from an earlier --keep run instead of generated. */
  reused: boolean;
  generateSeconds: number;
  fs: TreeFsKind;
  dir: string;
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  os: string;
  node: string;
  rsync: string;
  homeLab: string;
}

/** What a bench run was asked to measure: part of its options, repeated in its report. */
export interface BenchSettings {
  /** Work directory; each tree gets a subdirectory (a tmpfs mount as root). */
  dir: string;
  trees: TreeName[];
  scenarios: ScenarioName[];
  quick: boolean;
  scale: number;
  repetitions: number;
  seed: number;
  /** Extra arguments for `home-lab mirror` (tuning experiments, e.g. --jobs 3). */
  mirrorArgs: string[];
}

export interface BenchReport {
  version: 1;
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  /** 1-minute load average when the run started and ended: above the core count, timings are noise. */
  loadAverage: { start: number; end: number };
  options: BenchSettings;
  /** Set when HOME_LAB_BENCH_STANDIN replaced home-lab (harness testing only: results are not home-lab's). */
  standIn: string | null;
  /** How the mirror scenarios run home-lab (paths as SRC and DST). */
  mirrorCommand: string;
  /** How home-lab's scrub scenario was run, or null when this build has neither verify nor scrub. */
  scrubCommand: string | null;
  trees: TreeInfo[];
  results: ScenarioResult[];
  /** Every failure, one line each: a failed tool run or a wrong mirror. */
  failures: string[];
  warnings: string[];
  ok: boolean;
}
