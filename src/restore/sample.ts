// The drill's random sample: reservoir sampling (Algorithm R) over the manifest's rows as they stream
// by, so memory holds the sample, never the manifest. Pure: the random source is passed in.

/** Up to n items chosen uniformly from `items`, in the order they were met. */
export function reservoirSample<T>(items: Iterable<T>, n: number, random: () => number): T[] {
  const chosen: { item: T; at: number }[] = [];
  let seen = 0;
  for (const item of items) {
    if (chosen.length < n) {
      chosen.push({ item, at: seen });
    } else {
      const j = Math.floor(random() * (seen + 1));
      if (j < n) chosen[j] = { item, at: seen };
    }
    seen++;
  }
  return chosen.sort((a, b) => a.at - b.at).map((c) => c.item);
}

/** Takes items while their sizes fit the budget (items larger than what is left are skipped). */
export function withinBudget<T extends { sizeBytes: number }>(items: readonly T[], maxBytes: number): T[] {
  const out: T[] = [];
  let used = 0;
  for (const item of items) {
    if (used + item.sizeBytes > maxBytes) continue;
    out.push(item);
    used += item.sizeBytes;
  }
  return out;
}

/** mulberry32: a small seeded generator, so a drill's sample can be repeated with --seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
