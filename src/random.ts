/**
 * Seeded randomness, the one module of it: the simulator's fault and latency draws (a run with
 * `--seed N` draws the same every time), jitter in tests and benches, and the sample corpus.
 * Nothing here reads `Math.random`; `systemRandom` in `clock.ts` is the one
 * production source.
 */

/** Uniform draws in [0, 1). */
export type Random = () => number;

/** One splitmix32 step: spreads a small or sequential seed over all 32 bits. */
function splitmix32(state: number): [value: number, next: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [(z ^ (z >>> 16)) >>> 0, next];
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast chaotic generator, 128-bit state), seeded through
 * splitmix32 so seeds 1, 2, 3 give unrelated streams.
 * @see https://pracrand.sourceforge.net/RNG_engines.txt
 */
export function createRandom(seed: number): Random {
  let s = seed | 0;
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [value, next] = splitmix32(s);
    words.push(value);
    s = next;
  }
  let [a, b, c, d] = words as [number, number, number, number];
  const draw: Random = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // The first outputs still echo the seed words; discard a few.
  for (let i = 0; i < 12; i++) draw();
  return draw;
}

/**
 * mulberry32 (Tommy Ettinger): a 32-bit state generator, small and fast. `scripts/make-corpus.ts` writes
 * `examples/corpus/` with it, so the committed corpus is what the script reproduces.
 */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seed for one named stream of a run (`faults`, `latency`, ...), so adding draws to one
 * stream never shifts what another one draws.
 */
export function deriveSeed(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return splitmix32(h)[0];
}
