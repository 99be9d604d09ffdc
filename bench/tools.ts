// The two tools under test and their command lines. home-lab runs from this package's build
// (node dist/src/cli/main.js), rsync from PATH.
//
// HOME_LAB_BENCH_STANDIN=rsync swaps home-lab for `rsync -a --delete`: for testing the harness itself
// while the engine is broken or unbuilt. Reports say so loudly; it is never the default.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FatalError } from '../src/errors.js';

export interface ToolCommand {
  program: string;
  args: string[];
  /** The environment to run it with, when it is not the bench's own. */
  env?: NodeJS.ProcessEnv;
}

// Set in some sandboxes (this one included), it makes every Node start parse a certificate bundle:
// 85-130 ms here, more than the whole of rsync's run on a small no-op. mirror and verify make no TLS
// connection, and a systemd unit does not inherit it, so home-lab runs without it; the report says so.
export const STRIPPED_ENV = ['NODE_EXTRA_CA_CERTS'];

/** `env` without the variables that only slow Node's start-up (STRIPPED_ENV). */
export function homeLabEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of STRIPPED_ENV) delete out[name];
  return out;
}

export interface Tools {
  standIn: string | null;
  /** How the scrub scenario runs home-lab, for the report; null when this build cannot scrub. */
  scrubCommand: string | null;
  mirrorCommand: string;
  homeLabMirror(src: string, dst: string): ToolCommand;
  homeLabScrub(src: string, dst: string): ToolCommand | null;
  rsyncMirror(src: string, dst: string): ToolCommand;
  rsyncScrub(src: string, dst: string): ToolCommand;
}

export const STANDIN_ENV = 'HOME_LAB_BENCH_STANDIN';
export const RSYNC_MIRROR_ARGS = ['-a', '--delete'];
export const RSYNC_SCRUB_ARGS = ['-a', '--delete', '--checksum'];

/** The directory holding home-lab's package.json, from this module's location (src or dist). */
export function findPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'home-lab') return dir;
    } catch {
      // not here: go up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new FatalError('cannot find the home-lab package root above the bench module');
    dir = parent;
  }
}

export function resolveTools(options: { packageRoot: string; mirrorArgs: readonly string[]; env?: NodeJS.ProcessEnv }): Tools {
  const env = options.env ?? process.env;
  const rsyncMirror = (src: string, dst: string): ToolCommand => ({ program: 'rsync', args: [...RSYNC_MIRROR_ARGS, src + '/', dst + '/'] });
  const rsyncScrub = (src: string, dst: string): ToolCommand => ({ program: 'rsync', args: [...RSYNC_SCRUB_ARGS, src + '/', dst + '/'] });
  if (spawnSync('rsync', ['--version']).status !== 0) throw new FatalError('rsync is not installed (or not on PATH): bench compares home-lab against it');
  const standIn = env[STANDIN_ENV];
  if (standIn) {
    if (standIn !== 'rsync') throw new FatalError(`${STANDIN_ENV}=${standIn}: the only stand-in is "rsync"`);
    return {
      standIn,
      scrubCommand: `STAND-IN rsync ${RSYNC_SCRUB_ARGS.join(' ')} SRC/ DST/`,
      mirrorCommand: `STAND-IN rsync ${RSYNC_MIRROR_ARGS.join(' ')} SRC/ DST/`,
      homeLabMirror: rsyncMirror,
      homeLabScrub: rsyncScrub,
      rsyncMirror,
      rsyncScrub,
    };
  }
  const main = path.join(options.packageRoot, 'dist', 'src', 'cli', 'main.js');
  if (!fs.existsSync(main)) throw new FatalError(`${main} is missing: run \`npm run build\` first (bench runs the built CLI)`);
  const node = process.execPath;
  const help = (args: string[]): string => spawnSync(node, [main, ...args, '--help'], { encoding: 'utf8' }).stdout ?? '';
  const commands = help([]);
  // rsync prints nothing by default: home-lab's progress lines are switched off too where it has them.
  const quiet = (command: string): string[] => (help([command]).includes('--no-progress') ? ['--no-progress'] : []);
  // Whichever full-scrub command this build has: `verify DST` re-reads everything; `scrub --percent 100`.
  let scrub: { args: (dst: string) => string[]; text: string } | null = null;
  if (/^\s+verify\b/m.test(commands)) {
    const flags = quiet('verify');
    scrub = { args: (dst) => ['verify', ...flags, dst], text: ['home-lab verify', ...flags, 'DST'].join(' ') };
  } else if (/^\s+scrub\b/m.test(commands) && help(['scrub']).includes('--percent')) {
    const flags = [...quiet('scrub'), '--percent', '100'];
    scrub = { args: (dst) => ['scrub', ...flags, dst], text: ['home-lab scrub', ...flags, 'DST'].join(' ') };
  }
  const extra = [...quiet('mirror'), ...options.mirrorArgs];
  const childEnv = homeLabEnv(env);
  return {
    standIn: null,
    scrubCommand: scrub?.text ?? null,
    mirrorCommand: ['home-lab mirror', ...extra, 'SRC DST'].join(' '),
    homeLabMirror: (src, dst) => ({ program: node, args: [main, 'mirror', ...extra, src, dst], env: childEnv }),
    homeLabScrub: (_src, dst) => (scrub ? { program: node, args: [main, ...scrub.args(dst)], env: childEnv } : null),
    rsyncMirror,
    rsyncScrub,
  };
}
