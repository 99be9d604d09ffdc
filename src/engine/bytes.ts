// Names are bytes (DESIGN.md, "Rules the engine keeps"): paths travel as Buffers from readdir to the
// manifest, and are turned into text only for display, through displayPath, which is lossless and
// safe for a terminal or a log line.
export const SLASH = 0x2f;
const EMPTY = Buffer.alloc(0);

export function toBuffer(p: string | Buffer): Buffer {
  return typeof p === 'string' ? Buffer.from(p) : p;
}

/** a + '/' + b; either side may be empty. */
export function joinPath(a: Buffer, b: Buffer): Buffer {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  if (a[a.length - 1] === SLASH) return Buffer.concat([a, b]);
  const out = Buffer.allocUnsafe(a.length + 1 + b.length);
  a.copy(out, 0);
  out[a.length] = SLASH;
  b.copy(out, a.length + 1);
  return out;
}

/** Splits 'a/b/c' into dir 'a/b' and name 'c' (dir is empty for a top-level name). */
export function splitPath(p: Buffer): { dir: Buffer; name: Buffer } {
  const at = p.lastIndexOf(SLASH);
  if (at < 0) return { dir: EMPTY, name: p };
  return { dir: p.subarray(0, at), name: p.subarray(at + 1) };
}

/** Removes trailing slashes (but keeps a lone '/'). */
export function trimSlashes(p: Buffer): Buffer {
  let end = p.length;
  while (end > 1 && p[end - 1] === SLASH) end--;
  return p.subarray(0, end);
}

/**
 * Text for humans and logs: valid printable UTF-8 passes through; a backslash becomes `\\`; control
 * characters, DEL and bytes that are not valid UTF-8 become `\xNN`. Lossless and one line, so a
 * crafted name cannot forge log lines or terminal escapes.
 */
export function displayPath(p: Buffer | string): string {
  const buf = toBuffer(p);
  let out = '';
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] as number;
    if (b < 0x80) {
      if (b === 0x5c) out += '\\\\';
      else if (b < 0x20 || b === 0x7f) out += hex(b);
      else out += String.fromCharCode(b);
      i++;
      continue;
    }
    const len = utf8SequenceLength(buf, i);
    if (len === 0) {
      out += hex(b);
      i++;
      continue;
    }
    const ch = buf.toString('utf8', i, i + len);
    const cp = ch.codePointAt(0) as number;
    // C1 controls, line/paragraph separators and bidi overrides could reorder or split a log line.
    if ((cp >= 0x80 && cp < 0xa0) || cp === 0x2028 || cp === 0x2029 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
      for (let k = 0; k < len; k++) out += hex(buf[i + k] as number);
    } else {
      out += ch;
    }
    i += len;
  }
  return out;
}

function hex(b: number): string {
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

/** Length of the well-formed UTF-8 sequence starting at i, or 0 when it is not one. */
function utf8SequenceLength(buf: Buffer, i: number): number {
  const b0 = buf[i] as number;
  let len: number;
  let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) [len, min] = [2, 0x80];
  else if (b0 >= 0xe0 && b0 <= 0xef) [len, min] = [3, 0x800];
  else if (b0 >= 0xf0 && b0 <= 0xf4) [len, min] = [4, 0x10000];
  else return 0;
  if (i + len > buf.length) return 0;
  let cp = b0 & (0xff >> (len + 1));
  for (let k = 1; k < len; k++) {
    const c = buf[i + k] as number;
    if ((c & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}
