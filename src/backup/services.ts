// Pure: from the discovered containers and the config, which units are stopped together and which
// directories are copied while they are stopped. Containers of one unit or one pod, and units whose
// volumes are the same directory or nested in each other, form one stop group: stopping one of them
// alone would let the other keep writing the shared data mid-copy.
import path from 'node:path';
import type { ContainerInfo } from '../host/podman.js';

export interface PlanSource {
  name: string;
  /** Canonical (realpath) absolute path. */
  path: string;
}

export interface Volume {
  /** Canonical absolute path on the host. */
  path: string;
  source: string;
  /** Relative to the source root, '/'-separated; '' when the volume is the whole source. */
  rel: string;
}

export interface StopGroup {
  units: string[];
  containers: string[];
  /** Outermost volumes only (a volume nested in another is copied with it), sorted. */
  volumes: Volume[];
}

export interface ServicePlan {
  groups: StopGroup[];
  /** Why some writable directories are copied while their writer runs, or not here at all. */
  notes: string[];
}

export interface ManualService {
  unit: string;
  /** Canonical absolute paths. */
  volumes: string[];
}

/** The source holding p, and p relative to it; null when p is outside every source. */
export function locate(p: string, sources: readonly PlanSource[]): { source: PlanSource; rel: string } | null {
  for (const s of sources) {
    const rel = path.relative(s.path, p);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) return { source: s, rel: rel.split(path.sep).join('/') };
  }
  return null;
}

function isWithin(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export function planServices(input: {
  containers: readonly ContainerInfo[];
  manual: readonly ManualService[];
  neverStop: readonly string[];
  sources: readonly PlanSource[];
}): ServicePlan {
  const notes: string[] = [];
  const never = new Set(input.neverStop);
  // unit -> its containers and volumes
  const units = new Map<string, { containers: Set<string>; pods: Set<string>; volumes: Map<string, Volume> }>();
  const unitEntry = (unit: string) => {
    let e = units.get(unit);
    if (!e) units.set(unit, (e = { containers: new Set(), pods: new Set(), volumes: new Map() }));
    return e;
  };

  const accept = (owner: string, p: string, isDirectory: boolean, liveReason: string | null): Volume | null => {
    const where = locate(p, input.sources);
    if (!where) {
      const contains = input.sources.filter((s) => isWithin(s.path, p)).map((s) => s.name);
      notes.push(
        contains.length > 0
          ? `${owner}: writable ${p} contains source ${contains.join(', ')}: not stopped for it; the source is copied while it runs`
          : `${owner}: writable ${p} is outside every source: not backed up by this run`,
      );
      return null;
    }
    if (liveReason) {
      notes.push(`${owner}: ${p} is copied with source ${where.source.name} while it runs (${liveReason})`);
      return null;
    }
    if (!isDirectory) {
      notes.push(`${owner}: ${p} is not a directory: copied with source ${where.source.name} while it runs`);
      return null;
    }
    return { path: p, source: where.source.name, rel: where.rel };
  };

  for (const c of input.containers) {
    const owner = `container ${c.name}${c.unit ? ` (${c.unit})` : ''}`;
    const live = c.unit === null ? `no ${'PODMAN_SYSTEMD_UNIT'} label: no unit to stop` : never.has(c.unit) ? 'services.neverStop' : null;
    if (c.unit === null && c.rwBinds.length === 0) notes.push(`${owner}: no ${'PODMAN_SYSTEMD_UNIT'} label and no writable bind mounts: ignored`);
    const volumes: Volume[] = [];
    for (const m of c.rwBinds) {
      if (!m.exists) {
        notes.push(`${owner}: writable ${m.path} does not exist on the host: skipped`);
        continue;
      }
      const v = accept(owner, m.path, m.isDirectory, live);
      if (v) volumes.push(v);
    }
    if (c.unit === null || never.has(c.unit)) continue;
    const e = unitEntry(c.unit);
    e.containers.add(c.name);
    if (c.pod) e.pods.add(c.pod);
    for (const v of volumes) e.volumes.set(v.path, v);
  }
  for (const m of input.manual) {
    if (never.has(m.unit)) {
      notes.push(`${m.unit} is in both services.alwaysStop and services.neverStop: not stopped`);
      continue;
    }
    const e = unitEntry(m.unit);
    for (const p of m.volumes) {
      const v = accept(m.unit, p, true, null);
      if (v) e.volumes.set(v.path, v);
    }
  }

  // Union-find over units: same pod, or overlapping volumes.
  const names = [...units.keys()].sort();
  const parent = new Map(names.map((n) => [n, n]));
  const find = (n: string): string => {
    let r = n;
    while (parent.get(r) !== r) r = parent.get(r) as string;
    parent.set(n, r);
    return r;
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a = units.get(names[i] as string)!;
      const b = units.get(names[j] as string)!;
      const samePod = [...a.pods].some((p) => b.pods.has(p));
      const overlap = [...a.volumes.keys()].some((x) => [...b.volumes.keys()].some((y) => isWithin(x, y) || isWithin(y, x)));
      if (samePod || overlap) union(names[i] as string, names[j] as string);
    }
  }

  const byRoot = new Map<string, StopGroup>();
  for (const n of names) {
    const root = find(n);
    let g = byRoot.get(root);
    if (!g) byRoot.set(root, (g = { units: [], containers: [], volumes: [] }));
    const e = units.get(n)!;
    g.units.push(n);
    g.containers.push(...e.containers);
    g.volumes.push(...e.volumes.values());
  }
  const groups: StopGroup[] = [];
  for (const g of byRoot.values()) {
    const sorted = [...new Map(g.volumes.map((v) => [v.path, v])).values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const outermost = sorted.filter((v) => !sorted.some((o) => o !== v && isWithin(v.path, o.path)));
    if (outermost.length === 0) {
      notes.push(`${g.units.join(', ')}: no writable directory inside a source: not stopped`);
      continue;
    }
    groups.push({ units: g.units, containers: [...new Set(g.containers)].sort(), volumes: outermost });
  }
  return { groups, notes };
}

/**
 * Excludes for the source pass: the volumes already copied while their service was stopped, anchored
 * at the source root with a trailing slash (directories only). Excluded entries in the destination are
 * kept by the engine, like rsync without --delete-excluded: neither copied twice nor deleted.
 */
export function volumeExcludes(volumes: readonly Volume[], source: string): string[] {
  return volumes.filter((v) => v.source === source && v.rel !== '').map((v) => `/${escapePattern(v.rel)}/`);
}

/** Wildcards in a literal path are escaped with a backslash, as rsync's patterns allow. */
export function escapePattern(literal: string): string {
  return literal.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}

/**
 * The disk's and the source's excludes, re-rooted for a volume mirror at `rel`: floating patterns
 * (no leading '/') apply as they are; an anchored pattern applies only when it points inside the
 * volume, with the volume's part removed; other anchored patterns cannot match inside it.
 */
export function excludesForVolume(patterns: readonly string[], rel: string): string[] {
  const out: string[] = [];
  const prefix = `/${rel}/`;
  for (const p of patterns) {
    if (!p.startsWith('/')) out.push(p);
    else if (rel === '') out.push(p);
    else if (p.startsWith(prefix) && p.length > prefix.length) out.push(`/${p.slice(prefix.length)}`);
  }
  return out;
}
