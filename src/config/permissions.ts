// Threat 4 (stolen disk) starts at home: the LUKS key files, the push tokens and the config that
// names them should be readable by their owner only. Group- or world-accessible files are reported as
// warnings (the run still goes on: refusing would leave the owner without a backup for a chmod).
import fs from 'node:fs';
import type { Config } from './schema.js';

export interface FileToCheck {
  file: string;
  what: string;
}

/** The files whose modes matter, from a resolved config. */
export function sensitiveFiles(config: Config): FileToCheck[] {
  const files: FileToCheck[] = [];
  if (config.file) files.push({ file: config.file, what: 'the config file' });
  for (const d of config.disks) if (d.kind.type === 'luks') files.push({ file: d.kind.keyFile, what: `the LUKS key file of disk ${d.name}` });
  if (config.notify.gotify) files.push({ file: config.notify.gotify.tokenFile, what: 'the Gotify token file' });
  if (config.notify.ntfy?.tokenFile) files.push({ file: config.notify.ntfy.tokenFile, what: 'the ntfy token file' });
  return files;
}

/** Pure: a warning for a file mode that lets group or others in, else null. */
export function modeWarning(check: FileToCheck, mode: number): string | null {
  if ((mode & 0o077) === 0) return null;
  return `${check.what} ${check.file} is accessible to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): run chmod 600 ${check.file}`;
}

/** Warnings for every sensitive file that exists and is too open (missing files are reported where used). */
export function permissionWarnings(config: Config): string[] {
  const warnings: string[] = [];
  for (const check of sensitiveFiles(config)) {
    let mode: number;
    try {
      mode = fs.statSync(check.file).mode;
    } catch {
      continue;
    }
    const w = modeWarning(check, mode);
    if (w) warnings.push(w);
  }
  return warnings;
}
