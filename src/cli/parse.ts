// Option parsers for commander: a bad value is a usage error that names the value.
import { InvalidArgumentError } from './commander.js';

export function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return n;
}

export function parsePercent(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n > 100) throw new InvalidArgumentError(`expected a percentage from 0 to 100, got "${value}"`);
  return n;
}
