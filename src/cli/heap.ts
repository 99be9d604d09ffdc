// Imported first by main.ts, before anything allocates much: the heap flags of every thread
// (engine/heap-flags.ts says which and why).
import '../engine/heap-flags.js';
