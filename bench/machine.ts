// The machine a report came from, for the markdown report and the README table.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type { Machine } from './types.js';

function firstLine(program: string, args: string[], cwd?: string): string {
  const result = spawnSync(program, args, { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  return result.status === 0 ? (result.stdout.split('\n')[0] ?? '').trim() : '';
}

export function describeMachine(packageRoot: string): Machine {
  const cpuinfo = safeRead('/proc/cpuinfo');
  const osRelease = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(safeRead('/etc/os-release'))?.[1] ?? os.type();
  let version = 'unknown';
  try {
    version = (JSON.parse(fs.readFileSync(`${packageRoot}/package.json`, 'utf8')) as { version?: string }).version ?? version;
  } catch {
    // A report without the version is still a report.
  }
  // -dirty: the build may hold uncommitted work (a shared working tree), so the commit alone would mislead.
  const commit = firstLine('git', ['describe', '--always', '--dirty'], packageRoot);
  return {
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    os: osRelease,
    node: process.version,
    rsync: firstLine('rsync', ['--version']).replace(/\s+/g, ' ') || 'not found',
    homeLab: commit ? `${version} (${commit})` : version,
  };
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
