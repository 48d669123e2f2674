/** Bytes to three significant digits in the decimal unit that fits: 812 B, 3.45 kB, 714 kB, 1.81 MB, 2.07 GB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 999.5 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  const digits = u === 0 ? 0 : v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
  return `${bytes < 0 ? '-' : ''}${v.toFixed(digits)} ${units[u]}`;
}
