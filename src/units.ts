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
