import seedrandom from 'seedrandom';

/** A seeded uniform [0, 1) generator; the same seed gives the same stream everywhere. */
export function seededRandom(seed: number | string): () => number {
  return seedrandom(String(seed));
}

/** Standard normal deviates from a uniform generator (Box-Muller). */
export function normalSampler(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * uniform();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
}

/** A 32-bit integer hash (splitmix-style) of a 53-bit-safe integer and a seed. */
export function hashIndex(index: number, seed: number): number {
  let h = (Math.imul(index | 0, 0x9e3779b1) ^ Math.imul(Math.floor(index / 0x100000000), 0x85ebca6b) ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}
