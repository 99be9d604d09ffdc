// `home-lab bench`: flags -> BenchOptions -> runBench, with a progress bar on a TTY (plain lines
// otherwise), then the table, --json and --markdown. Exit code 0 unless a tool run failed or a mirror
// came out wrong.
import fs from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { ExitCode } from '../exit-codes.js';
import { FatalError } from '../../errors.js';
import { defaultBenchDir, runBench, type BenchEvent } from '../../../bench/run.js';
import { formatMarkdown, formatSeconds, formatTable } from '../../../bench/report.js';
import { TREE_NAMES, type TreeName } from '../../../bench/trees.js';
import { SCENARIO_NAMES, type ScenarioName } from '../../../bench/types.js';

interface BenchFlags {
  quick?: boolean;
  scale: string;
  trees?: string;
  scenarios?: string;
  repetitions: string;
  seed: string;
  dir?: string;
  keep?: boolean;
  tmpfs: boolean;
  json?: boolean;
  markdown?: string;
  mirrorArgs?: string;
}

export function parseList<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T[] {
  if (value === undefined || value === 'all') return [...allowed];
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(allowed as readonly string[]).includes(name));
  if (unknown.length || names.length === 0) {
    throw new FatalError(`${flag} ${value}: unknown ${unknown.join(', ') || '(empty list)'}; choose from ${allowed.join(',')} (or all)`, 'usage');
  }
  return allowed.filter((name) => names.includes(name));
}

function parseNumber(flag: string, value: string, check: (n: number) => boolean, what: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new FatalError(`${flag} ${value}: expected ${what}`, 'usage');
  return n;
}

export function register(program: Command, cli: Cli): void {
  program
    .command('bench')
    .description('measure home-lab mirror against rsync -a --delete on generated trees (tmpfs as root)')
    .option('--quick', 'a scaled-down set of trees that runs in about a minute')
    .option('--scale <factor>', 'multiply file counts (large: file sizes) by this', '1')
    .option('--trees <list>', `comma-separated: ${TREE_NAMES.join(',')} (default all)`)
    .option('--scenarios <list>', `comma-separated: ${SCENARIO_NAMES.join(',')} (default all)`)
    .option('--repetitions <n>', 'runs of each tool per scenario', '3')
    .option('--seed <n>', 'seed of the generated trees', '1')
    .option('--dir <path>', `work directory (default ${defaultBenchDir()})`)
    .option('--keep', 'keep the trees (and their tmpfs mounts) for the next run')
    .option('--no-tmpfs', 'do not mount a tmpfs per tree, even as root')
    .option('--json', 'print the report as JSON on stdout instead of the table')
    .option('--markdown <file>', 'also write a markdown report (machine, table, method) to FILE')
    .option('--mirror-args <args>', 'extra arguments for home-lab mirror, space-separated (e.g. "--jobs 3")')
    .action(async (flags: BenchFlags) => {
      const options = {
        dir: flags.dir ?? defaultBenchDir(),
        trees: parseList<TreeName>('--trees', flags.trees, TREE_NAMES),
        scenarios: parseList<ScenarioName>('--scenarios', flags.scenarios, SCENARIO_NAMES),
        quick: Boolean(flags.quick),
        scale: parseNumber('--scale', flags.scale, (n) => n > 0, 'a number above 0'),
        repetitions: parseNumber('--repetitions', flags.repetitions, (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1'),
        seed: parseNumber('--seed', flags.seed, (n) => Number.isInteger(n) && n >= 0, 'a whole number'),
        keep: Boolean(flags.keep),
        mountTmpfs: flags.tmpfs,
        mirrorArgs: (flags.mirrorArgs ?? '').split(/\s+/).filter(Boolean),
      };
      const display = cli.isTTY ? barDisplay() : lineDisplay(cli);
      const abort = new AbortController();
      const onSignal = (): void => abort.abort(new FatalError('interrupted: the trees were removed (unless --keep)'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let report;
      try {
        report = await runBench({ ...options, signal: abort.signal, onEvent: display.onEvent });
      } finally {
        display.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (flags.json) cli.out(JSON.stringify(report, null, 2));
      else cli.out(formatTable(report));
      if (flags.markdown) {
        fs.writeFileSync(flags.markdown, formatMarkdown(report));
        if (!flags.json) cli.out(`markdown report: ${flags.markdown}`);
      }
      if (!report.ok) cli.setExitCode(ExitCode.fatal);
    });
}

interface Display {
  onEvent(event: BenchEvent): void;
  stop(): void;
}

function runLine(event: Extract<BenchEvent, { kind: 'run' }>): string {
  const rssMiB = Math.max(event.run.sampledPeakRssBytes, event.run.mainHwmBytes) / 1024 / 1024;
  const outcome = event.run.ok ? `${formatSeconds(event.run.seconds)} s, ${rssMiB.toFixed(1)} MiB` : 'FAILED';
  return `[${event.done}/${event.total}] ${event.tree} ${event.scenario} #${event.repetition} ${event.tool}: ${outcome}`;
}

/** Off a TTY: one plain line per tree and per run, on stderr (stdout stays the table or JSON). */
function lineDisplay(cli: Cli): Display {
  return {
    onEvent(event) {
      switch (event.kind) {
        case 'tree':
          cli.err(`bench: tree ${event.info.name}: ${event.info.files} files, ${(event.info.bytes / 1e6).toFixed(0)} MB (${event.info.reused ? 'reused' : `generated in ${formatSeconds(event.info.generateSeconds)} s`})`);
          break;
        case 'run':
          cli.err(`bench: ${runLine(event)}`);
          break;
        case 'warning':
          cli.err(`bench: warning: ${event.message}`);
          break;
        default:
          break;
      }
    },
    stop() {},
  };
}

function barDisplay(): Display {
  const bar = new cliProgress.SingleBar(
    { format: 'bench [{bar}] {value}/{total} {duration_formatted} | {label}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const log = (line: string): void => {
    // Print above the bar: clear its line, write, let the next update redraw it.
    process.stderr.write(`\r\x1b[2K${line}\n`);
  };
  return {
    onEvent(event) {
      switch (event.kind) {
        case 'start':
          bar.start(event.totalSteps, 0, { label: 'starting' });
          started = true;
          break;
        case 'activity':
          bar.update(event.done, { label: event.label });
          break;
        case 'tree':
          bar.update(event.done, { label: `${event.info.name} ready` });
          break;
        case 'run':
          bar.update(event.done, { label: runLine(event) });
          break;
        case 'warning':
          log(`warning: ${event.message}`);
          break;
        case 'result':
          break;
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
