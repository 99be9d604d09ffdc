// What is mounted where, from /proc/self/mountinfo (proc(5)), and which device backs a mount.
// "Is it a mount point" is answered from mountinfo, not by comparing st_dev with the parent: a bind
// mount of a directory on the same filesystem is a mount point too, and mountinfo is what `findmnt`
// reads. Parsing is pure; reading is a thin shell.
import fs from 'node:fs';
import path from 'node:path';

export interface MountEntry {
  mountId: number;
  parentId: number;
  major: number;
  minor: number;
  /** Mount point, unescaped. */
  mountPoint: string;
  fsType: string;
  /** The "mount source" field: /dev/loop0, /dev/mapper/x, tmpfs... */
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (dash < 0 || fields.length < dash + 3) continue;
    const [major, minor] = (fields[2] ?? '').split(':').map(Number);
    entries.push({
      mountId: Number(fields[0]),
      parentId: Number(fields[1]),
      major: major ?? -1,
      minor: minor ?? -1,
      mountPoint: unescape(fields[4] ?? ''),
      fsType: fields[dash + 1] ?? '',
      source: unescape(fields[dash + 2] ?? ''),
    });
  }
  return entries;
}

/** The mount visible at dir (the last one mounted there: mounts stack), or undefined. */
export function mountAt(entries: readonly MountEntry[], dir: string): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const e of entries) if (e.mountPoint === dir) found = e;
  return found;
}

export function readMountInfo(file = '/proc/self/mountinfo'): MountEntry[] {
  return parseMountInfo(fs.readFileSync(file, 'utf8'));
}

/** The mount at a directory (resolved through symlinks first), or undefined when it is not a mount point. */
export function mountOf(dir: string, mountinfoFile?: string): MountEntry | undefined {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    return undefined;
  }
  return mountAt(readMountInfo(mountinfoFile), path.resolve(real));
}

/** Major/minor of a block device node (following symlinks such as /dev/disk/by-uuid/...), or null. */
export function deviceNumbers(devicePath: string): { major: number; minor: number } | null {
  try {
    const st = fs.statSync(devicePath, { bigint: true });
    if (!st.isBlockDevice()) return null;
    return splitRdev(st.rdev);
  } catch {
    return null;
  }
}

/** Linux's dev_t encoding (glibc gnu_dev_major/minor). */
export function splitRdev(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

/**
 * The block devices a device-mapper device sits on (/sys/dev/block/M:m/slaves), as major/minor:
 * lets an already-mounted /dev/mapper/x be matched against the UUID of its LUKS partition.
 */
export function underlyingDevices(dev: { major: number; minor: number }, sysRoot = '/sys'): { major: number; minor: number }[] {
  const dir = path.join(sysRoot, 'dev', 'block', `${dev.major}:${dev.minor}`, 'slaves');
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: { major: number; minor: number }[] = [];
  for (const n of names) {
    try {
      const [major, minor] = fs.readFileSync(path.join(dir, n, 'dev'), 'utf8').trim().split(':').map(Number);
      if (major !== undefined && minor !== undefined) out.push({ major, minor });
    } catch {
      // A slave that vanished while reading: not ours.
    }
  }
  return out;
}

export function sameDevice(a: { major: number; minor: number }, b: { major: number; minor: number }): boolean {
  return a.major === b.major && a.minor === b.minor;
}
