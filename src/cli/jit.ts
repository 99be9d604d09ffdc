// Imported first by main.ts (after heap.ts): how V8's optimizing compiler treats this process.
//
// A run is short and CPU-bound on two cores, and TurboFan compiles on a thread of its own that takes
// its time from the walk, the copies and the hashing. With inlining its graphs are large: tracing
// the 50,000-file no-op mirror, 38 functions took 299 ms of compiling (41 ms for one), 128 ms with
// --no-turbo-inlining. Measured, alternating runs with the flag set here or not (tmpfs, bench
// trees): no-op of 50,000 files 0.549 -> 0.509 s (CPU 0.88 -> 0.80 s, 10 runs each), verify of the
// 2 GiB tree 0.99 -> 0.94 s (CPU 1.61 -> 1.52 s), the initial copy of 50,000 files 1.97 -> 1.87 s;
// the 200,000-file no-op and verify unchanged (1.19 s, 3.64 s), so code that runs longer is no
// slower without it. Read at each compile, so setting it here, before the commands load, is enough.
import v8 from 'node:v8';

v8.setFlagsFromString('--no-turbo-inlining');
