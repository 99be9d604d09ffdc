// A `home-lab backup` process for the SIGTERM test: the real backup command (its own signal handling,
// run, announce) with one observation hook: when the copy of a service volume starts, it prints
// COPYING and holds that copy open until the process is told to stop, so the test can send SIGTERM
// while the service is stopped and its volume is being copied.
// Usage: node --import tsx test/integration/backup-child.ts CONFIG
import { loadConfig } from '../../src/config/load.js';
import { mirror } from '../../src/engine/mirror.js';
import type { MirrorOptions } from '../../src/engine/types.js';
import { backupCommand, defaultSeams } from '../../src/cli/commands/backup.js';
import { createLogger, type Cli } from '../../src/cli/cli.js';
import { ExitCode, type ExitCodeValue } from '../../src/cli/exit-codes.js';

const ORDER: ExitCodeValue[] = [ExitCode.usage, ExitCode.fatal, ExitCode.busy, ExitCode.refused, ExitCode.findings, ExitCode.partial, ExitCode.notifyFailed, ExitCode.repaired, ExitCode.ok];
let code: ExitCodeValue = ExitCode.ok;
const cli: Cli = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  isTTY: false,
  logger: (o) => createLogger({ ...o, journald: false }),
  setExitCode: (c) => {
    if (ORDER.indexOf(c) < ORDER.indexOf(code)) code = c;
  },
};

const config = loadConfig({ file: process.argv[2] });
const held = async (options: MirrorOptions) => {
  if (options.manifest?.prefix.includes('/')) {
    process.stdout.write('COPYING\n');
    // A pending timer keeps the event loop alive, as a running copy's workers would.
    await new Promise(() => setInterval(() => {}, 1000));
  }
  return mirror(options);
};
await backupCommand(config, { dryRun: false, allowDeletions: false, progress: false, verbose: false, quiet: false }, cli, {
  ...defaultSeams,
  runDeps: { mirror: held, systemdPollMs: 50 },
});
process.exit(code);
