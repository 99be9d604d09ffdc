// Shared pieces of the fault tests: the built CLI run as a real process (so it can be killed, run as
// another user, or have its disk pulled away), content maps of trees, and rsync as the reference.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { displayPath, joinPath } from '../../src/engine/bytes.js';
import { TEMP_PREFIX } from '../../src/engine/copy-file.js';
import { hlfs } from '../../src/native/hlfs.js';
import { cliPath } from './cli.js';

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the kill landed before the process ended on its own. */
  killed: boolean;
}

export interface KillAt {
  /** SIGKILL once stdout has this many lines (itemized changes). */
  afterLines?: number;
  /** SIGKILL this long after the start. */
  afterMs?: number;
}

/** Runs `node dist/src/cli/main.js ARGS`, optionally killing it (SIGKILL) at a point. */
export function homeLabAsync(
  args: string[],
  options: { killAt?: KillAt; prefix?: string[]; onLine?: (line: string, n: number) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
  const [cmd, ...pre] = options.prefix ?? [];
  const spawnOptions = { env: options.env ?? process.env };
  const child = cmd ? spawn(cmd, [...pre, process.execPath, cliPath, ...args], spawnOptions) : spawn(process.execPath, [cliPath, ...args], spawnOptions);
  let lines = 0;
  let partial = '';
  let stdout = '';
  let stderr = '';
  let killed = false;
  let ended = false;
  const kill = () => {
    if (!ended && !killed) {
      killed = true;
      child.kill('SIGKILL');
    }
  };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    if (options.onLine) {
      partial += chunk;
      let at: number;
      while ((at = partial.indexOf('\n')) >= 0) {
        options.onLine(partial.slice(0, at), ++lines);
        partial = partial.slice(at + 1);
      }
    }
    const at = options.killAt?.afterLines;
    if (at !== undefined && stdout.split('\n').length - 1 >= at) kill();
  });
  child.stderr.on('data', (chunk: string) => void (stderr += chunk));
  const timer = options.killAt?.afterMs !== undefined ? setTimeout(kill, options.killAt.afterMs) : null;
  if (options.killAt?.afterLines === 0) kill();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ended = true;
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed: killed && signal === 'SIGKILL' });
    });
  });
}

/** Escaped relative path -> sha256 of every regular file (top-level names in `skip` ignored). */
export function contentMap(root: string, skip: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (abs: Buffer, rel: Buffer) => {
    for (const name of fs.readdirSync(abs, { encoding: 'buffer' })) {
      if (rel.length === 0 && skip.includes(name.toString())) continue;
      const p = joinPath(abs, name);
      const r = joinPath(rel, name);
      const st = fs.lstatSync(p);
      if (st.isDirectory()) walk(p, r);
      else if (st.isFile()) out.set(displayPath(r), crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
    }
  };
  walk(Buffer.from(root), Buffer.alloc(0));
  return out;
}

export function isTempName(escapedPath: string): boolean {
  return escapedPath.split('/').pop()?.startsWith(TEMP_PREFIX) ?? false;
}

/**
 * Sets every directory's mtime under root (root included) to a time well in the past. rsync 3.5
 * leaves a directory it creates with its creation time when the source's mtime falls in the same
 * second (measured here: about half of the runs of a tree made just before), so a tree compared with
 * rsync's copy must not carry "just now" directory times. Never follows a symlink.
 */
export function ageDirectories(root: string, mtimeNs = 1_600_000_000_123_456_789n): void {
  const walk = (p: Buffer) => {
    for (const name of fs.readdirSync(p, { encoding: 'buffer' })) {
      const c = joinPath(p, name);
      if (fs.lstatSync(c).isDirectory()) walk(c);
    }
    hlfs.utimensat(p, mtimeNs, mtimeNs, true);
  };
  walk(Buffer.from(root));
}

export function rsyncMirror(src: string, dst: string): void {
  const r = spawnSync('rsync', ['-a', '--delete', `${src}/`, `${dst}/`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rsync failed: ${r.stderr}`);
}

/** Lines of output that carry a raw control character (a name that was not escaped). */
export function rawControlLines(text: string): string[] {
  // eslint-disable-next-line no-control-regex -- finding raw control characters is the point
  return text.split('\n').filter((line) => /[\x00-\x08\x0b-\x1f\x7f]/.test(line));
}
