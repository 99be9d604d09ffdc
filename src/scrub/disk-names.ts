// The regular files under a mirror root, per directory, as name fingerprints (src/scrub/name-set.ts):
// listed by native/namesums.c on libuv's pool, so verify can start the search for files the manifest
// does not know with the run and let it go on while the rows are checked, instead of walking the
// tree in JavaScript alone at the end. Skipped as src/manifest/tree.ts skips: home-lab's own
// directory at the root and temp files of a copy in flight.
import { getSystemErrorName } from 'node:util';
import { hlfs } from '../native/hlfs.js';
import { toBuffer, trimSlashes } from '../engine/bytes.js';
import { TEMP_PREFIX } from '../engine/copy-file.js';
import { MANIFEST_DIR } from '../manifest/store.js';
import type { NameSet } from './name-set.js';

export interface DirNames {
  /** Relative to the root ('' for the root itself). */
  dir: Buffer;
  /** Its regular files' names (empty when it could not be listed). */
  names: NameSet;
  /** Why it could not be listed (nothing under it was visited), as walkTree says it; else null. */
  error: string | null;
}

const HEAD_WORDS = 5;

/** Every directory under root that could be reached, in no particular order. */
export async function diskNameSums(root: string | Buffer): Promise<DirNames[]> {
  const blob = await hlfs.treeNameSumsAsync(trimSlashes(toBuffer(root)), Buffer.from(MANIFEST_DIR), Buffer.from(TEMP_PREFIX));
  // Host byte order, as the C side wrote the words; every record starts 4-byte aligned.
  const words = new Uint32Array(blob, 0, blob.byteLength >>> 2);
  const out: DirNames[] = [];
  for (let w = 0; w + HEAD_WORDS <= words.length; ) {
    const relLength = words[w] as number;
    const errno = words[w + 1] as number;
    out.push({
      dir: Buffer.from(blob, (w + HEAD_WORDS) * 4, relLength),
      names: { count: words[w + 2] as number, sumA: words[w + 3] as number, sumB: words[w + 4] as number },
      error: errno === 0 ? null : `${getSystemErrorName(-errno)} (readdir)`,
    });
    w += HEAD_WORDS + ((relLength + 3) >>> 2);
  }
  return out;
}
