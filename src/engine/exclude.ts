// Pure: rsync's include/exclude pattern rules (rsync(1) "INCLUDE/EXCLUDE PATTERN RULES"), decided
// per entry. Mirrors rsync's exclude.c add_rule()/rule_matches() and lib/wildmatch.c, and is proved
// against the real rsync binary by test/exclude.test.ts. The engine never descends into an excluded
// directory, so a decision about a path never needs its ancestors.
//
// Names are bytes: every pattern is turned into bytes (UTF-8) and matched byte for byte. Wildcard
// patterns compile to a RegExp over the latin1 view of the name (latin1 maps bytes to chars 1:1), so a
// non-UTF-8 name matches exactly as rsync sees it. Literal patterns, and the common `*.ext` / `name*`
// forms, compare bytes in place and allocate nothing.
import fs from 'node:fs';
import { displayPath } from './bytes.js';
import { FatalError } from '../errors.js';

export interface ExcludeMatcher {
  /** relPath: path relative to the mirror's SRC root, '/'-separated bytes, no leading slash. */
  isExcluded(relPath: Buffer, isDir: boolean): boolean;
  /** True when nothing can be excluded (no exclude rule at all), so the engine may skip the calls. */
  readonly empty: boolean;
}

const SLASH = 0x2f;
const STAR = 0x2a;
const QUESTION = 0x3f;
const BRACKET = 0x5b;
const BACKSLASH = 0x5c;

type Rule =
  | { kind: 'name'; include: boolean; dirOnly: boolean; lit: Buffer }
  | { kind: 'nameStar'; include: boolean; dirOnly: boolean; head: Buffer; tail: Buffer }
  | { kind: 'path'; include: boolean; dirOnly: boolean; lit: Buffer }
  | { kind: 'tail'; include: boolean; dirOnly: boolean; lit: Buffer }
  | { kind: 'under'; include: boolean; dirOnly: boolean; lit: Buffer; anchored: boolean; selfToo: boolean }
  | { kind: 'nameRe'; include: boolean; dirOnly: boolean; re: RegExp }
  | { kind: 'pathRe'; include: boolean; dirOnly: boolean; re: RegExp; slashBefore: boolean; slashAfterDir: boolean };

/**
 * Compiles --exclude patterns, in order, with rsync's meaning (first matching rule wins). As with
 * rsync's --exclude, a "+ " prefix makes the rest an include rule, a "- " prefix is an explicit
 * exclude, a lone "!" clears the rules before it, and an empty string is ignored.
 * Throws FatalError(kind 'usage') for a "+ " / "- " prefix with no pattern after it (rsync refuses it).
 */
export function compileExcludes(patterns: readonly string[]): ExcludeMatcher {
  let rules: Rule[] = [];
  for (const pattern of patterns) {
    if (pattern === '') continue;
    if (pattern === '!') {
      rules = [];
      continue;
    }
    let include = false;
    let body = pattern;
    if (pattern.startsWith('- ') || pattern.startsWith('+ ')) {
      include = pattern[0] === '+';
      body = pattern.slice(2);
      if (body === '') {
        throw new FatalError(
          `exclude pattern ${JSON.stringify(pattern)} has a "${pattern[0]} " prefix but no pattern after it; ` +
            'write the pattern after the prefix (rsync rejects this rule too)',
          'usage',
        );
      }
    }
    const rule = compileRule(Buffer.from(body, 'utf8'), include);
    if (rule) rules.push(rule); // null: rsync can never match it (e.g. "[abc" with no "]")
  }
  return new Matcher(rules);
}

/** rsync's add_rule() classification, then the cheapest matcher that decides the same. */
function compileRule(pat: Buffer, include: boolean): Rule | null {
  let len = pat.length;
  let dirOnly = false;
  if (len > 1 && pat[len - 1] === SLASH) {
    len--; // rsync strips exactly one trailing slash and remembers "directories only"
    dirOnly = true;
  }
  pat = pat.subarray(0, len);
  let slashCount = 0;
  let wild = false;
  for (const b of pat) {
    if (b === SLASH) slashCount++;
    else if (b === STAR || b === QUESTION || b === BRACKET) wild = true;
  }
  const wild2 = wild && pat.includes('**');
  const wild2Prefix = wild2 && pat[0] === STAR && pat[1] === STAR;
  const wild3Suffix = wild2 && len >= 3 && pat[len - 1] === STAR && pat[len - 2] === STAR && pat[len - 3] === STAR;
  const anchored = pat[0] === SLASH; // counted in slashCount, as rsync does
  const body = anchored ? pat.subarray(1) : pat;
  const onName = slashCount === 0 && !wild2;

  if (!wild) {
    // Literal: no escapes (rsync treats a backslash literally unless the pattern has a wildcard).
    const lit = Buffer.from(body);
    if (onName) return { kind: 'name', include, dirOnly, lit };
    if (anchored) return { kind: 'path', include, dirOnly, lit };
    return { kind: 'tail', include, dirOnly, lit };
  }
  if (onName) {
    const star = splitOnSingleStar(body);
    if (star) return { kind: 'nameStar', include, dirOnly, head: star[0], tail: star[1] };
  }
  // "**/LIT" is matched against "/" + path, so it is exactly "path ends with LIT on a component
  // boundary": the literal tail rule, without a RegExp.
  if (wild2Prefix && body[2] === SLASH && isPlain(body.subarray(3))) {
    return { kind: 'tail', include, dirOnly, lit: Buffer.from(body.subarray(3)) };
  }
  // "LIT/**" and "LIT/***" (anchored or not): "LIT/" starting at a component boundary (at 0 when
  // anchored), with a directory seen as "path/" when the pattern ends in "***".
  const under = splitUnder(body);
  if (under && !wild2Prefix) {
    return { kind: 'under', include, dirOnly, lit: under, anchored, selfToo: wild3Suffix };
  }
  const source = wildToRegExpSource(body);
  if (source === null) return null;
  if (onName) return { kind: 'nameRe', include, dirOnly, re: new RegExp(`^${source}$`, 's') };
  // rsync's slash_handling: an unanchored pattern with a slash (and no "**") must match the last
  // slashCount+1 components; an unanchored "**" pattern (not starting with "**") may start after any
  // slash. Both come to "starts at the beginning or just after a slash", because without "**" the
  // pattern matches exactly slashCount slashes. Anchored and "**"-prefixed patterns start at 0.
  const startAnywhere = !anchored && !wild2Prefix;
  const re = new RegExp(`${startAnywhere ? '(?:^|/)' : '^'}${source}$`, 's');
  // "**" at the start is matched against "/" + path (so "**/foo" matches a top-level foo); a pattern
  // ending in "***" sees a directory as "path/" (so "dir/***" matches dir itself).
  return { kind: 'pathRe', include, dirOnly, re, slashBefore: wild2Prefix, slashAfterDir: wild3Suffix };
}

/** No wildcard and no backslash: bytes that match only themselves. */
function isPlain(b: Buffer): boolean {
  for (const c of b) if (c === STAR || c === QUESTION || c === BRACKET || c === BACKSLASH) return false;
  return true;
}

/** For "LIT/" followed by two or more stars, LIT plain: "LIT/"; else null. */
function splitUnder(body: Buffer): Buffer | null {
  let end = body.length;
  while (end > 0 && body[end - 1] === STAR) end--;
  if (body.length - end < 2 || end === 0 || body[end - 1] !== SLASH) return null;
  const lit = body.subarray(0, end);
  return isPlain(lit) ? Buffer.from(lit) : null;
}

/** For "head*tail" with no other wildcard or backslash: the two literal halves; else null. */
function splitOnSingleStar(body: Buffer): [Buffer, Buffer] | null {
  let at = -1;
  for (let i = 0; i < body.length; i++) {
    const b = body[i];
    if (b === STAR) {
      if (at >= 0) return null;
      at = i;
    } else if (b === QUESTION || b === BRACKET || b === BACKSLASH) return null;
  }
  if (at < 0) return null;
  return [Buffer.from(body.subarray(0, at)), Buffer.from(body.subarray(at + 1))];
}

class Matcher implements ExcludeMatcher {
  readonly empty: boolean;
  constructor(private readonly rules: readonly Rule[]) {
    // Only exclude rules can exclude: with none, every answer is "kept".
    this.empty = !rules.some((r) => !r.include);
  }

  isExcluded(relPath: Buffer, isDir: boolean): boolean {
    if (this.empty || relPath.length === 0) return false;
    let nameStart = -1;
    let name: string | undefined;
    let full: string | undefined;
    for (const rule of this.rules) {
      if (rule.dirOnly && !isDir) continue;
      let hit: boolean;
      switch (rule.kind) {
        case 'name':
          if (nameStart < 0) nameStart = lastSlash(relPath) + 1;
          hit = relPath.length - nameStart === rule.lit.length && bytesAt(relPath, nameStart, rule.lit);
          break;
        case 'nameStar': {
          if (nameStart < 0) nameStart = lastSlash(relPath) + 1;
          const nameLen = relPath.length - nameStart;
          hit =
            nameLen >= rule.head.length + rule.tail.length &&
            bytesAt(relPath, nameStart, rule.head) &&
            bytesAt(relPath, relPath.length - rule.tail.length, rule.tail);
          break;
        }
        case 'path':
          hit = relPath.length === rule.lit.length && bytesAt(relPath, 0, rule.lit);
          break;
        case 'tail': {
          const at = relPath.length - rule.lit.length;
          hit = at >= 0 && (at === 0 || relPath[at - 1] === SLASH) && bytesAt(relPath, at, rule.lit);
          break;
        }
        case 'under':
          hit = underAt(relPath, isDir && rule.selfToo, rule.lit, rule.anchored);
          break;
        case 'nameRe':
          if (nameStart < 0) nameStart = lastSlash(relPath) + 1;
          name ??= relPath.toString('latin1', nameStart);
          hit = rule.re.test(name);
          break;
        case 'pathRe': {
          full ??= relPath.toString('latin1');
          let text = rule.slashBefore ? '/' + full : full;
          if (isDir && rule.slashAfterDir) text += '/';
          hit = rule.re.test(text);
          break;
        }
      }
      if (hit) return !rule.include;
    }
    return false;
  }
}

/** Does lit start at 0 (anchored) or after some slash of path (+ "/" when slashAfter)? */
function underAt(path: Buffer, slashAfter: boolean, lit: Buffer, anchored: boolean): boolean {
  const len = path.length;
  const last = len + (slashAfter ? 1 : 0) - lit.length;
  for (let p = 0; p <= last; p++) {
    if (p > 0 && (anchored || path[p - 1] !== SLASH)) {
      if (anchored) return false;
      continue;
    }
    let i = 0;
    while (i < lit.length && (p + i < len ? path[p + i] : SLASH) === lit[i]) i++;
    if (i === lit.length) return true;
  }
  return false;
}

function lastSlash(path: Buffer): number {
  let i = path.length - 1;
  while (i >= 0 && path[i] !== SLASH) i--;
  return i;
}

function bytesAt(buf: Buffer, at: number, lit: Buffer): boolean {
  for (let i = 0; i < lit.length; i++) if (buf[at + i] !== lit[i]) return false;
  return true;
}

/**
 * rsync's wildmatch as a RegExp source over latin1 text: `?` and `*` never match '/', `**` matches
 * anything, `[...]` is a byte class that never matches '/', a backslash escapes the next byte.
 * Returns null for a pattern wildmatch can never match (a trailing backslash, an unterminated class,
 * an unknown [:class:]); rsync then simply never matches it.
 */
function wildToRegExpSource(p: Buffer): string | null {
  let out = '';
  let i = 0;
  while (i < p.length) {
    const b = p[i] as number;
    if (b === BACKSLASH) {
      if (i + 1 >= p.length) return null;
      out += literal(p[i + 1] as number);
      i += 2;
    } else if (b === QUESTION) {
      out += '[^/]';
      i++;
    } else if (b === STAR) {
      let j = i;
      while (p[j] === STAR) j++;
      out += j - i >= 2 ? '.*' : '[^/]*';
      i = j;
    } else if (b === BRACKET) {
      const cls = parseClass(p, i);
      if (cls === null) return null;
      out += cls.source;
      i = cls.end;
    } else {
      out += literal(b);
      i++;
    }
  }
  return out;
}

/** wildmatch's "[...]" starting at p[open] === '['; end is the index after the closing ']'. */
function parseClass(p: Buffer, open: number): { source: string; end: number } | null {
  const set = new Uint8Array(256);
  let i = open + 1;
  let negated = false;
  if (p[i] === 0x21 || p[i] === 0x5e) {
    negated = true; // '!' or '^'
    i++;
  }
  let prev = 0;
  // do-while: the first member is taken literally even when it is ']'.
  let first = true;
  while (first || p[i] !== 0x5d) {
    first = false;
    let ch = p[i];
    if (ch === undefined) return null;
    if (ch === BACKSLASH) {
      ch = p[++i];
      if (ch === undefined) return null;
      set[ch] = 1;
    } else if (ch === 0x2d && prev !== 0 && p[i + 1] !== undefined && p[i + 1] !== 0x5d) {
      ch = p[++i] as number;
      if (ch === BACKSLASH) {
        ch = p[++i];
        if (ch === undefined) return null;
      }
      for (let c = prev; c <= ch; c++) set[c] = 1;
      ch = 0; // a range end cannot start another range
    } else if (ch === BRACKET && p[i + 1] === 0x3a) {
      const s = i + 2;
      let e = s;
      while (p[e] !== undefined && p[e] !== 0x5d) e++;
      if (p[e] === undefined) return null;
      if (e - s - 1 < 0 || p[e - 1] !== 0x3a) {
        set[BRACKET] = 1; // no ":]": a plain '[' member, then go on after it
      } else {
        const test = POSIX_CLASSES[p.toString('latin1', s, e - 1)];
        if (!test) return null;
        for (let c = 0; c < 128; c++) if (test(c)) set[c] = 1;
        i = e;
        ch = 0;
      }
    } else {
      set[ch] = 1;
    }
    prev = ch;
    i++;
  }
  if (negated) for (let c = 0; c < 256; c++) set[c] = set[c] ? 0 : 1;
  set[SLASH] = 0;
  return { source: classSource(set), end: i + 1 };
}

// The C locale's ctype classes (rsync's wildmatch uses isalpha() etc.; bytes >= 0x80 are in no class
// in the C and UTF-8 locales, and rsync's tests run that way).
const isUpper = (c: number): boolean => c >= 0x41 && c <= 0x5a;
const isLower = (c: number): boolean => c >= 0x61 && c <= 0x7a;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlnum = (c: number): boolean => isUpper(c) || isLower(c) || isDigit(c);
const isGraph = (c: number): boolean => c >= 0x21 && c <= 0x7e;
const POSIX_CLASSES: Record<string, ((c: number) => boolean) | undefined> = {
  alnum: isAlnum,
  alpha: (c) => isUpper(c) || isLower(c),
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: isDigit,
  graph: isGraph,
  lower: isLower,
  print: (c) => c >= 0x20 && c <= 0x7e,
  punct: (c) => isGraph(c) && !isAlnum(c),
  space: (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d),
  upper: isUpper,
  xdigit: (c) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66),
};

function classSource(set: Uint8Array): string {
  let out = '';
  for (let c = 0; c < 256; c++) {
    if (!set[c]) continue;
    let end = c;
    while (end + 1 < 256 && set[end + 1]) end++;
    out += end === c ? hexChar(c) : `${hexChar(c)}-${hexChar(end)}`;
    c = end;
  }
  return out === '' ? '(?!)' : `[${out}]`;
}

function literal(b: number): string {
  return isAlnum(b) || b === 0x5f ? String.fromCharCode(b) : hexChar(b);
}

function hexChar(b: number): string {
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

/**
 * --exclude-from FILE, read as rsync reads it: a line ends at '\n' or '\r' (so CRLF files work), empty
 * lines and lines starting with ';' or '#' are skipped, nothing else is trimmed (a trailing space is
 * part of the pattern, as in rsync). Patterns must be UTF-8, like those given on the command line;
 * a line that is not is refused rather than silently changed.
 */
export function readExcludeFile(file: string): string[] {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new FatalError(
      `cannot read exclude file ${displayPath(file)} (${code}); check the --exclude-from path`,
      'usage',
    );
  }
  const patterns: string[] = [];
  // ignoreBOM keeps a byte-order mark, as rsync does (it becomes part of the first pattern).
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let start = 0;
  let lineNo = 1;
  for (let i = 0; i <= data.length; i++) {
    const b = data[i];
    if (i < data.length && b !== 0x0a && b !== 0x0d) continue;
    const line = data.subarray(start, i);
    if (line.length > 0 && line[0] !== 0x3b && line[0] !== 0x23) {
      try {
        patterns.push(decoder.decode(line));
      } catch {
        throw new FatalError(
          `exclude file ${displayPath(file)}, line ${lineNo}: pattern ${displayPath(line)} is not valid UTF-8; ` +
            'write it with a wildcard (e.g. ?) in place of the odd bytes',
          'usage',
        );
      }
    }
    if (b === 0x0a) lineNo++;
    start = i + 1;
  }
  return patterns;
}
