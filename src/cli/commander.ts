// commander's classes, loaded through require: importing the CommonJS package from an ES module cost
// every command 23-28 ms at start-up against 15-19 ms for require (measured on this machine type, Node
// 20: the ES module loader first parses the package's source for its export names). Types still come
// from `import type ... from 'commander'`.
import { createRequire } from 'node:module';
import type * as Commander from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof Commander;

export const { Command, CommanderError, InvalidArgumentError, Option } = commander;
