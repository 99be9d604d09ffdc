// Which subcommands the CLI loads for an argv (commands/index.ts), and what the user sees for
// --version, --help and a wrong name through the built CLI.
import test from 'node:test';
import assert from 'node:assert/strict';
import { commandsToLoad } from '../src/cli/commands/index.js';
import { homeLab } from './helpers/cli.js';

const ALL = commandsToLoad(['node', 'home-lab', '--help']);

test('commandsToLoad: the named command, none for a bare --version, all otherwise', () => {
  assert.ok(ALL.includes('mirror') && ALL.includes('backup') && ALL.length >= 10, ALL.join(' '));
  const cases: [string[], string[]][] = [
    [['mirror', 'a/', 'b'], ['mirror']],
    [['--no-progress', 'verify', '/mnt'], ['verify']],
    [['--version'], []],
    [['-V'], []],
    [['-V', '--version'], []],
    [['--version', '--help'], ALL],
    [['--version', 'scrub'], ['scrub']],
    [[], ALL],
    [['--help'], ALL],
    [['nosuch'], ALL],
    // A value that is not a command name: commander decides, with every command known.
    [['--config', '/etc/home-lab.toml'], ALL],
  ];
  for (const [args, want] of cases) assert.deepEqual(commandsToLoad(['node', 'home-lab', ...args]), want, args.join(' '));
});

test('home-lab --version prints the version; --help lists every command; a wrong name is a usage error', () => {
  for (const flag of ['--version', '-V']) {
    const v = homeLab([flag]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  }
  const help = homeLab(['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const name of ALL) assert.match(help.stdout, new RegExp(`^  ${name}\\b`, 'm'), `--help lists ${name}`);
  const wrong = homeLab(['nosuch']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /unknown command 'nosuch'/);
});
