// Piscina worker: runs a batch of tasks that are not plain copies (hashing a DST file, --checksum)
// with synchronous calls through one reused 64 KiB buffer. Copies go to the copier's threads
// (src/engine/copier.ts). Measured here: sync calls in 2 worker threads beat per-file fs.promises 3x
// (DESIGN.md).
// First: starting a worker resets V8's flags to the process's start-up values (heap-flags.ts).
import { holdYoungGeneration } from './heap-flags.js';
import { ioBuffer } from './hash.js';
import { runTask } from './run-task.js';
import { decodeTasks, encodeResults, type EncodedResults, type EncodedTasks } from './batch-codec.js';

const buffer = ioBuffer();

export default function run(batch: EncodedTasks): EncodedResults {
  holdYoungGeneration();
  return encodeResults(decodeTasks(batch).map((task) => runTask(task, buffer)));
}
