// better-sqlite3, loaded through require with its addon named by path. Measured at start-up on this
// machine type (Node 20, every command that opens a manifest pays it): importing the CommonJS package
// from an ES module took 20-21 ms against 11-12 ms for require (the ES module loader first parses the
// package's source for its export names), and the package's default lookup of its addon (the
// `bindings` package: a captured stack trace, then stat calls over candidate paths) ~5 ms against
// ~1.2 ms for requiring the file.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as typeof BetterSqlite3;

export type SqliteDatabase = BetterSqlite3.Database;

// Where npm's install step (prebuild-install or node-gyp) puts the addon; absent: the package finds it.
const ADDON = path.join(path.dirname(require.resolve('better-sqlite3')), '..', 'build', 'Release', 'better_sqlite3.node');
let addonFound: boolean | null = null;

export function openDatabase(file: string, options: BetterSqlite3.Options = {}): SqliteDatabase {
  addonFound ??= fs.existsSync(ADDON);
  return new Database(file, addonFound ? { ...options, nativeBinding: ADDON } : options);
}
