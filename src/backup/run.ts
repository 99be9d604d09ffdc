// The nightly run (issue 4, DESIGN.md threat model 2, 3, 6, 9, 10, 11): check the sources, mount the
// first present disk, write the witness, discover the services, and for each stop group: stop ->
// mirror its volumes -> verify a sample -> start; then mirror every source (the volumes excluded),
// verify a sample, read the witness back, record the success, flush, unmount, close LUKS.
//
// Every undo is in a finally: services are started again whatever happens (copy errors, exceptions,
// SIGTERM/SIGINT: the caller aborts `signal`, the run stops waiting for the copy, restarts the
// services and releases the disk), and the disk is unmounted and closed when this run opened it.
// Returns a BackupOutcome; throws only for bugs.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config, SourceConfig } from '../config/schema.js';
import { mirror as engineMirror } from '../engine/mirror.js';
import type { MirrorEvent, MirrorOptions, MirrorResult } from '../engine/types.js';
import { FatalError } from '../errors.js';
import type { CommandRunner } from '../host/command.js';
import { acquireDisk, describeAttempts, type DiskHostOptions, type MountedDisk } from '../host/disks.js';
import { mountOf } from '../host/mounts.js';
import { discoverContainers, type ContainerInfo } from '../host/podman.js';
import { createSystemd, type Systemd } from '../host/systemd.js';
import type { Logger } from '../log.js';
import { ManifestStore } from '../manifest/store.js';
import { coverageCounts } from '../manifest/queries.js';
import { coverageSinceMs } from '../scrub/report.js';
import { acquireDiskLock } from './lock.js';
import { pruneTrash } from '../trash/prune.js';
import { trashDayDir, trashDayOf } from '../trash/layout.js';
import type { BackupOutcome, StepOutcome } from './outcome.js';
import { verifySample } from './sample.js';
import { excludesForVolume, planServices, volumeExcludes, type PlanSource, type StopGroup, type Volume } from './services.js';
import { OutcomeBuilder } from './steps.js';
import { checkWitness, writeWitness, type Witness } from './witness.js';

export interface BackupOptions {
  dryRun: boolean;
  /** --disk NAME: use only this disk (the caller checked that it exists in the config). */
  disk?: string;
  /** --allow-deletions: the owner confirmed this run's deletions (issue 7's guard). */
  allowDeletions?: boolean;
}

export interface BackupDeps {
  run: CommandRunner;
  logger: Logger;
  /** ms since the epoch. */
  now: () => number;
  /** Aborted on SIGTERM/SIGINT: stop waiting, restart the services, release the disk, end fatal. */
  signal?: AbortSignal;
  /** The engine; tests wrap it to observe the services while a copy runs. */
  mirror?: (options: MirrorOptions) => Promise<MirrorResult>;
  /** Progress of each mirror, tagged with the step name. */
  onEvent?: (step: string, event: MirrorEvent) => void;
  /** Disk adapter paths (tests point them at a private /dev/mapper, by-uuid dir...). */
  diskHost?: Pick<DiskHostOptions, 'byUuidDir' | 'mapperDir' | 'mountinfoFile' | 'sysRoot'>;
  /** Between is-active polls while a unit stops or starts. */
  systemdPollMs?: number;
  /** The trash directory for this run on this disk (issue 7), or null to delete for good. */
  trashRoot?: (diskRoot: string, startedAtMs: number) => string | null;
}

/** The abort reason becomes the message: "interrupted by SIGTERM". */
export class Interrupted extends Error {
  constructor(reason: unknown) {
    super(`interrupted by ${typeof reason === 'string' ? reason : 'a signal'}`);
    this.name = 'Interrupted';
  }
}

export const LAST_SUCCESS_FILE = path.join('.home-lab', 'last-success.json');

export async function runBackup(config: Config, options: BackupOptions, deps: BackupDeps): Promise<BackupOutcome> {
  const b = new OutcomeBuilder(deps.now(), options.dryRun);
  const log = deps.logger;
  try {
    await new Run(config, options, deps, b).main();
  } catch (error) {
    if (error instanceof Interrupted) b.fail(null, 'fatal', `${error.message}: the run stopped early; every service it had stopped was started again (results in the service steps)`);
    else if (error instanceof FatalError) b.fail(null, error.kind === 'usage' ? 'fatal' : error.kind, error.message);
    else b.fail(null, 'fatal', `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  const outcome = b.finish(deps.now());
  for (const e of outcome.errors) log.error(e);
  return outcome;
}

class Run {
  private readonly log: Logger;
  private readonly systemd: Systemd;
  private readonly mirrorFn: (options: MirrorOptions) => Promise<MirrorResult>;
  private readonly witness: Witness;
  private sources: (SourceConfig & { real: string })[] = [];

  constructor(
    private readonly config: Config,
    private readonly options: BackupOptions,
    private readonly deps: BackupDeps,
    private readonly b: OutcomeBuilder,
  ) {
    this.log = deps.logger;
    this.mirrorFn = deps.mirror ?? engineMirror;
    this.systemd = createSystemd({
      run: deps.run,
      systemctl: config.services.systemctl,
      timeoutMs: config.services.stopTimeoutSec * 1000,
      pollMs: deps.systemdPollMs,
    });
    this.witness = { runId: randomBytes(8).toString('hex'), startedAtMs: b.outcome.startedAtMs };
  }

  private checkAbort(): void {
    if (this.deps.signal?.aborted) throw new Interrupted(this.deps.signal.reason);
  }

  /** Trash days older than the retention go first, then more, oldest first, if the disk is short of space. */
  private pruneTrash(step: StepOutcome, diskRoot: string): void {
    try {
      const r = pruneTrash({ diskRoot, nowMs: this.deps.now(), keepDays: this.config.trash.retentionDays, logger: this.log });
      for (const p of r.pruned) step.notes.push(`trash of ${p.date} pruned (${p.reason}, ${p.bytesFreed} bytes)`);
      for (const f of r.failed) this.b.fail(step, 'partial', `pruning the trash of ${f.date}: ${f.error}`);
    } catch (error) {
      this.b.fail(step, 'partial', `pruning the trash: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Waits for p, or stops waiting when the run is interrupted (the copy may still be running). */
  private abortable<T>(p: Promise<T>): Promise<T> {
    const signal = this.deps.signal;
    if (!signal) return p;
    if (signal.aborted) {
      p.catch(() => {});
      return Promise.reject(new Interrupted(signal.reason));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new Interrupted(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  async main(): Promise<void> {
    // 1. Sources: all present (and mounted where required) before anything is touched.
    if (!this.checkSources()) return;
    this.checkAbort();

    // 2. The disk.
    const disks = this.options.disk ? this.config.disks.filter((d) => d.name === this.options.disk) : this.config.disks;
    const diskStep = this.b.step('disk');
    const t0 = this.deps.now();
    const got = await acquireDisk(disks, { run: this.deps.run, privilege: this.config.privilege, logger: this.log, ...this.deps.diskHost });
    diskStep.durationMs = this.deps.now() - t0;
    if (!got.ok) {
      this.b.fail(diskStep, 'fatal', `no backup disk could be used: ${describeAttempts(got.tried)}`);
      return;
    }
    const disk = got.disk;
    diskStep.name = `disk ${disk.config.name}`;
    diskStep.notes.push(...got.tried.map((t) => `skipped disk ${t.disk}: ${t.reason}`), `using ${disk.root} (${disk.how}${disk.device ? `, ${disk.device}` : ''})`);
    this.b.outcome.disk = { name: disk.config.name, mountPoint: disk.root, freeBytes: null };
    try {
      const lock = this.options.dryRun ? null : acquireDiskLock({ diskRoot: disk.root, logger: this.log, command: 'backup', now: this.deps.now });
      try {
        if (!this.options.dryRun) this.pruneTrash(diskStep, disk.root);
        await this.onDisk(disk);
      } finally {
        lock?.release();
        this.b.outcome.disk.freeBytes = freeBytes(disk.root);
      }
    } finally {
      // 8. Flush, unmount, close LUKS (only what this run opened). Never skipped.
      const t1 = this.deps.now();
      const errors = await disk.release();
      diskStep.durationMs += this.deps.now() - t1;
      for (const e of errors) this.b.fail(diskStep, 'partial', `releasing the disk: ${e}`);
      if (errors.length === 0 && disk.how !== 'already-mounted' && disk.how !== 'plain-directory') diskStep.notes.push(`unmounted ${disk.root}`);
    }
  }

  private checkSources(): boolean {
    const step = this.b.step('sources');
    for (const s of this.config.sources) {
      let real: string;
      try {
        real = fs.realpathSync(s.path);
        if (!fs.statSync(real).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        this.b.fail(step, 'fatal', `source ${s.name}: ${s.path} ${code === 'ENOENT' ? 'does not exist' : `is not usable (${code})`}: nothing was changed`);
        continue;
      }
      if (s.requireMountPoint && !mountOf(real)) {
        this.b.fail(step, 'fatal', `source ${s.name}: ${s.path} is not a mount point (its disk is not mounted?): refusing to run, nothing was changed. Mount it, or set requireMountPoint: false`);
        continue;
      }
      this.sources.push({ ...s, real });
    }
    if (step.status !== 'ok') return false;
    step.notes.push(`${this.sources.length} source${this.sources.length === 1 ? '' : 's'} present`);
    return true;
  }

  private async onDisk(disk: MountedDisk): Promise<void> {
    const first = this.sources[0]!;
    // 3. The witness, into the first source.
    if (!this.options.dryRun) {
      const error = writeWitness(first.real, this.witness);
      if (error) return this.b.fail(null, 'fatal', error);
    }
    this.checkAbort();

    // 4. Discover the services and plan the stop groups.
    const plan = await this.discover();
    this.checkAbort();

    // 5. Each stop group: stop -> mirror its volumes -> verify -> start.
    for (const group of plan.groups) {
      this.checkAbort();
      await this.serviceStep(group, disk);
    }
    this.checkAbort();

    // 6. Every source, the volumes already done excluded.
    const done = plan.groups.flatMap((g) => g.volumes);
    for (const s of this.sources) {
      this.checkAbort();
      await this.sourceStep(s, done, disk);
    }
    this.checkAbort();
    if (this.options.dryRun) return;

    // 7. The witness read back; the success recorded on the disk.
    const witnessStep = this.b.step('witness');
    const stale = checkWitness(path.join(disk.root, first.name), this.witness);
    if (stale) this.b.fail(witnessStep, 'fatal', stale);
    else witnessStep.notes.push(`read back from ${path.join(disk.root, first.name)}`);
    this.b.outcome.coverage = readCoverage(disk.root, this.deps.now());
    if (this.b.outcome.status === 'ok') {
      const error = recordLastSuccess(disk.root, { disk: disk.config.name, startedAtMs: this.b.outcome.startedAtMs, finishedAtMs: this.deps.now(), runId: this.witness.runId });
      if (error) this.b.fail(witnessStep, 'partial', error);
    }
  }

  private async discover(): Promise<{ groups: StopGroup[] }> {
    const step = this.b.step('discover services');
    const t0 = this.deps.now();
    const planSources: PlanSource[] = this.sources.map((s) => ({ name: s.name, path: s.real }));
    let containers: ContainerInfo[] = [];
    if (this.config.services.discover) {
      const found = await discoverContainers(this.deps.run, this.config.services.podman);
      if (found.ok) containers = found.containers;
      else this.b.fail(step, 'partial', `podman discovery failed, so no container was stopped: ${found.error}`);
    } else {
      step.notes.push('podman discovery is off (services.discover: false)');
    }
    const manual = this.config.services.alwaysStop.map((m) => ({
      unit: m.unit,
      volumes: m.volumes.map((v) => {
        try {
          return fs.realpathSync(v);
        } catch {
          step.notes.push(`${m.unit}: ${v} does not exist`);
          return null;
        }
      }).filter((v): v is string => v !== null),
    }));
    const plan = planServices({ containers, manual, neverStop: this.config.services.neverStop, sources: planSources });
    for (const n of plan.notes) this.log.info(n);
    step.notes.push(
      `${containers.length} running container${containers.length === 1 ? '' : 's'}, ${plan.groups.length} stop group${plan.groups.length === 1 ? '' : 's'}`,
      ...plan.notes,
    );
    step.durationMs = this.deps.now() - t0;
    return plan;
  }

  private async serviceStep(group: StopGroup, disk: MountedDisk): Promise<void> {
    const step = this.b.step(`service ${group.units.join(' + ')}`);
    const t0 = this.deps.now();
    const stopped: string[] = [];
    try {
      if (this.options.dryRun) {
        step.notes.push(`would stop ${group.units.join(', ')} while copying ${group.volumes.map((v) => `${v.source}/${v.rel}`).join(', ')}`);
        for (const v of group.volumes) await this.mirrorVolume(step, v, disk);
        return;
      }
      let allStopped = true;
      for (const unit of group.units) {
        const state = await this.systemd.state(unit);
        if (state !== 'active' && state !== 'activating' && state !== 'reloading') {
          step.notes.push(`${unit} was ${state}: not stopped, not started`);
          continue;
        }
        // Recorded before the stop: a unit that half-stopped is started again too.
        stopped.push(unit);
        this.log.info(`stopping ${unit}`);
        const r = await this.systemd.stop(unit);
        if (!r.ok) {
          allStopped = false;
          this.b.fail(step, 'partial', `could not stop ${unit}: ${r.error}; its volumes were not copied this run (the last copy is kept)`);
          break;
        }
      }
      if (!allStopped) return;
      for (const v of group.volumes) {
        this.checkAbort();
        const ok = await this.mirrorVolume(step, v, disk);
        if (ok) this.sample(step, `${v.source}${v.rel ? `/${v.rel}` : ''}`, v.path, disk);
      }
    } finally {
      // Whatever happened above (failed copy, exception, SIGTERM): start them again, in reverse order.
      for (const unit of stopped.reverse()) {
        this.log.info(`starting ${unit}`);
        const r = await this.systemd.start(unit);
        if (r.ok) step.notes.push(`${unit} stopped and started again`);
        else this.b.fail(step, 'partial', `${unit} DID NOT START AGAIN: ${r.error}`);
      }
      step.durationMs = this.deps.now() - t0;
    }
  }

  /** Mirrors one volume to <disk>/<source>/<rel>; returns whether it ran to the end. */
  private async mirrorVolume(step: StepOutcome, v: Volume, disk: MountedDisk): Promise<boolean> {
    const source = this.sources.find((s) => s.name === v.source)!;
    const prefix = v.rel === '' ? v.source : `${v.source}/${v.rel}`;
    const dst = path.join(disk.root, prefix);
    if (!this.options.dryRun) {
      const error = makeParents(disk.root, prefix);
      if (error) {
        this.b.fail(step, 'partial', error);
        return false;
      }
    }
    const patterns = excludesForVolume([...disk.config.excludes, ...source.excludes], v.rel);
    return this.runMirror(step, prefix, v.path, dst, patterns, disk);
  }

  private async sourceStep(s: SourceConfig & { real: string }, done: readonly Volume[], disk: MountedDisk): Promise<void> {
    const step = this.b.step(`source ${s.name}`);
    const t0 = this.deps.now();
    try {
      if (done.some((v) => v.source === s.name && v.rel === '')) {
        step.notes.push('the whole source is a service volume: copied with its service');
        return;
      }
      // The volumes first: the first matching rule wins, and an include in the user's excludes must
      // not bring a volume back into the live copy.
      const excludes = [...volumeExcludes(done, s.name), ...disk.config.excludes, ...s.excludes];
      const ok = await this.runMirror(step, s.name, s.real, path.join(disk.root, s.name), excludes, disk);
      if (ok) this.sample(step, s.name, s.real, disk);
    } finally {
      step.durationMs = this.deps.now() - t0;
    }
  }

  private async runMirror(step: StepOutcome, prefix: string, src: string, dst: string, excludes: string[], disk: MountedDisk): Promise<boolean> {
    // Deleted and overwritten files go to today's trash on the disk (threat 1), unless a test seam says otherwise.
    const trashAt = this.deps.trashRoot ?? ((root: string, atMs: number) => trashDayDir(root, trashDayOf(atMs)));
    const trashRoot = this.options.dryRun ? null : trashAt(disk.root, this.b.outcome.startedAtMs);
    const options: MirrorOptions = {
      src,
      dst,
      excludes,
      checksum: false,
      dryRun: this.options.dryRun,
      jobs: this.config.jobs,
      manifest: { root: disk.root, prefix },
      deletionLimits: { allow: this.options.allowDeletions === true, maxFiles: this.config.deletions.maxFiles, maxPercent: this.config.deletions.maxPercent },
      trashDir: trashRoot ? path.join(trashRoot, prefix) : null,
      now: this.deps.now,
      // The engine stops between directories when interrupted, so the disk is free to unmount.
      ...(this.deps.signal ? { signal: this.deps.signal } : {}),
      ...(this.deps.onEvent ? { onEvent: (e: MirrorEvent) => this.deps.onEvent?.(step.name, e) } : {}),
    };
    this.log.info(`${this.options.dryRun ? 'planning' : 'copying'} ${src} -> ${dst}${excludes.length ? ` (excluding ${excludes.join(' ')})` : ''}`);
    try {
      const r = await this.abortable(this.mirrorFn(options));
      this.b.addMirror(step, r, prefix);
      return true;
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      this.b.fail(step, 'partial', `${prefix}: the copy stopped: ${message}`);
      return false;
    }
  }

  private sample(step: StepOutcome, prefix: string, srcDir: string, disk: MountedDisk): void {
    if (this.options.dryRun || this.config.scrub.percent <= 0) return;
    try {
      const r = verifySample({ diskRoot: disk.root, prefix, srcDir, percent: this.config.scrub.percent, nowMs: this.deps.now(), chown: process.getuid?.() === 0 });
      step.filesVerified += r.verified;
      this.b.outcome.corruptFound += r.corrupt;
      step.failures.push(...r.failures);
      if (r.failures.length > 0) this.b.fail(step, 'partial', `verification of ${prefix}: ${r.failures.length} problem${r.failures.length === 1 ? '' : 's'} (first: ${r.failures[0]!.path}: ${r.failures[0]!.error})`);
      if (r.sourceChanged > 0) step.notes.push(`${prefix}: ${r.sourceChanged} sampled file(s) changed in the source since the copy: checked against the manifest only`);
    } catch (error) {
      this.b.fail(step, 'partial', `verification of ${prefix} could not run: ${(error as Error).message}`);
    }
  }
}

/** mkdir -p of <root>/<rel>'s parents, refusing to go through a symlink on the disk. */
function makeParents(root: string, rel: string): string | null {
  const parts = rel.split('/').slice(0, -1);
  let at = root;
  for (const part of parts) {
    at = path.join(at, part);
    try {
      const st = fs.lstatSync(at);
      if (!st.isDirectory()) return `${at} on the disk is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}: not written through`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return `cannot read ${at}: ${(error as Error).message}`;
      try {
        fs.mkdirSync(at, { mode: 0o700 });
      } catch (e) {
        return `cannot create ${at}: ${(e as Error).message}`;
      }
    }
  }
  return null;
}

function freeBytes(root: string): number | null {
  try {
    const st = fs.statfsSync(root);
    return st.bavail * st.bsize;
  } catch {
    return null;
  }
}

function readCoverage(root: string, nowMs: number): BackupOutcome['coverage'] {
  try {
    const store = ManifestStore.open(root, { readonly: true });
    try {
      const c = coverageCounts(store, coverageSinceMs(nowMs));
      return { verifiedShare100d: c.files === 0 ? 1 : c.verifiedSince / c.files, oldestVerifiedAtMs: c.oldestVerifiedAtMs, neverVerified: c.neverVerified, rows: c.files };
    } finally {
      store.close();
    }
  } catch {
    return null;
  }
}

/** <disk>/.home-lab/last-success.json: the disk carries the time of its last good backup. */
function recordLastSuccess(root: string, record: { disk: string; startedAtMs: number; finishedAtMs: number; runId: string }): string | null {
  const file = path.join(root, LAST_SUCCESS_FILE);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(record) + '\n');
    fs.renameSync(`${file}.tmp`, file);
    return null;
  } catch (error) {
    return `cannot record the last success in ${file}: ${(error as Error).message}`;
  }
}
