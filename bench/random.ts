// Deterministic randomness for the bench: every tree, mutation and content block derives from the
// user's --seed, so two runs with the same seed build byte-identical trees (apart from ctimes).

/** FNV-1a over the parts joined with NUL: a stable 32-bit seed for a named purpose. */
export function seedFrom(...parts: readonly (string | number)[]): number {
  let hash = 0x811c9dc5;
  const text = parts.join('\0');
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** mulberry32: small, fast and good enough to pick sizes, names and files. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n) };
}

/** Fills a buffer with xorshift32 output: incompressible bytes, ~1 GB/s, deterministic from seed. */
export function fillRandom(buffer: Buffer, seed: number): void {
  let x = seed >>> 0 || 0x9e3779b9;
  const words = Math.floor(buffer.length / 4);
  const view = new Uint32Array(buffer.buffer, buffer.byteOffset, words);
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view[i] = x >>> 0;
  }
  for (let i = words * 4; i < buffer.length; i++) buffer[i] = (x >>> ((i & 3) * 8)) & 0xff;
}
