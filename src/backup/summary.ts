// Pure: the per-step summary the CLI prints at the end of `home-lab backup` (the notification body is
// issue 5's report-text.ts). Paths in the outcome are already escaped.
import type { BackupOutcome } from './outcome.js';
import { formatBytes } from '../units.js';

export { formatBytes };

const MAX_FAILURES_SHOWN = 10;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatSummary(o: BackupOutcome): string {
  const lines: string[] = [];
  const disk = o.disk ? ` to disk ${o.disk.name} (${o.disk.mountPoint}${o.disk.freeBytes !== null ? `, ${formatBytes(o.disk.freeBytes)} free` : ''})` : '';
  lines.push(`home-lab backup${o.dryRun ? ' (dry run: nothing stopped or changed)' : ''}: ${o.status.toUpperCase()}${disk} in ${seconds(o.finishedAtMs - o.startedAtMs)}`);
  const width = Math.max(10, ...o.steps.map((s) => s.name.length));
  for (const s of o.steps) {
    const copied = o.dryRun ? 'would copy' : 'copied';
    const deleted = o.dryRun ? 'would delete' : 'deleted';
    const numbers =
      s.filesCopied || s.filesDeleted || s.filesVerified || s.name.startsWith('service ') || s.name.startsWith('source ')
        ? `${copied} ${s.filesCopied} (${formatBytes(s.bytesCopied)}), ${deleted} ${s.filesDeleted} (${formatBytes(s.bytesDeleted)}), verified ${s.filesVerified}`
        : '';
    lines.push(`  ${s.name.padEnd(width)}  ${s.status.padEnd(7)}  ${seconds(s.durationMs).padStart(8)}  ${numbers}`.trimEnd());
    for (const n of s.notes) lines.push(`  ${' '.repeat(width)}    ${n}`);
    for (const f of s.failures.slice(0, MAX_FAILURES_SHOWN)) lines.push(`  ${' '.repeat(width)}    FAILED ${f.path}: ${f.error}`);
    if (s.failures.length > MAX_FAILURES_SHOWN) lines.push(`  ${' '.repeat(width)}    ... and ${s.failures.length - MAX_FAILURES_SHOWN} more failed paths`);
  }
  if (o.coverage) {
    lines.push(
      `manifest: ${o.coverage.rows} files, ${(o.coverage.verifiedShare100d * 100).toFixed(1)} % verified in the last 100 days, ${o.coverage.neverVerified} never verified`,
    );
  }
  if (o.corruptFound > 0) lines.push(`CORRUPT copies found: ${o.corruptFound}`);
  if (o.errors.length > 0) {
    lines.push('errors:');
    for (const e of o.errors) lines.push(`  ${e}`);
  }
  return lines.join('\n');
}
