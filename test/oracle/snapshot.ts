// Every attribute rsync -a preserves, for every path of a tree, to compare two trees exactly.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { displayPath, joinPath } from '../../src/engine/bytes.js';

export interface Attrs {
  kind: string;
  perm: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  link: string | null;
  rdev: bigint;
  sha: string | null;
  ino: bigint;
  ctimeNs: bigint;
}

/** Map of escaped relative path -> attributes. `skipRoot` names are ignored at the top level. */
export function snapshot(root: string, skipRoot: string[] = []): Map<string, Attrs> {
  const out = new Map<string, Attrs>();
  const walk = (abs: Buffer, rel: Buffer) => {
    for (const name of fs.readdirSync(abs, { encoding: 'buffer' }) as Buffer[]) {
      if (rel.length === 0 && skipRoot.includes(name.toString())) continue;
      const p = joinPath(abs, name);
      const r = joinPath(rel, name);
      const st = fs.lstatSync(p, { bigint: true });
      const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : st.isCharacterDevice() ? 'char' : 'block';
      out.set(displayPath(r), {
        kind,
        perm: Number(st.mode) & (kind === 'symlink' ? 0 : 0o7777),
        uid: Number(st.uid),
        gid: Number(st.gid),
        size: kind === 'file' || kind === 'symlink' ? Number(st.size) : 0,
        mtimeNs: st.mtimeNs,
        link: kind === 'symlink' ? displayPath(fs.readlinkSync(p, { encoding: 'buffer' }) as Buffer) : null,
        rdev: kind === 'char' || kind === 'block' ? st.rdev : 0n,
        sha: kind === 'file' ? crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex') : null,
        ino: st.ino,
        ctimeNs: st.ctimeNs,
      });
      if (kind === 'dir') walk(p, r);
    }
  };
  walk(Buffer.from(root), Buffer.alloc(0));
  const rootSt = fs.lstatSync(root, { bigint: true });
  out.set('.', { kind: 'dir', perm: Number(rootSt.mode) & 0o7777, uid: Number(rootSt.uid), gid: Number(rootSt.gid), size: 0, mtimeNs: rootSt.mtimeNs, link: null, rdev: 0n, sha: null, ino: rootSt.ino, ctimeNs: rootSt.ctimeNs });
  return out;
}

const COMPARED: (keyof Attrs)[] = ['kind', 'perm', 'uid', 'gid', 'size', 'mtimeNs', 'link', 'rdev', 'sha'];

/** Human-readable differences between two snapshots (empty when equal), on the rsync -a attributes. */
export function diffSnapshots(expected: Map<string, Attrs>, actual: Map<string, Attrs>, limit = 20, runTimeDirs: string[] = []): string[] {
  const diffs: string[] = [];
  for (const [p, e] of expected) {
    const a = actual.get(p);
    if (!a) diffs.push(`missing: ${p} (${e.kind})`);
    // A directory kept only because it holds excluded entries gets the mtime of the run that emptied
    // the rest of it: each tool's own run time, so not comparable.
    else for (const k of COMPARED) if (e[k] !== a[k] && !(k === 'mtimeNs' && runTimeDirs.includes(p))) diffs.push(`${p}: ${k} expected ${String(e[k])} got ${String(a[k])}`);
  }
  for (const [p, a] of actual) if (!expected.has(p)) diffs.push(`extra: ${p} (${a.kind})`);
  return diffs.slice(0, limit);
}
