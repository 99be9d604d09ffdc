// Pure: merge the sorted listings of one directory (source, destination) into actions, as rclone's
// march does. No I/O: the executor carries the actions out.
import type { Entry } from './entry.js';
import { attrsEqual, quickCheckEqual, sameIdentity, type CompareOptions } from './compare.js';

export type Action =
  /** Source dir with no dir at DST: create it (after removing `replace`, an entry of another kind). */
  | { kind: 'mkdir'; src: Entry; replace: Entry | null }
  /** Dir on both sides: descend; fix attributes afterwards if they differ. */
  | { kind: 'descend'; src: Entry; dst: Entry }
  /** Regular file to copy: missing, changed, or of another kind at DST (`replace`: what is there now). */
  | { kind: 'copy'; src: Entry; replace: Entry | null }
  /** Regular file on both sides with equal size (checksum mode): compare content, copy if different. */
  | { kind: 'checksum'; src: Entry; dst: Entry }
  /** Symlink or special file to (re)create. */
  | { kind: 'create'; src: Entry; replace: Entry | null }
  /** Same content and kind; mode, owner or mtime differ. */
  | { kind: 'attrs'; src: Entry; dst: Entry }
  /** Nothing to do to the entry itself (a regular file's manifest row is still checked). */
  | { kind: 'unchanged'; src: Entry; dst: Entry }
  /** Extra in DST: deleted at the end of the run, if nothing failed and the guard allows. */
  | { kind: 'extra'; dst: Entry };

export function planDirectory(srcEntries: readonly Entry[], dstEntries: readonly Entry[], options: CompareOptions): Action[] {
  const actions: Action[] = [];
  let i = 0;
  let j = 0;
  while (i < srcEntries.length || j < dstEntries.length) {
    const s = srcEntries[i];
    const d = dstEntries[j];
    const order = s === undefined ? 1 : d === undefined ? -1 : Buffer.compare(s.name, d.name);
    if (order > 0) {
      actions.push({ kind: 'extra', dst: d as Entry });
      j++;
    } else if (order < 0) {
      actions.push(planOne(s as Entry, null, options));
      i++;
    } else {
      actions.push(planOne(s as Entry, d as Entry, options));
      i++;
      j++;
    }
  }
  return actions;
}

export function planOne(src: Entry, dst: Entry | null, options: CompareOptions): Action {
  if (src.kind === 'dir') {
    if (dst?.kind === 'dir') return { kind: 'descend', src, dst };
    return { kind: 'mkdir', src, replace: dst };
  }
  if (dst === null || !sameIdentity(src, dst)) {
    return src.kind === 'file' ? { kind: 'copy', src, replace: dst } : { kind: 'create', src, replace: dst };
  }
  if (src.kind === 'file') {
    if (options.checksum) {
      if (src.sizeBytes !== dst.sizeBytes) return { kind: 'copy', src, replace: dst };
      return { kind: 'checksum', src, dst };
    }
    if (!quickCheckEqual(src, dst)) return { kind: 'copy', src, replace: dst };
  }
  return attrsEqual(src, dst, options) ? { kind: 'unchanged', src, dst } : { kind: 'attrs', src, dst };
}
