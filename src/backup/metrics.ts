// The Prometheus textfile-collector file: rendered (pure) from the run state, so every disk keeps
// its last numbers between runs (only one disk is used per night), and replaced atomically so
// node_exporter never reads half a file. Alert rules: monitoring/home-lab.rules.yml.
//
// Timestamps are Unix seconds; 0 means "never". Per-run numbers describe the last run on that disk.
import type { RunState } from './state.js';
import type { RunStatus } from './outcome.js';
import { writeFileAtomicSync } from './atomic-file.js';

const PREFIX = 'home_lab_backup_';

interface Family {
  name: string;
  help: string;
  samples: { labels: Record<string, string>; value: number }[];
}

const STATUSES: RunStatus[] = ['ok', 'partial', 'refused', 'fatal', 'busy'];

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function renderMetrics(state: RunState, options: { rotationDays: Record<string, number>; nowMs: number }): string {
  const families = new Map<string, Family>();
  const add = (name: string, help: string, labels: Record<string, string>, value: number) => {
    let family = families.get(name);
    if (!family) {
      family = { name: PREFIX + name, help, samples: [] };
      families.set(name, family);
    }
    family.samples.push({ labels, value });
  };
  const seconds = (ms: number | null) => (ms === null ? 0 : ms / 1000);

  const diskNames = [...new Set([...Object.keys(state.disks), ...Object.keys(options.rotationDays)])].sort();
  for (const disk of diskNames) {
    const l = { disk };
    const record = state.disks[disk];
    const rotation = options.rotationDays[disk];
    add('last_attempt_timestamp_seconds', 'Start of the last backup attempt to this disk (0: never).', l, seconds(record?.lastAttemptAtMs ?? null));
    add('last_success_timestamp_seconds', 'End of the last fully successful backup to this disk (0: never).', l, seconds(record?.lastSuccessAtMs ?? null));
    if (rotation !== undefined) add('disk_rotation_seconds', 'Configured longest time between two successful backups to this disk.', l, rotation * 86400);
    if (!record) continue;
    const r = record.lastRun;
    add('last_run_ok', 'Whether the last run on this disk succeeded (1) or not (0).', l, record.lastStatus === 'ok' ? 1 : 0);
    add('last_run_duration_seconds', 'Duration of the last run on this disk.', l, r.durationMs / 1000);
    add('last_run_files_copied', 'Files copied by the last run on this disk.', l, r.filesCopied);
    add('last_run_bytes_copied', 'Bytes copied by the last run on this disk.', l, r.bytesCopied);
    add('last_run_files_deleted', 'Files deleted from the mirror by the last run on this disk.', l, r.filesDeleted);
    add('last_run_bytes_deleted', 'Bytes deleted from the mirror by the last run on this disk.', l, r.bytesDeleted);
    add('last_run_errors', 'Errors (failed files or run-level errors) of the last run on this disk.', l, r.errors);
    add('last_run_files_verified', 'Files re-hashed and compared by the last run on this disk.', l, r.filesVerified);
    add('last_run_corrupt_found', 'Corrupt backup files found by the last run on this disk.', l, r.corruptFound);
    if (record.freeBytes !== null) add('disk_free_bytes', 'Free bytes on the backup disk at the end of its last run.', l, record.freeBytes);
    if (record.coverage) {
      add('verified_share_100d', 'Share (0..1) of the files on this disk verified in the last 100 days.', l, record.coverage.verifiedShare100d);
      add('oldest_verification_timestamp_seconds', 'Oldest last-verification among the verified files on this disk (0: none verified).', l, seconds(record.coverage.oldestVerifiedAtMs));
      add('files_never_verified', 'Files on this disk never verified since they were copied.', l, record.coverage.neverVerified);
      add('manifest_files', 'Files in the manifest of this disk.', l, record.coverage.rows);
    }
  }
  if (state.lastRun) {
    add('last_run_timestamp_seconds', 'End of the last run, whatever disk it used (or none).', {}, seconds(state.lastRun.finishedAtMs));
    for (const status of STATUSES) {
      add('last_run_status', 'Outcome of the last run, whatever disk it used: 1 for its status, 0 for the others.', { status }, state.lastRun.status === status ? 1 : 0);
    }
  }
  add('metrics_written_timestamp_seconds', 'When home-lab wrote this file.', {}, options.nowMs / 1000);

  const out: string[] = [];
  for (const family of families.values()) {
    out.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
      out.push(`${family.name}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${formatValue(sample.value)}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Atomic replace (temp file + rename in the same directory), readable by node_exporter. */
export function writeMetrics(file: string, text: string): { ok: true } | { ok: false; error: string } {
  try {
    writeFileAtomicSync(file, text, { mode: 0o644 });
    return { ok: true };
  } catch (error) {
    return { ok: false, error: `cannot write the metrics file ${file} (${(error as Error).message}): check monitor.metricsFile and that its directory is writable` };
  }
}
