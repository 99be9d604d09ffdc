// Changes a source tree while a mirror runs, until killed (SIGTERM). Plain JavaScript so it starts
// fast. Usage: node fault-actor.mjs grow|shrink|vanish FILE   or   node fault-actor.mjs swap DIR TARGET
// Prints "ready" once it has started changing things.
import fs from 'node:fs';

const [mode, file, target] = process.argv.slice(2);
let stop = false;
process.on('SIGTERM', () => {
  stop = true;
});
let announced = false;
const ready = () => {
  if (!announced) {
    announced = true;
    process.stdout.write('ready\n');
  }
};
// A millisecond between changes: fast enough to hit every copy, slow enough not to starve the mirror
// (a busy loop grew the file by hundreds of MB/s and took a whole core).
const pause = () => new Promise((resolve) => setTimeout(resolve, 1));

if (mode === 'grow') {
  const chunk = Buffer.alloc(4096, 0x78);
  while (!stop) {
    fs.appendFileSync(file, chunk);
    ready();
    await pause();
  }
} else if (mode === 'shrink') {
  let size = fs.statSync(file).size;
  while (!stop && size > 4096) {
    size -= 4096;
    fs.truncateSync(file, size);
    ready();
    await pause();
  }
  ready();
} else if (mode === 'vanish') {
  const aside = `${file}.aside`;
  while (!stop) {
    fs.renameSync(file, aside);
    ready();
    await pause();
    fs.renameSync(aside, file);
    await pause();
  }
  if (fs.existsSync(aside)) fs.renameSync(aside, file); // leave the tree as it was
} else if (mode === 'swap') {
  const real = `${file}.real`;
  while (!stop) {
    fs.renameSync(file, real);
    fs.symlinkSync(target, file);
    ready();
    await pause();
    fs.unlinkSync(file);
    fs.renameSync(real, file);
    await pause();
  }
  // Stopped while swapped: put the directory back, so the next round starts from the real tree.
  if (fs.lstatSync(real, { throwIfNoEntry: false })) {
    fs.unlinkSync(file);
    fs.renameSync(real, file);
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
