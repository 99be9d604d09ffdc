// The systemd units: the shipped copies match the renderer, carry the settings the design asks
// for, pass `systemd-analyze verify --user`, and `home-lab install-units` writes working copies.
// Also: log lines under journald.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { Command } from 'commander';
import { memoryLogger } from '../src/log.js';
import { createLogger, type Cli } from '../src/cli/cli.js';
import { register, homeLabCommand } from '../src/cli/commands/install-units.js';
import { BACKUP_SERVICE, BACKUP_TIMER, FAILURE_SERVICE, SHIPPED_COMMAND, execWord, renderUnits } from '../src/host/systemd-units.js';
import { tempDir } from './helpers/tmp.js';

const SHIPPED_DIR = new URL('../systemd/', import.meta.url);
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/**
 * `systemd-analyze verify --user` needs a runtime directory (there is no user manager here; verify
 * does not need one, only XDG_RUNTIME_DIR). The failure template is checked through an instance.
 * Returns the exit status and every line it printed (warnings such as unknown keys go to stderr
 * with status 0, so both must be clean).
 */
function verify(t: TestContext, dir: string): { status: number | null; output: string } {
  const runtime = tempDir(t, 'home-lab-xdg-runtime-');
  fs.chmodSync(runtime, 0o700);
  const files = [BACKUP_SERVICE, BACKUP_TIMER, 'home-lab-notify-failure@home-lab-backup.service.service'].map((f) => path.join(dir, f));
  const r = spawnSync('systemd-analyze', ['verify', '--user', '--man=no', ...files], {
    env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' },
    encoding: 'utf8',
  });
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

async function installUnits(args: string[]): Promise<string> {
  const out: string[] = [];
  const cli: Cli = { out: (s) => out.push(s), err: (s) => out.push(s), isTTY: false, logger: () => memoryLogger(), setExitCode: () => {} };
  const program = new Command().exitOverride();
  register(program, cli);
  await program.parseAsync(['install-units', ...args], { from: 'user' });
  return out.join('\n');
}

test('the shipped units in systemd/ are exactly the rendering with /usr/bin/env home-lab', () => {
  const rendered = renderUnits({ command: SHIPPED_COMMAND });
  assert.deepEqual(fs.readdirSync(SHIPPED_DIR).sort(), Object.keys(rendered).sort());
  for (const [name, text] of Object.entries(rendered)) {
    assert.equal(fs.readFileSync(new URL(name, SHIPPED_DIR), 'utf8'), text, `systemd/${name} is out of date: regenerate it from renderUnits()`);
  }
});

test('the units carry the timer, retry, start-limit and OnFailure settings', () => {
  const u = renderUnits({ command: ['/usr/bin/node', '/opt/home-lab/main.js'] });
  const timer = u[BACKUP_TIMER]!;
  assert.match(timer, /^OnCalendar=\*-\*-\* 03:00$/m);
  assert.match(timer, /^Persistent=true$/m);
  assert.match(timer, /^Unit=home-lab-backup\.service$/m);
  assert.match(timer, /^WantedBy=timers\.target$/m);
  const service = u[BACKUP_SERVICE]!;
  for (const line of ['Type=oneshot', 'Restart=on-failure', 'RestartSec=15min', 'StartLimitIntervalSec=20h', 'StartLimitBurst=4', 'OnFailure=home-lab-notify-failure@%n.service', 'RestartPreventExitStatus=2 4 5 8', 'KillMode=mixed']) {
    assert.match(service, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), line);
  }
  assert.match(service, /^ExecStart=\/usr\/bin\/node \/opt\/home-lab\/main\.js backup$/m);
  const failure = u[FAILURE_SERVICE]!;
  assert.match(failure, /^ExecStart=\/usr\/bin\/node \/opt\/home-lab\/main\.js notify --failure --unit %i$/m);
  assert.doesNotMatch(failure, /^OnFailure=/m, 'the handler must not trigger itself');
  const custom = renderUnits({ command: ['/bin/hl'], configFile: '/etc/home lab/50%.yaml', onCalendar: 'Sun *-*-* 04:30' });
  assert.match(custom[BACKUP_SERVICE]!, /^ExecStart=\/bin\/hl --config "\/etc\/home lab\/50%%\.yaml" backup$/m);
  assert.match(custom[BACKUP_TIMER]!, /^OnCalendar=Sun \*-\*-\* 04:30$/m);
});

test('ExecStart words: specifiers, variables, spaces and quotes stay literal', () => {
  assert.deepEqual(
    ['/usr/bin/node', '/home/u/.nvm/v20/bin/node', '/a b/c', '50%', '$HOME', 'say "hi"', 'back\\slash'].map(execWord),
    ['/usr/bin/node', '/home/u/.nvm/v20/bin/node', '"/a b/c"', '50%%', '"$$HOME"', '"say \\"hi\\""', '"back\\\\slash"'],
  );
});

test('systemd-analyze verify --user accepts the shipped units', { skip: hasAnalyze ? false : 'systemd-analyze is not installed (Debian package systemd)' }, (t) => {
  const r = verify(t, fileURLToPath(SHIPPED_DIR));
  assert.equal(r.status, 0, r.output);
  assert.equal(r.output, '', 'no warnings either');
});

test('install-units writes working units with this machine\'s paths (and verify catches a broken one)', { skip: hasAnalyze ? false : 'systemd-analyze is not installed (Debian package systemd)' }, async (t) => {
  const root = tempDir(t);
  const bin = path.join(root, 'bin dir', 'home-lab');
  fs.mkdirSync(path.dirname(bin));
  fs.writeFileSync(bin, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const unitDir = path.join(root, 'systemd', 'user');
  const config = path.join(root, 'home-lab.yaml');
  const out = await installUnits(['--dir', unitDir, '--bin', bin, '--config', config]);
  assert.match(out, new RegExp(`^wrote ${unitDir}/home-lab-backup\\.service$`, 'm'));
  assert.match(out, /systemctl --user enable --now home-lab-backup\.timer/);
  assert.match(out, /loginctl enable-linger/);
  assert.match(out, /there is no config at .*home-lab\.yaml yet/);
  const service = fs.readFileSync(path.join(unitDir, BACKUP_SERVICE), 'utf8');
  assert.ok(service.includes(`ExecStart="${bin}" --config ${config} backup`), service);
  assert.equal(fs.statSync(path.join(unitDir, BACKUP_SERVICE)).mode & 0o777, 0o644);
  const r = verify(t, unitDir);
  assert.equal(r.status, 0, r.output);
  assert.equal(r.output, '');

  await installUnits(['--dir', unitDir, '--bin', bin, '--on-calendar', '*-*-* 25:00']);
  const broken = verify(t, unitDir);
  assert.notEqual(broken.status, 0);
  assert.match(broken.output, /Failed to parse calendar specification/);
});

test('install-units --dry-run prints; the command line is this node + main.js, or --bin', async (t) => {
  const dir = tempDir(t);
  const out = await installUnits(['--dir', dir, '--bin', '/bin/true', '--dry-run']);
  assert.match(out, new RegExp(`^# ${dir}/home-lab-backup\\.timer$`, 'm'));
  assert.deepEqual(fs.readdirSync(dir), []);
  const main = path.join(dir, 'main.js');
  fs.writeFileSync(main, '');
  assert.deepEqual(homeLabCommand(undefined, main), [process.execPath, main]);
  fs.writeFileSync(path.join(dir, 'main.ts'), '');
  assert.throws(() => homeLabCommand(undefined, path.join(dir, 'main.ts')), /run `npm run build`/);
  assert.throws(() => homeLabCommand(path.join(dir, 'nope'), undefined), /is not an executable file/);
});

test('logs: plain lines with a level word on a terminal, <N> priority prefixes under journald', () => {
  const lines: string[] = [];
  const plain = createLogger({ write: (l) => lines.push(l), journald: false });
  plain.info('copied 3 files');
  plain.warn('token file is readable\nby others');
  plain.debug('hidden');
  const journal = createLogger({ write: (l) => lines.push(l), journald: true, verbose: true });
  journal.error('notification via Gotify failed');
  journal.debug('health probe');
  assert.deepEqual(lines, ['copied 3 files', 'warn: token file is readable', 'warn: by others', '<3>notification via Gotify failed', '<7>health probe']);
  // eslint-disable-next-line no-control-regex
  assert.ok(lines.every((l) => !/\x1b\[/.test(l)), 'no colour codes');
});
