// The manifest as a checksum file that `xxhsum -c` checks on any machine, without home-lab: run it
// from the mirror root (`cd TARGET && xxhsum -c --strict FILE`).
//
// The format is what `xxhsum -H1` writes: `<16 hex digits><space><space><path>\n`, the path relative
// to TARGET, its bytes as they are. Two corners of xxhsum's format, checked against the source of
// xxhsum 0.8.1 (Debian bookworm) and 0.8.2+:
// - A name with a newline cannot be written literally. xxhsum 0.8.2+ writes such a line with a
//   leading backslash and the name escaped (`\\` for a backslash, `\n`, `\r`), and reads it back;
//   xxhsum 0.8.1 counts that line as improperly formatted (`--strict` makes that fail). Only names
//   with a newline get this form: a literal backslash or CR reads back correctly in both versions.
// - A path that is exactly `stdin` makes xxhsum -c hash its standard input; it is written `./stdin`.
import { unsafeKeyReason } from './keys.js';
import { joinPath } from '../engine/bytes.js';
import { pageByPath } from './queries.js';
import type { ManifestStore } from './store.js';

const NL = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const STDIN = Buffer.from('stdin');

/** One line of the checksum file, or why the row cannot be written safely. Pure. */
export function xxhsumLine(path: Buffer, hash: string): { line: Buffer; escaped: boolean } {
  const name = path.equals(STDIN) ? Buffer.from('./stdin') : path;
  if (!name.includes(NL)) return { line: Buffer.concat([Buffer.from(`${hash}  `), name, Buffer.from('\n')]), escaped: false };
  const out: number[] = [];
  for (const b of name) {
    if (b === BACKSLASH) out.push(BACKSLASH, BACKSLASH);
    else if (b === NL) out.push(BACKSLASH, 0x6e);
    else if (b === CR) out.push(BACKSLASH, 0x72);
    else out.push(b);
  }
  return { line: Buffer.concat([Buffer.from(`\\${hash}  `), Buffer.from(out), Buffer.from('\n')]), escaped: true };
}

export interface ExportResult {
  lines: number;
  /** Lines in the escaped form (names with a newline): xxhsum 0.8.1 cannot check those. */
  escaped: number;
  /** Rows not written because their path could lead xxhsum outside TARGET. */
  skipped: { path: Buffer; reason: string }[];
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Streams the checksum file, in (dir, name) order, through `sink` in chunks of about 64 KiB (await
 * it: stdout may apply backpressure). Reads the manifest a page at a time.
 */
export async function exportChecksums(store: ManifestStore, sink: (chunk: Buffer) => Promise<void> | void): Promise<ExportResult> {
  const result: ExportResult = { lines: 0, escaped: 0, skipped: [] };
  let parts: Buffer[] = [];
  let size = 0;
  let after: { dir: Buffer; name: Buffer } | null = null;
  for (;;) {
    const page = pageByPath(store, after, 1024);
    if (page.length === 0) break;
    for (const row of page) {
      const unsafe = unsafeKeyReason(row.dir, row.name);
      if (unsafe !== null) {
        result.skipped.push({ path: joinPath(row.dir, row.name), reason: unsafe });
        continue;
      }
      const { line, escaped } = xxhsumLine(row.path, row.hash);
      parts.push(line);
      size += line.length;
      result.lines++;
      if (escaped) result.escaped++;
    }
    after = page[page.length - 1] ?? null;
    if (size >= CHUNK_BYTES) {
      await sink(Buffer.concat(parts));
      parts = [];
      size = 0;
    }
  }
  if (size > 0) await sink(Buffer.concat(parts));
  return result;
}
