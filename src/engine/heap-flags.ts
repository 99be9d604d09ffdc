// V8 flags that keep a thread's heap small, set when this module is imported. Imported first by
// cli/main.ts (through cli/heap.ts) and meant to be imported first by the copy worker: starting a
// worker thread resets V8's flags to the process's start-up values, so a flag set only on the main
// thread is lost as soon as the pool starts (measured: the young generation then grows to 2 x 16 MiB).
//
// A mirror's main thread makes many short-lived objects (one per directory entry) and keeps few.
// With V8's defaults the young generation grows to 2 x 16 MiB, and that shows as RSS. Flags set after
// V8 started only count where V8 reads them at run time: --max-semi-space-size does not (the young
// generation's maximum is fixed at start-up), but the growth factor is read at each growth. So the
// young generation is let grow once, from its start (2 x 1 MiB) to 2 x 8 MiB, and then held there
// (holdYoungGeneration, called by the mirror and the copy worker; other commands may let it grow to
// V8's 2 x 16 MiB, as before this module existed).
// Measured (tmpfs, 2 cores, alternating runs) against holding it at 2 x 1 MiB: the 50,000-file initial
// copy spent 0.38-0.47 s in 162 scavenges, 0.11 s in 21 (wall 1.83-2.31 s -> 1.72-2.21 s, ~3 %); peak
// RSS 82-89 -> 77-78 MiB, and 92-98 -> 79 MiB on 200,000 files (5.40-5.57 s -> 5.18-5.33 s): with the
// small young generation, objects still in use (tasks of the batches in flight) were promoted
// and left for full GCs. --optimize-for-size is not set: with the copies on the copier's threads the
// main thread is most of the JavaScript, and it cost it (200,000 files 7.85-8.04 s -> 7.14-7.61 s).
import v8 from 'node:v8';

/** Both semi-spaces, as v8.getHeapSpaceStatistics() counts new_space: 2 x 8 MiB. */
const YOUNG_GENERATION_BYTES = 16 << 20;

let holding = true;
v8.setFlagsFromString('--semi-space-growth-factor=8');
// Old space: V8 lets it grow to ~1.5-4x the live heap before a full GC, more the longer a run lasts
// (without --optimize-for-size, which capped that at 1.3x). At 1,000,000 files the initial copy's old
// space reached 26 MiB and peak RSS 119-122 MiB, 1.5x the 200,000-file peak (79-81 MiB); a growing
// factor of 1.3 (read at each GC): old space 16.5-19.7 MiB, peak RSS 94-98 MiB (1.2-1.27x), the
// 200,000-file peak unchanged, times within the noise (200,000 files 5.92-6.94 s against 6.35-7.02 s,
// 50,000 files 1.87-2.00 s against 1.86-2.09 s).
v8.setFlagsFromString('--heap-growing-percent=30');

/**
 * Stops the young generation's growth once it reached YOUNG_GENERATION_BYTES. The mirror calls it
 * for every directory it plans (cheap: one look at the heap's spaces until it holds, nothing after);
 * a gc PerformanceObserver would do it without that call, but loading perf_hooks cost every run's
 * start-up ~4 ms, and a FinalizationRegistry's callbacks came too late (the generation had grown
 * to 2 x 16 MiB before the first one ran).
 */
export function holdYoungGeneration(): void {
  if (!holding) return;
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  if (young !== undefined && young.space_size < YOUNG_GENERATION_BYTES) return;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  holding = false;
}

/**
 * Back to V8's defaults, for a run that keeps many objects alive a little while: scrub and verify
 * hold several pages of manifest rows while their files are hashed off the thread, and with the
 * young generation kept small those rows were promoted and collected by full GCs (1.5 s of a 6 s
 * verify of the 200,000-file bench tree). Measured (2 runs each): 200,000 files 5.9-6.2 s -> 4.7-5.3 s,
 * 50,000 files 1.9-2.2 s -> 1.6-1.8 s; peak RSS ~74 -> ~103 MiB. Takes effect from the next GC.
 */
export function relaxHeapFlags(): void {
  holding = false;
  v8.setFlagsFromString('--semi-space-growth-factor=2');
  v8.setFlagsFromString('--heap-growing-percent=0');
}
