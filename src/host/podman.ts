// Finds the running containers and what they write: `podman container list --format json` (running
// only), then one `podman container inspect` for all of them. The PODMAN_SYSTEMD_UNIT label (set by
// `podman generate systemd` and by quadlet) names the unit that owns a container; its writable bind
// mounts are the data that must not change while it is copied.
import fs from 'node:fs';
import path from 'node:path';
import { describeFailure, type CommandRunner } from './command.js';

export const UNIT_LABEL = 'PODMAN_SYSTEMD_UNIT';

export interface ContainerMount {
  /** Canonical (realpath) when it exists, else as podman reports it. */
  path: string;
  /** False when the host path could not be resolved (deleted since the container started). */
  exists: boolean;
  isDirectory: boolean;
}

export interface ContainerInfo {
  id: string;
  name: string;
  /** The systemd unit from the PODMAN_SYSTEMD_UNIT label, or null when unlabelled. */
  unit: string | null;
  /** Pod id, or null. */
  pod: string | null;
  /** Writable bind mounts (RW, type bind). Read-only mounts and named volumes are not listed. */
  rwBinds: ContainerMount[];
}

export type DiscoveryResult = { ok: true; containers: ContainerInfo[] } | { ok: false; error: string };

interface RawMount {
  Type?: string;
  Source?: string;
  RW?: boolean;
}

interface RawInspect {
  Id?: string;
  Name?: string;
  Pod?: string;
  Config?: { Labels?: Record<string, string> | null };
  Mounts?: RawMount[] | null;
}

/** Pure: the fields we use from `podman container inspect` JSON; mounts not yet canonicalized. */
export function parseInspect(json: string): { id: string; name: string; unit: string | null; pod: string | null; rwBindSources: string[] }[] {
  const raw = JSON.parse(json) as RawInspect[];
  return raw.map((c) => ({
    id: c.Id ?? '',
    name: (c.Name ?? '').replace(/^\//, ''),
    unit: c.Config?.Labels?.[UNIT_LABEL] || null,
    pod: c.Pod || null,
    rwBindSources: (c.Mounts ?? []).filter((m) => m.Type === 'bind' && m.RW === true && m.Source).map((m) => m.Source as string),
  }));
}

export function canonicalMount(source: string): ContainerMount {
  try {
    const real = fs.realpathSync(source);
    return { path: real, exists: true, isDirectory: fs.statSync(real).isDirectory() };
  } catch {
    return { path: path.resolve(source), exists: false, isDirectory: false };
  }
}

export async function discoverContainers(run: CommandRunner, podman = 'podman'): Promise<DiscoveryResult> {
  const listArgs = ['container', 'list', '--format', 'json'];
  const list = await run(podman, listArgs, { timeoutMs: 60_000 });
  if (!list.ok) return { ok: false, error: describeFailure(podman, listArgs, list) };
  let ids: string[];
  try {
    ids = (JSON.parse(list.stdout || '[]') as { Id?: string }[]).map((c) => c.Id ?? '').filter((id) => id !== '');
  } catch (error) {
    return { ok: false, error: `\`${podman} container list\` printed something that is not JSON: ${(error as Error).message}` };
  }
  if (ids.length === 0) return { ok: true, containers: [] };
  const inspectArgs = ['container', 'inspect', ...ids];
  const inspect = await run(podman, inspectArgs, { timeoutMs: 60_000 });
  if (!inspect.ok) {
    // A container that stopped between list and inspect makes the whole call fail: ask once more.
    const again = await run(podman, ['container', 'list', '--format', 'json'], { timeoutMs: 60_000 });
    const still = again.ok ? (JSON.parse(again.stdout || '[]') as { Id?: string }[]).map((c) => c.Id ?? '').filter((id) => ids.includes(id)) : [];
    const retry = still.length > 0 ? await run(podman, ['container', 'inspect', ...still], { timeoutMs: 60_000 }) : null;
    if (!retry?.ok) return { ok: false, error: describeFailure(podman, ['container', 'inspect', '...'], retry ?? inspect) };
    return { ok: true, containers: toInfo(retry.stdout) };
  }
  return { ok: true, containers: toInfo(inspect.stdout) };
}

function toInfo(json: string): ContainerInfo[] {
  return parseInspect(json).map((c) => ({ id: c.id, name: c.name, unit: c.unit, pod: c.pod, rwBinds: c.rwBindSources.map(canonicalMount) }));
}
