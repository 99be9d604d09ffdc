// A private podman for one test file: its own containers.conf (no ulimits, cgroupfs, runc, file
// events: what works without systemd in this sandbox and in CI), its own storage under a temp dir (vfs,
// so nothing depends on the machine's podman state), and a tiny image made from busybox-static with
// `podman import`. Sets CONTAINERS_CONF / CONTAINERS_STORAGE_CONF in process.env, so every podman the
// test starts (directly, through home-lab, or through the systemctl shim) uses it.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export const IMAGE = 'localhost/home-lab-test-busybox:1';
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));

/** Why podman tests cannot run here, or null when they can. */
export function podmanUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (podman with cgroupfs and runc as root)';
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed (.ci/run installs it)';
  if (spawnSync('runc', ['--version']).status !== 0) return 'runc is not installed (.ci/run installs it)';
  if (!BUSYBOX) return 'busybox-static is not installed (.ci/run installs it)';
  return null;
}

export interface PodmanEnv {
  dir: string;
  podman(...args: string[]): string;
  /** Starts a container that exits promptly on SIGTERM; returns its name. */
  runContainer(options: { name: string; unit?: string; pod?: string; rw?: string[]; ro?: string[] }): string;
  state(name: string): string;
}

export function setupPodman(t: TestContext): PodmanEnv {
  // One after-hook for containers and then storage: a running container's shm mount keeps the dir busy.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'home-lab-podman-'));
  const names: string[] = [];
  t.after(() => {
    if (names.length > 0) spawnSync('podman', ['rm', '--force', '--time', '0', ...names], { stdio: 'ignore' });
    spawnSync('podman', ['pod', 'rm', '--all', '--force'], { stdio: 'ignore' });
    // podman's cleanup processes (conmon, the events log) may still write here for a moment after
    // `rm` returns: a removal racing them fails with ENOTEMPTY (seen once in CI). Retry a while.
    if (process.env.HOME_LAB_KEEP_TMP !== '1') fs.rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  });
  fs.writeFileSync(
    path.join(dir, 'containers.conf'),
    '[containers]\ndefault_ulimits = []\n\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\nevents_logger = "file"\n' +
      `events_logfile_path = "${dir}/events.log"\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'storage.conf'),
    `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/storage"\nrunroot = "${dir}/run"\n`,
  );
  process.env.CONTAINERS_CONF = path.join(dir, 'containers.conf');
  process.env.CONTAINERS_STORAGE_CONF = path.join(dir, 'storage.conf');
  const podman = (...args: string[]) => execFileSync('podman', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  // The image: /bin/busybox and the applets the containers use.
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.copyFileSync(BUSYBOX as string, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'sleep', 'cat', 'echo', 'ls', 'touch']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  execFileSync('tar', ['-C', rootfs, '-cf', path.join(dir, 'rootfs.tar'), '.']);
  podman('import', '--quiet', path.join(dir, 'rootfs.tar'), IMAGE);

  return {
    dir,
    podman,
    runContainer({ name, unit, pod, rw = [], ro = [] }) {
      names.push(name);
      const args = ['run', '--detach', '--name', name, '--network', 'none'];
      if (unit) args.push('--label', `PODMAN_SYSTEMD_UNIT=${unit}`);
      if (pod) args.push('--pod', pod);
      for (const v of rw) args.push('--volume', `${v}:/data${args.length}:rw`);
      for (const v of ro) args.push('--volume', `${v}:/ro${args.length}:ro`);
      // PID 1 ignores SIGTERM unless it traps it: exit at once so `podman stop` is quick.
      args.push(IMAGE, '/bin/sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done');
      podman(...args);
      return name;
    },
    state(name) {
      return podman('container', 'inspect', '--format', '{{.State.Status}}', name).trim();
    },
  };
}
