// A fingerprint of a set of file names: a count and two independent 32-bit hashes of each name,
// summed (order does not matter, so the manifest's rows of a directory and readdir's names of it can
// be compared however each arrives). Equal fingerprints: the same names, short of a 1 in 2^64
// coincidence. verify uses it to skip reading a directory's names back from the manifest when the
// directory holds exactly the files its rows name (the usual case). Pure.

export interface NameSet {
  count: number;
  sumA: number;
  sumB: number;
}

export function emptyNameSet(): NameSet {
  return { count: 0, sumA: 0, sumB: 0 };
}

/** Adds one name (its bytes) to the set's fingerprint. */
export function addName(set: NameSet, name: Uint8Array): void {
  let a = 0x811c9dc5; // FNV-1a
  let b = 0x9747b28c; // a murmur-style mix, seeded differently
  for (let i = 0; i < name.length; i++) {
    const byte = name[i] as number;
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a = Math.imul(a ^ name.length, 0x01000193);
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  set.count++;
  set.sumA = (set.sumA + (a >>> 0)) % 0x1_0000_0000;
  set.sumB = (set.sumB + ((b ^ (b >>> 16)) >>> 0)) % 0x1_0000_0000;
}

export function sameNames(x: NameSet, y: NameSet): boolean {
  return x.count === y.count && x.sumA === y.sumA && x.sumB === y.sumB;
}
