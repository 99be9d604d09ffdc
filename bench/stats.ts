// Pure summaries of repeated measurements.
import type { Spread } from './types.js';

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
}

/** A rate per run (amount / seconds of that run): its spread is of the rates, not of the times. */
export function rateSpread(amount: number, seconds: readonly number[]): Spread {
  return spread(seconds.map((s) => (s > 0 ? amount / s : NaN)));
}
