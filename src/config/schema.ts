// The config file's schema (zod@4) and every default, in one place. The YAML is validated against
// `configFileSchema` (strict objects: a misspelt key is an error, not silently ignored), then
// `resolveConfig` turns it into the fully resolved `Config` every other module reads: absolute paths,
// defaults applied, one disk kind per disk. Loading and error messages live in load.ts.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { monitorConfigSchema, notifyConfigSchema } from './notify-schema.js';

/** Names become directory names on the disk, mapper names and metric labels: keep them boring. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const name = (what: string) =>
  z.string().regex(NAME, { error: `a ${what} name is letters, digits, '.', '_' and '-', starting with a letter or digit` });
/** Filesystem UUIDs (ext4: 8-4-4-4-12 hex; FAT: XXXX-XXXX): no slash, so /dev/disk/by-uuid/UUID is safe. */
const uuid = z.string().regex(/^[0-9A-Za-z][0-9A-Za-z-]*$/, { error: 'expected a filesystem UUID as `blkid` prints it' });
const pathString = z.string().min(1, { error: 'expected a path' });
const unitName = z.string().regex(/^[A-Za-z0-9:_.@\\-]+$/, { error: 'expected a systemd unit name such as app.service' });
const excludes = z.array(z.string().min(1)).default([]);
const mountOptions = z.array(z.string().regex(/^[^,\s]+$/, { error: 'one mount option per item, without commas' })).default([]);

const luksSchema = z.strictObject({
  /** UUID of the LUKS partition (`blkid` on the partition, TYPE="crypto_LUKS"). */
  uuid,
  /** The key file; never leaves the server, never logged. */
  keyFile: pathString,
  /** /dev/mapper/<mapperName>; default home-lab-<disk name>. */
  mapperName: name('mapper').optional(),
  mountOptions,
});

const filesystemSchema = z.strictObject({
  uuid,
  mountOptions,
});

const directorySchema = z.strictObject({
  /** When given, the mount must be backed by this filesystem UUID. */
  uuid: uuid.optional(),
  /**
   * true (default): the directory must be a mount point (never back up into an empty directory on
   * the root filesystem). false: any directory will do: for the demo and tests only.
   */
  requireMountPoint: z.boolean().default(true),
});

const diskSchema = z
  .strictObject({
    name: name('disk'),
    mountPoint: pathString,
    luks: luksSchema.optional(),
    filesystem: filesystemSchema.optional(),
    directory: directorySchema.optional(),
    /** rsync-style patterns applied to every source on this disk (the small disk skips big media). */
    excludes,
  })
  .check((ctx) => {
    const kinds = (['luks', 'filesystem', 'directory'] as const).filter((k) => ctx.value[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message:
          kinds.length === 0
            ? 'say what the disk is: one of `luks: {uuid, keyFile}`, `filesystem: {uuid}` or `directory: {}`'
            : `a disk is one kind, not ${kinds.join(' and ')}`,
      });
    }
  });

const sourceSchema = z.strictObject({
  /** The directory name on the disk: <disk>/<name>. */
  name: name('source'),
  /** Absolute, or relative to `home`; default `home`/<name>. */
  path: pathString.optional(),
  /** The source is its own filesystem (an encrypted data disk): refuse to run when it is not mounted. */
  requireMountPoint: z.boolean().default(false),
  excludes,
});

const servicesSchema = z
  .strictObject({
    /** Find containers with podman and stop their systemd units while their writable volumes are copied. */
    discover: z.boolean().default(true),
    /** Units stopped while the listed directories are copied, found by podman or not. */
    alwaysStop: z
      .array(z.strictObject({ unit: unitName, volumes: z.array(pathString).min(1, { error: 'list the directories this unit writes' }) }))
      .default([]),
    /** Units never stopped (the notification server...): their volumes are copied live with the source. */
    neverStop: z.array(unitName).default([]),
    stopTimeoutSec: z.number().positive().default(120),
    podman: z.string().min(1).default('podman'),
    systemctl: z.string().min(1).default('systemctl'),
  })
  .prefault({});

export const DEFAULTS = {
  /** Share of the copied files re-read and compared after each step, and scrubbed per night. */
  scrubPercent: 1,
  /**
   * Deletion guard (issue 7): refuse when a mirror would delete more than maxPercent of the
   * destination's files AND more than maxFiles files (the larger of the two limits applies, so a small
   * tree can still lose a handful of files and a large one 10 %).
   */
  deletionsMaxFiles: 1000,
  deletionsMaxPercent: 10,
  trashRetentionDays: 30,
  jobs: 2,
} as const;

export const configFileSchema = z.strictObject({
  /** Default $HOME. Sources are relative to it. */
  home: pathString.optional(),
  /** Local state (last attempt/success per disk); default $XDG_STATE_HOME/home-lab or ~/.local/state/home-lab. */
  stateDir: pathString.optional(),
  sources: z.array(sourceSchema).min(1, { error: 'list at least one source' }),
  disks: z.array(diskSchema).min(1, { error: 'list at least one backup disk' }),
  /** How mount/umount/cryptsetup/blkid run: as root directly, or through `sudo -n`. auto: root when uid 0. */
  privilege: z.enum(['auto', 'root', 'sudo']).default('auto'),
  services: servicesSchema,
  scrub: z.strictObject({ percent: z.number().min(0).max(100).default(DEFAULTS.scrubPercent) }).prefault({}),
  deletions: z
    .strictObject({
      maxFiles: z.number().int().min(0).default(DEFAULTS.deletionsMaxFiles),
      maxPercent: z.number().min(0).max(100).default(DEFAULTS.deletionsMaxPercent),
    })
    .prefault({}),
  trash: z
    .strictObject({ retentionDays: z.number().int().min(0).default(DEFAULTS.trashRetentionDays) })
    .prefault({}),
  /** Copy worker threads. */
  jobs: z.number().int().min(1).max(64).default(DEFAULTS.jobs),
  notify: notifyConfigSchema,
  monitor: monitorConfigSchema,
});

export type ConfigFile = z.output<typeof configFileSchema>;

export type DiskKind =
  | { type: 'luks'; uuid: string; keyFile: string; mapperName: string; mountOptions: string[] }
  | { type: 'filesystem'; uuid: string; mountOptions: string[] }
  | { type: 'directory'; uuid: string | null; requireMountPoint: boolean };

export interface DiskConfig {
  name: string;
  mountPoint: string;
  kind: DiskKind;
  excludes: string[];
}

export interface SourceConfig {
  name: string;
  /** Absolute. */
  path: string;
  requireMountPoint: boolean;
  excludes: string[];
}

export interface Config {
  /** The file it came from (null for an embedded config). */
  file: string | null;
  home: string;
  stateDir: string;
  sources: SourceConfig[];
  disks: DiskConfig[];
  privilege: 'root' | 'sudo';
  services: {
    discover: boolean;
    alwaysStop: { unit: string; volumes: string[] }[];
    neverStop: string[];
    stopTimeoutSec: number;
    podman: string;
    systemctl: string;
  };
  scrub: { percent: number };
  deletions: { maxFiles: number; maxPercent: number };
  trash: { retentionDays: number };
  jobs: number;
  notify: ConfigFile['notify'];
  monitor: ConfigFile['monitor'];
}

export interface ResolveContext {
  /** Relative paths in the file (home, stateDir, mountPoint, keyFile) are relative to this directory. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  uid: number;
  file: string | null;
}

/** The default config file: $XDG_CONFIG_HOME/home-lab/config.yaml or ~/.config/home-lab/config.yaml. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'home-lab', 'config.yaml');
}

/** Validated file -> resolved Config: every default and every path decision is made here. */
export function resolveConfig(file: ConfigFile, ctx: ResolveContext): Config {
  const userHome = ctx.env.HOME || os.homedir();
  const abs = (p: string, base = ctx.baseDir) =>
    p === '~' ? userHome : p.startsWith('~/') ? path.join(userHome, p.slice(2)) : path.resolve(base, p);
  const home = abs(file.home ?? userHome);
  const stateDir = abs(file.stateDir ?? path.join(ctx.env.XDG_STATE_HOME || path.join(userHome, '.local', 'state'), 'home-lab'));
  return {
    file: ctx.file,
    home,
    stateDir,
    sources: file.sources.map((s) => ({
      name: s.name,
      path: abs(s.path ?? s.name, home),
      requireMountPoint: s.requireMountPoint,
      excludes: s.excludes,
    })),
    disks: file.disks.map((d) => ({ name: d.name, mountPoint: abs(d.mountPoint), excludes: d.excludes, kind: diskKind(d, abs) })),
    privilege: file.privilege === 'auto' ? (ctx.uid === 0 ? 'root' : 'sudo') : file.privilege,
    services: {
      ...file.services,
      // A program with a slash is a path (relative to the config file); a bare name is found on PATH.
      podman: file.services.podman.includes('/') ? abs(file.services.podman) : file.services.podman,
      systemctl: file.services.systemctl.includes('/') ? abs(file.services.systemctl) : file.services.systemctl,
      alwaysStop: file.services.alwaysStop.map((s) => ({ unit: s.unit, volumes: s.volumes.map((v) => abs(v, home)) })),
    },
    scrub: file.scrub,
    deletions: file.deletions,
    trash: file.trash,
    jobs: file.jobs,
    // Token and metrics files are paths like the others: relative to the config file, ~ expanded
    // (under systemd the working directory is not the config's).
    notify: {
      ...file.notify,
      ...(file.notify.gotify ? { gotify: { ...file.notify.gotify, tokenFile: abs(file.notify.gotify.tokenFile) } } : {}),
      ...(file.notify.ntfy ? { ntfy: { ...file.notify.ntfy, ...(file.notify.ntfy.tokenFile ? { tokenFile: abs(file.notify.ntfy.tokenFile) } : {}) } } : {}),
    },
    monitor: { ...file.monitor, ...(file.monitor.metricsFile ? { metricsFile: abs(file.monitor.metricsFile) } : {}) },
  };
}

function diskKind(d: ConfigFile['disks'][number], abs: (p: string) => string): DiskKind {
  if (d.luks) {
    return { type: 'luks', uuid: d.luks.uuid, keyFile: abs(d.luks.keyFile), mapperName: d.luks.mapperName ?? `home-lab-${d.name}`, mountOptions: d.luks.mountOptions };
  }
  if (d.filesystem) return { type: 'filesystem', uuid: d.filesystem.uuid, mountOptions: d.filesystem.mountOptions };
  // The schema guarantees exactly one kind; directory is what is left.
  const dir = d.directory ?? { requireMountPoint: true };
  return { type: 'directory', uuid: dir.uuid ?? null, requireMountPoint: dir.requireMountPoint };
}

/** Checks that need the whole file: unique names. Returns [keyPath, message] pairs. */
export function crossChecks(file: ConfigFile): [(string | number)[], string][] {
  const problems: [(string | number)[], string][] = [];
  const unique = (list: { name: string }[], key: string) => {
    const seen = new Map<string, number>();
    list.forEach((item, i) => {
      const first = seen.get(item.name);
      if (first !== undefined) problems.push([[key, i, 'name'], `"${item.name}" is also the name of ${key}[${first}]; names must be unique`]);
      else seen.set(item.name, i);
    });
  };
  unique(file.sources, 'sources');
  unique(file.disks, 'disks');
  const mappers = new Map<string, number>();
  file.disks.forEach((d, i) => {
    if (!d.luks) return;
    const m = d.luks.mapperName ?? `home-lab-${d.name}`;
    const first = mappers.get(m);
    if (first !== undefined) problems.push([['disks', i, 'luks', 'mapperName'], `mapper name "${m}" is also used by disks[${first}]`]);
    else mappers.set(m, i);
  });
  return problems;
}
