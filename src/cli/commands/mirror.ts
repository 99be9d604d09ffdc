import type { Command } from 'commander';
import type { Cli } from '../cli.js';

export function register(program: Command, _cli: Cli): void {
  program.command('mirror <src> <dst>').description('make DST an exact mirror of the contents of SRC (rsync -a --delete), hashing every byte');
}
