// Pure formatting of a BenchReport: the terminal table and the markdown report (the JSON is the
// report object itself). No I/O.
import { RSYNC_MIRROR_ARGS, RSYNC_SCRUB_ARGS, STRIPPED_ENV } from './tools.js';
import type { BenchReport, ScenarioResult, Spread, ToolResult } from './types.js';

const MiB = 1024 * 1024;

export function formatSeconds(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value < 1) return value.toFixed(3);
  if (value < 10) return value.toFixed(2);
  return value.toFixed(1);
}

function formatCount(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return Math.round(value).toLocaleString('en-US');
}

function formatRate(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US');
}

function secondsCell(spreadSeconds: Spread | undefined): string {
  if (!spreadSeconds) return '-';
  return `${formatSeconds(spreadSeconds.median)} (${formatSeconds(spreadSeconds.min)}–${formatSeconds(spreadSeconds.max)})`;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? '-' : (bytes / MiB).toFixed(1);
}

const HEADERS = [
  'tree',
  'scenario',
  'files',
  'MB',
  'home-lab s (min–max)',
  'rsync s (min–max)',
  'ratio',
  'home-lab files/s',
  'rsync files/s',
  'home-lab MB/s',
  'rsync MB/s',
  'home-lab CPU s',
  'rsync CPU s',
  'home-lab RSS MiB',
  'rsync RSS MiB',
];
/** Numeric columns are right-aligned. */
const RIGHT = [false, false, true, true, true, true, true, true, true, true, true, true, true, true, true];

function row(result: ScenarioResult): string[] {
  const h: ToolResult | null = result.homeLab;
  const r: ToolResult | null = result.rsync;
  const ratio = result.status === 'ok' && result.ratio !== null ? result.ratio.toFixed(2) : result.status.toUpperCase();
  return [
    result.tree,
    result.scenario,
    formatCount(result.files),
    result.bytes > 0 ? formatRate(result.bytes / 1e6) : '-',
    secondsCell(h?.seconds),
    secondsCell(r?.seconds),
    ratio,
    formatCount(h?.filesPerSecond.median ?? NaN),
    formatCount(r?.filesPerSecond.median ?? NaN),
    formatRate(h?.mbPerSecond?.median ?? NaN),
    formatRate(r?.mbPerSecond?.median ?? NaN),
    formatSeconds(h?.cpuSeconds.median ?? NaN),
    formatSeconds(r?.cpuSeconds.median ?? NaN),
    mib(h?.peakRssBytes.max),
    mib(r?.peakRssBytes.max),
  ];
}

/** The results as an aligned text table for the terminal, with failures and warnings below it. */
export function formatTable(report: BenchReport): string {
  const rows = [HEADERS, ...report.results.map(row)];
  const widths = HEADERS.map((_, col) => Math.max(...rows.map((cells) => (cells[col] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((cell, col) => (RIGHT[col] ? cell.padStart(widths[col] ?? 0) : cell.padEnd(widths[col] ?? 0))).join('  ').trimEnd();
  const out = [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  out.push('', `ratio = median home-lab seconds / median rsync seconds (lower is better); ${report.options.repetitions} repetitions, tools alternating.`);
  out.push(`load average ${report.loadAverage.start.toFixed(1)} at the start, ${report.loadAverage.end.toFixed(1)} at the end, on ${report.machine.cores} cores.`);
  out.push(...notes(report));
  return out.join('\n');
}

function notes(report: BenchReport): string[] {
  const lines: string[] = [];
  for (const result of report.results) {
    if (result.status === 'skipped') lines.push(`skipped ${result.tree} ${result.scenario}: ${result.reason ?? ''}`);
  }
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  for (const failure of report.failures) lines.push(`FAILED ${failure}`);
  return lines;
}

function markdownTable(headers: string[], rows: string[][], right: boolean[]): string[] {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  return [
    `| ${headers.map(escape).join(' | ')} |`,
    `|${headers.map((_, i) => (right[i] ? '---:' : '---')).join('|')}|`,
    ...rows.map((cells) => `| ${cells.map(escape).join(' | ')} |`),
  ];
}

/** The measurement method, as the report states it. */
export function methodLines(report: BenchReport): string[] {
  return [
    `Trees are generated deterministically from seed ${report.options.seed} (sizes, names, modes, mtimes, bytes) and reused across scenarios; ` +
      'each lives on its own tmpfs when bench runs as root (see "filesystem" above), so neither the page cache nor a disk is measured.',
    `home-lab runs from this build (node dist/src/cli/main.js) as \`${report.mirrorCommand}\`; ` +
      `rsync as \`rsync ${RSYNC_MIRROR_ARGS.join(' ')} SRC/ DST/\`. Each tool has its own destination; before every repetition both are in the same state. ` +
      `home-lab's environment is the bench's without ${STRIPPED_ENV.join(', ')} (a sandbox setting that makes every Node start parse a certificate bundle, ~0.1 s here; a systemd unit does not have it).`,
    'Scenarios: initial = copy into an empty destination; noop = rerun with nothing changed; modify = 1 % of the files rewritten with new bytes ' +
      'of the same length and a later mtime; delete-add = 1 % of the files deleted and as many new ones added; ' +
      `scrub = \`${report.scrubCommand ?? 'home-lab verify/scrub (not available in this build)'}\` (re-reads the mirror against its manifest) against ` +
      `\`rsync ${RSYNC_SCRUB_ARGS.join(' ')} SRC/ DST/\` on the unchanged mirror (rsync reads both sides).`,
    `Each scenario runs ${report.options.repetitions} repetitions; the tools alternate which goes first (across scenarios too, so with an odd count neither always leads). Times are wall-clock from spawn to exit, ` +
      'node start-up included. The table gives the median and min–max; rates are per run (files in the tree / s; bytes copied, or read by scrub, / s), medians shown. ' +
      'CPU s is user + system time of the tool and all its processes (the cutime/cstime the kernel credits when they are reaped): ' +
      'on a busy machine it moves far less than wall time.',
    'Peak RSS: /proc of the tool\'s process tree is sampled every 10 ms and VmRSS summed over all its processes (rsync forks a receiver and a generator: ' +
      'all counted; node\'s worker threads are one process); the figure is the larger of that sampled peak and the main process\'s VmHWM as last read ' +
      '(the kernel\'s high-water mark, which also catches peaks between samples); the table shows the highest over repetitions.',
    'After every repetition home-lab\'s destination is verified: its file count, dir count and total bytes must equal the source\'s, ' +
      '`rsync -n -a --delete -i` from rsync\'s destination to home-lab\'s must find nothing to change (names, types, sizes, mtimes to the ns, modes, owners; ' +
      'home-lab\'s .home-lab/ excluded), and the bytes of every file just changed plus 32 random files must equal the source\'s. A failed run or a wrong mirror fails the scenario.',
  ];
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / MiB).toFixed(0)} MiB`;
}

/** The whole report as markdown: machine, trees, results, method, failures. */
export function formatMarkdown(report: BenchReport): string {
  const m = report.machine;
  const o = report.options;
  const out: string[] = [
    '# home-lab bench',
    '',
    `${report.startedAt} · ${o.quick ? '--quick' : 'full trees'} · --scale ${o.scale} · ${o.repetitions} repetitions · seed ${o.seed}` +
      (o.mirrorArgs.length ? ` · mirror args \`${o.mirrorArgs.join(' ')}\`` : ''),
    '',
  ];
  if (report.standIn) out.push(`**STAND-IN: "home-lab" was ${report.standIn} (HOME_LAB_BENCH_STANDIN); these are not home-lab's numbers.**`, '');
  out.push('## Machine', '');
  out.push(
    ...markdownTable(
      ['', ''],
      [
        ['CPU', m.cpuModel],
        ['cores', String(m.cores)],
        ['memory', formatBytes(m.memoryBytes)],
        ['kernel', m.kernel],
        ['OS', m.os],
        ['node', m.node],
        ['rsync', m.rsync],
        ['home-lab', m.homeLab],
        ['load average (1 min)', `${report.loadAverage.start.toFixed(1)} at the start, ${report.loadAverage.end.toFixed(1)} at the end`],
      ],
      [false, false],
    ),
  );
  out.push('', '## Trees', '');
  out.push(
    ...markdownTable(
      ['tree', 'files', 'dirs', 'MB', 'filesystem', 'generated'],
      report.trees.map((t) => [t.name, formatCount(t.files), formatCount(t.dirs), formatRate(t.bytes / 1e6), t.fs === 'plain' ? 'disk (not tmpfs)' : 'tmpfs', t.reused ? 'reused' : `${formatSeconds(t.generateSeconds)} s`]),
      [false, true, true, true, false, false],
    ),
  );
  out.push('', '## Results', '');
  out.push(...markdownTable(HEADERS, report.results.map(row), RIGHT));
  out.push('', 'ratio = median home-lab seconds / median rsync seconds: lower is better, below 1 is faster than rsync.');
  const extra = notes(report);
  if (extra.length) out.push('', ...extra.map((line) => `- ${line}`));
  for (const result of report.results) {
    if (!result.stderrTail) continue;
    out.push('', `<details><summary>stderr of the failed run: ${result.tree} ${result.scenario}</summary>`, '', '```', result.stderrTail, '```', '', '</details>');
  }
  out.push('', '## Method', '', ...methodLines(report).map((line) => `- ${line}`), '');
  return out.join('\n');
}
