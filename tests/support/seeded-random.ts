/**
 * A seeded random source for fault tests: the seed comes from DURABILITY_SEED or is drawn at
 * random, and is printed so a failing run can be replayed with the same kill delays and choices.
 */

/** mulberry32: small, fast, and good enough to spread kill points. */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** The seed to use: DURABILITY_SEED when set, else a random one. */
  static fromEnvironment(): SeededRandom {
    const given = process.env.DURABILITY_SEED;
    return new SeededRandom(
      given !== undefined && /^\d+$/.test(given) ? Number(given) : Math.floor(Math.random() * 2 ** 31),
    );
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** "seed 12345 (replay: DURABILITY_SEED=12345)": for the first line of a test's output. */
export function describeSeed(random: SeededRandom): string {
  return `seed ${random.seed} (replay: DURABILITY_SEED=${random.seed})`;
}
