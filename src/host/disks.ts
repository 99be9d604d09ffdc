// Picks and mounts the backup disk: the disks of the config are tried in order, the first present
// one is used, and every disk tried is reported with the reason it was not used. Never backs up into
// a directory that is not backed by the expected device (an empty mount point on the root filesystem
// is the classic way a backup fills the system disk and protects nothing).
//
// Three kinds (config/schema.ts DiskKind): a LUKS partition by UUID with a key file, a plain
// filesystem by UUID, or a directory that is already mounted. Whatever this module mounts or opens it
// undoes in release(); what it found mounted it leaves mounted.
import fs from 'node:fs';
import path from 'node:path';
import type { DiskConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { describeFailure, type CommandRunner } from './command.js';
import { deviceNumbers, mountAt, readMountInfo, sameDevice, underlyingDevices, type MountEntry } from './mounts.js';

export interface DiskHostOptions {
  run: CommandRunner;
  /** mount/umount/cryptsetup/blkid directly (root) or through `sudo -n`. */
  privilege: 'root' | 'sudo';
  logger: Logger;
  /** Where udev links filesystems by UUID; when the link is missing, `blkid -U` is asked. */
  byUuidDir?: string;
  /** Where `cryptsetup open` creates its devices. */
  mapperDir?: string;
  mountinfoFile?: string;
  sysRoot?: string;
}

export interface MountedDisk {
  config: DiskConfig;
  /** The real path of the mount point: the root of the backup. */
  root: string;
  /** The device behind it (for logs), or null for a plain directory. */
  device: string | null;
  /** What this run did to get it: undone in release(). */
  how: 'already-mounted' | 'mounted' | 'opened-and-mounted' | 'plain-directory';
  /** Flushes, unmounts and closes what was opened here. Never throws; returns what failed. */
  release(): Promise<string[]>;
}

export interface DiskAttempt {
  disk: string;
  reason: string;
}

export type AcquireResult = { ok: true; disk: MountedDisk; tried: DiskAttempt[] } | { ok: false; tried: DiskAttempt[] };

const MOUNT_TIMEOUT_MS = 120_000;
// argon2 key derivation in `cryptsetup open` takes seconds on a slow CPU.
const CRYPT_TIMEOUT_MS = 180_000;

/** Tries each disk in order; the first usable one wins. */
export async function acquireDisk(disks: readonly DiskConfig[], options: DiskHostOptions): Promise<AcquireResult> {
  const tried: DiskAttempt[] = [];
  for (const disk of disks) {
    const result = await tryDisk(disk, options);
    if (result.ok) {
      options.logger.info(`disk ${disk.name}: using ${result.disk.root} (${describeHow(result.disk)})`);
      return { ok: true, disk: result.disk, tried };
    }
    options.logger.info(`disk ${disk.name}: not used: ${result.reason}`);
    tried.push({ disk: disk.name, reason: result.reason });
  }
  return { ok: false, tried };
}

export function describeAttempts(tried: readonly DiskAttempt[]): string {
  return tried.map((t) => `disk ${t.disk}: ${t.reason}`).join('; ');
}

function describeHow(d: MountedDisk): string {
  switch (d.how) {
    case 'already-mounted':
      return `already mounted from ${d.device}`;
    case 'mounted':
      return `mounted ${d.device}`;
    case 'opened-and-mounted':
      return `opened LUKS and mounted ${d.device}`;
    case 'plain-directory':
      return 'a plain directory: requireMountPoint is off (demo/test only)';
  }
}

type TryResult = { ok: true; disk: MountedDisk } | { ok: false; reason: string };

interface Resolved {
  /** The path to hand to cryptsetup/mount: the by-uuid link when there is one. */
  path: string;
  dev: { major: number; minor: number };
}

async function tryDisk(disk: DiskConfig, o: DiskHostOptions): Promise<TryResult> {
  let root: string;
  try {
    root = fs.realpathSync(disk.mountPoint);
    if (!fs.statSync(root).isDirectory()) return { ok: false, reason: `mount point ${disk.mountPoint} is not a directory` };
  } catch {
    return { ok: false, reason: `mount point ${disk.mountPoint} does not exist (create it: mkdir -p ${disk.mountPoint})` };
  }
  const mounted = mountAt(readMountInfo(o.mountinfoFile), root);
  const kind = disk.kind;
  const uuid = kind.uuid;
  const resolved = uuid ? await resolveUuid(uuid, o) : null;
  const keep = (how: MountedDisk['how'], device: string | null): TryResult => ({
    ok: true,
    disk: { config: disk, root, device, how, release: () => flushOnly(root, o) },
  });

  if (mounted) {
    const from = `${mounted.source} (${mounted.major}:${mounted.minor})`;
    if (kind.type === 'luks') {
      const mapper = deviceNumbers(path.join(o.mapperDir ?? '/dev/mapper', kind.mapperName));
      const below = underlyingDevices(mounted, o.sysRoot);
      if ((mapper && sameDevice(mapper, mounted)) || (resolved && below.some((d) => sameDevice(d, resolved.dev)))) {
        return keep('already-mounted', mounted.source);
      }
      return { ok: false, reason: `${root} is mounted from ${from}, not from the LUKS disk ${uuid} (mapper ${kind.mapperName}): refusing to write into it` };
    }
    if (uuid && !(resolved && sameDevice(resolved.dev, mounted)) && (await probeUuid(mounted.source, o)) !== uuid) {
      if (!resolved) return { ok: false, reason: `${root} is mounted from ${from}, but no device has UUID ${uuid}: refusing to write into it` };
      return { ok: false, reason: `${root} is mounted from ${from}, not from UUID ${uuid} (${resolved.path}): refusing to write into it` };
    }
    return keep('already-mounted', mounted.source);
  }

  switch (kind.type) {
    case 'directory':
      if (kind.requireMountPoint) {
        return { ok: false, reason: `${root} is not a mount point (nothing is mounted there): refusing to back up into a directory of the parent filesystem` };
      }
      return keep('plain-directory', null);
    case 'filesystem':
      if (!resolved) return { ok: false, reason: `not present: no device with UUID ${uuid}` };
      return mountDevice(disk, root, resolved.path, resolved.dev, kind.mountOptions, 'mounted', async () => [], o);
    case 'luks': {
      if (!resolved) return { ok: false, reason: `not present: no LUKS partition with UUID ${uuid}` };
      const mapperPath = path.join(o.mapperDir ?? '/dev/mapper', kind.mapperName);
      let mapper = deviceNumbers(mapperPath);
      let close = async (): Promise<string[]> => [];
      if (mapper) {
        // Opened before (an earlier run that could not close it): use it only if it sits on our partition.
        const below = underlyingDevices(mapper, o.sysRoot);
        if (below.length > 0 && !below.some((d) => sameDevice(d, resolved.dev))) {
          return { ok: false, reason: `${mapperPath} is open on another device than UUID ${uuid}: close it (cryptsetup close ${kind.mapperName})` };
        }
        o.logger.info(`disk ${disk.name}: ${mapperPath} is already open; using it (left open afterwards)`);
      } else {
        try {
          fs.accessSync(kind.keyFile, fs.constants.R_OK);
        } catch (error) {
          // sudo may still read a key file this user cannot: only stop early when running as root.
          if (o.privilege === 'root') return { ok: false, reason: `key file ${kind.keyFile} is not readable (${(error as NodeJS.ErrnoException).code})` };
        }
        const args = ['open', resolved.path, kind.mapperName, '--key-file', kind.keyFile];
        const opened = await privileged(o, 'cryptsetup', args, CRYPT_TIMEOUT_MS);
        if (!opened.ok) return { ok: false, reason: describeFailure('cryptsetup', args, opened) };
        mapper = deviceNumbers(mapperPath);
        close = async () => {
          const closeArgs = ['close', kind.mapperName];
          const closed = await privileged(o, 'cryptsetup', closeArgs, CRYPT_TIMEOUT_MS);
          return closed.ok ? [] : [describeFailure('cryptsetup', closeArgs, closed)];
        };
        if (!mapper) {
          const errors = await close();
          return { ok: false, reason: `cryptsetup open succeeded but ${mapperPath} is not a block device${errors.length ? `; ${errors.join('; ')}` : ''}` };
        }
      }
      return mountDevice(disk, root, mapperPath, mapper, kind.mountOptions, 'opened-and-mounted', close, o);
    }
  }
}

interface PrivilegedResult {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

function privileged(o: DiskHostOptions, program: string, args: readonly string[], timeoutMs: number): Promise<PrivilegedResult> {
  return o.privilege === 'sudo' ? o.run('sudo', ['-n', program, ...args], { timeoutMs }) : o.run(program, args, { timeoutMs });
}

/** UUID -> device: the udev link when there is one, else `blkid -U` (no udev in containers/initramfs). */
async function resolveUuid(uuid: string, o: DiskHostOptions): Promise<Resolved | null> {
  const link = path.join(o.byUuidDir ?? '/dev/disk/by-uuid', uuid);
  const viaLink = deviceNumbers(link);
  if (viaLink) return { path: link, dev: viaLink };
  // -c /dev/null: probe the devices now instead of trusting blkid's cache file, which may be stale.
  const found = await privileged(o, 'blkid', ['-c', '/dev/null', '-U', uuid], 30_000);
  const device = found.ok ? found.stdout.trim().split('\n')[0] : undefined;
  if (!device) return null;
  const dev = deviceNumbers(device);
  return dev ? { path: device, dev } : null;
}

/**
 * The UUID in a device's own superblock (blkid -p reads the device, no cache). `blkid -U` can miss a
 * device whose contents changed a moment ago: seen here for ~2 s after a loop device was re-attached
 * to another image (a disk swapped on the same device node is the same case).
 */
async function probeUuid(device: string, o: DiskHostOptions): Promise<string | null> {
  if (!device.startsWith('/dev/')) return null;
  const r = await privileged(o, 'blkid', ['-p', '-o', 'value', '-s', 'UUID', device], 30_000);
  return r.ok ? r.stdout.trim() || null : null;
}

async function mountDevice(
  disk: DiskConfig,
  root: string,
  devicePath: string,
  dev: { major: number; minor: number },
  mountOptions: readonly string[],
  how: MountedDisk['how'],
  afterUnmount: () => Promise<string[]>,
  o: DiskHostOptions,
): Promise<TryResult> {
  const args = [...(mountOptions.length ? ['-o', mountOptions.join(',')] : []), devicePath, root];
  const mounted = await privileged(o, 'mount', args, MOUNT_TIMEOUT_MS);
  if (!mounted.ok) {
    const undo = await afterUnmount();
    return { ok: false, reason: [describeFailure('mount', args, mounted), ...undo].join('; ') };
  }
  const unmount = async (): Promise<string[]> => {
    const errors = await flushOnly(root, o);
    const umounted = await unmountWithRetry(root, o);
    if (umounted.length) return [...errors, ...umounted, `left ${root} mounted; run \`umount ${root}\` when it is no longer busy`];
    return [...errors, ...(await afterUnmount())];
  };
  // Trust, but verify: the mount must now be there, from the device we asked for.
  const entry: MountEntry | undefined = mountAt(readMountInfo(o.mountinfoFile), root);
  if (!entry || !sameDevice(entry, dev)) {
    const errors = entry ? await unmount() : await afterUnmount();
    const seen = entry ? `${entry.source} (${entry.major}:${entry.minor})` : 'nothing';
    return { ok: false, reason: [`after mounting ${devicePath} on ${root}, mountinfo shows ${seen} there`, ...errors].join('; ') };
  }
  return { ok: true, disk: { config: disk, root, device: devicePath, how, release: unmount } };
}

async function flushOnly(root: string, o: DiskHostOptions): Promise<string[]> {
  const synced = await o.run('sync', ['-f', root], { timeoutMs: MOUNT_TIMEOUT_MS });
  return synced.ok ? [] : [describeFailure('sync', ['-f', root], synced)];
}

async function unmountWithRetry(root: string, o: DiskHostOptions): Promise<string[]> {
  let last = '';
  // A process that just exited may hold the disk for a moment (EBUSY): a few short retries.
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await privileged(o, 'umount', [root], MOUNT_TIMEOUT_MS);
    if (result.ok) return [];
    last = describeFailure('umount', [root], result);
    if (!/busy/i.test(result.stderr)) break;
    await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
  }
  return [last];
}
