// A small homelab in a temp dir for backup tests: home/bare and home/protected with a few files, an
// app data directory, two directory "disks", and a config built from YAML text.
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { tempDir } from '../helpers/tmp.js';

export interface Homelab {
  dir: string;
  home: string;
  disk(name: string): string;
  /** Parses a config whose relative paths are relative to dir. */
  config(yaml: string): Config;
}

export const FILES: Record<string, string> = {
  'bare/todo.txt': 'renew the domain\n',
  'bare/recipes/soup.md': '# soup\n',
  'protected/documents/letter.txt': 'Dear landlord\n',
  'protected/photos/2024/beach.png': '\x89PNG fake photo bytes \x00\x01\x02',
  'protected/apps/notes/data/notes.db': 'notes database v1\n',
  'protected/apps/notes/data/notes/0001.txt': 'milk, bread\n',
};

export function makeHomelab(t: TestContext, files: Record<string, string> = FILES): Homelab {
  const dir = tempDir(t, 'home-lab-homelab-');
  const home = path.join(dir, 'home');
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
    fs.writeFileSync(path.join(home, rel), content, 'latin1');
  }
  fs.mkdirSync(path.join(home, 'bare'), { recursive: true });
  fs.mkdirSync(path.join(home, 'protected'), { recursive: true });
  for (const d of ['daily', 'monthly']) fs.mkdirSync(path.join(dir, 'disks', d), { recursive: true });
  return {
    dir,
    home,
    disk: (name) => path.join(dir, 'disks', name),
    config: (yaml) => parseConfig(yaml, { file: path.join(dir, 'config.yaml'), env: { HOME: dir }, uid: process.getuid?.() ?? 1000 }),
  };
}

/** The demo's stand-in systemctl (state in <dir>/run, calls in <dir>/run/services.log), copied into dir/bin. */
export function standInSystemctl(lab: Homelab): string {
  const bin = path.join(lab.dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.copyFileSync(path.resolve('fixtures/demo/bin/systemctl'), path.join(bin, 'systemctl'));
  fs.chmodSync(path.join(bin, 'systemctl'), 0o755);
  return path.join(bin, 'systemctl');
}

/** rel path -> "mode content" for every file and symlink under root (dirs implied), skipping .home-lab. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === '.home-lab') continue;
      const full = path.join(root, r);
      const st = fs.lstatSync(full);
      if (e.isDirectory()) {
        out[`${r}/`] = (st.mode & 0o7777).toString(8);
        walk(r);
      } else if (e.isSymbolicLink()) out[r] = `-> ${fs.readlinkSync(full)}`;
      else out[r] = `${(st.mode & 0o7777).toString(8)} ${fs.readFileSync(full, 'latin1')}`;
    }
  };
  if (fs.existsSync(root)) walk('');
  return out;
}

export const DIRECTORY_DISKS = `
home: ./home
stateDir: ./state
sources:
  - name: bare
  - name: protected
disks:
  - name: daily
    mountPoint: ./disks/daily
    directory: { requireMountPoint: false }
  - name: monthly
    mountPoint: ./disks/monthly
    directory: { requireMountPoint: false }
    excludes: ['/photos/']
services:
  discover: false
scrub:
  percent: 100
`;
