// V8 flags that keep a thread's heap small, set when this module is imported. Imported first by
// cli/main.ts (through cli/heap.ts) and meant to be imported first by the copy worker: starting a
// worker thread resets V8's flags to the process's start-up values, so a flag set only on the main
// thread is lost as soon as the pool starts (measured: the young generation then grows to 2 x 16 MiB).
//
// A mirror's main thread makes many short-lived objects (one per directory entry) and keeps few.
// With V8's defaults the young generation grows to 2 x 16 MiB, and that shows as RSS. Flags set after
// V8 started only count where V8 reads them at run time: --max-semi-space-size does not (the young
// generation's maximum is fixed at start-up), so the young generation is kept at its start size by a
// growth factor of 1. Measured on a 200,000-file initial copy (tmpfs, 2 cores): peak RSS 166 ->
// ~110 MiB with --optimize-for-size as well, CPU and wall time within the noise while two worker
// threads did the copies. With the copies on the copier's threads (no isolates) the main thread is
// most of the JavaScript left, and --optimize-for-size cost it: 200,000 files 7.85-8.04 s -> 7.14-7.61 s,
// 50,000 files 2.27-2.72 s -> 2.09-2.35 s; peak RSS 70 -> 85 and 70 -> 83 MiB. So only the growth factor stays.
import v8 from 'node:v8';

v8.setFlagsFromString('--semi-space-growth-factor=1');

/**
 * Back to V8's defaults, for a run that keeps many objects alive a little while: scrub and verify
 * hold several pages of manifest rows while their files are hashed off the thread, and with the
 * young generation kept small those rows were promoted and collected by full GCs (1.5 s of a 6 s
 * verify of the 200,000-file bench tree). Measured (2 runs each): 200,000 files 5.9-6.2 s -> 4.7-5.3 s,
 * 50,000 files 1.9-2.2 s -> 1.6-1.8 s; peak RSS ~74 -> ~103 MiB. Takes effect from the next GC.
 */
export function relaxHeapFlags(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=2');
}
