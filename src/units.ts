// How sizes are printed everywhere a person reads them (summaries, progress, notifications, status):
// binary units as df -h and du -h print them, 1536 -> "1.5 KiB", whole bytes below 1 KiB.
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(bytes)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * 1234567 -> "1,234,567", as toLocaleString('en-US') prints a whole number, without it: the first
 * toLocaleString of a process loads ICU's number formats, 26 ms here, and every mirror that deletes
 * anything prints its guard's counts.
 */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) return String(n);
  const digits = String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 ? `-${digits}` : digits;
}
