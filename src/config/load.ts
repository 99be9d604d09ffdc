// Reads and validates the config file. A bad config stops everything before a disk is mounted or a
// service stopped, and every problem names the file, the line and the key path
// (`config.yaml:12: disks[1].luks.keyFile: expected a string, got a number`).
import fs from 'node:fs';
import path from 'node:path';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { FatalError } from '../errors.js';
import { configFileSchema, crossChecks, defaultConfigPath, resolveConfig, type Config } from './schema.js';

export class ConfigError extends FatalError {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`the config ${file} is not valid; nothing was mounted or stopped. Fix:\n${problems.map((p) => `  ${p}`).join('\n')}`, 'usage');
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** --config PATH; default ~/.config/home-lab/config.yaml. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
}

/** Loads, validates and resolves a config file. Throws ConfigError (exit code "usage"). */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = path.resolve(options.file ?? defaultConfigPath(env));
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? ` Create it (see README, "Config"), or pass --config PATH.` : '';
    throw new ConfigError(file, [`cannot read it: ${code ?? (error as Error).message}.${hint}`]);
  }
  return parseConfig(text, { file, env, uid: options.uid ?? process.getuid?.() ?? 1000 });
}

/** Validates config text. Relative paths are resolved against the file's directory. */
export function parseConfig(text: string, ctx: { file: string; env: NodeJS.ProcessEnv; uid: number; baseDir?: string }): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const name = path.basename(ctx.file);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      ctx.file,
      doc.errors.map((e) => `${name}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]} (YAML syntax)`),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(ctx.file, parsed.error.issues.flatMap((issue) => describeIssue(issue, doc, lines, name)));
  }
  const cross = crossChecks(parsed.data);
  if (cross.length > 0) {
    throw new ConfigError(ctx.file, cross.map(([keyPath, message]) => `${where(doc, lines, name, keyPath)}${formatKeyPath(keyPath)}: ${message}`));
  }
  return resolveConfig(parsed.data, { baseDir: ctx.baseDir ?? path.dirname(ctx.file), env: ctx.env, uid: ctx.uid, file: ctx.file });
}

/** ['disks', 1, 'luks', 'keyFile'] -> 'disks[1].luks.keyFile' */
export function formatKeyPath(keyPath: readonly PropertyKey[]): string {
  let out = '';
  for (const part of keyPath) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
};

function describeIssue(issue: z.core.$ZodIssue, doc: Document, lines: LineCounter, name: string): string[] {
  const at = (keyPath: readonly PropertyKey[]) => `${where(doc, lines, name, keyPath)}${formatKeyPath(keyPath)}`;
  switch (issue.code) {
    case 'invalid_type': {
      const received = /received (\w+)/.exec(issue.message)?.[1];
      const expected = ARTICLE[issue.expected] ?? issue.expected;
      if (received === 'undefined') return [`${at(issue.path)}: required: expected ${expected}`];
      return [`${at(issue.path)}: expected ${expected}${received ? `, got ${ARTICLE[received] ?? received}` : ''}`];
    }
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const known = knownKeys(issue.path);
        const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
        return `${at([...issue.path, key])}: unknown key${near ? ` (did you mean ${near}?)` : known.length ? ` (known keys: ${known.join(', ')})` : ''}`;
      });
    case 'invalid_value':
      return [`${at(issue.path)}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`];
    default:
      return [`${at(issue.path)}: ${issue.message}`];
  }
}

/** The keys the schema accepts at a path, for "did you mean" hints. */
function knownKeys(keyPath: readonly PropertyKey[]): string[] {
  let schema: unknown = configFileSchema;
  for (const part of keyPath) {
    schema = unwrap(schema);
    const def = (schema as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } }).def;
    if (def?.type === 'array' && typeof part === 'number') schema = def.element;
    else if (def?.type === 'object' && def.shape) schema = def.shape[String(part)];
    else return [];
  }
  const def = (unwrap(schema) as { def?: { type?: string; shape?: Record<string, unknown> } }).def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: unknown): unknown {
  let s = schema as { def?: { type?: string; innerType?: unknown } } | undefined;
  while (s?.def && ['default', 'prefault', 'optional', 'nullable', 'pipe'].includes(s.def.type ?? '') && s.def.innerType) {
    s = s.def.innerType as typeof s;
  }
  return s;
}

/** 'config.yaml:12: ' for the deepest node of keyPath that exists in the document. */
function where(doc: Document, lines: LineCounter, name: string, keyPath: readonly PropertyKey[]): string {
  // The root mapping (line 1) says nothing useful about a missing top-level key: no line then.
  for (let n = keyPath.length; n >= (keyPath.length === 0 ? 0 : 1); n--) {
    const node = doc.getIn(keyPath.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) return `${name}:${lines.linePos(node.range[0]).line}: `;
  }
  return `${name}: `;
}
