/**
 * A small seeded pseudo-random source (mulberry32) and the draws the generator needs. Each concern of
 * each subscription gets its own stream (`streamFor(seed, concern, index)`), so adding a concern or
 * changing how one concern draws never shifts the ids another concern produces.
 */

export interface Random {
  /** A float in [0, 1). */
  next(): number;
}

export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** FNV-1a over the text, then a finalising mix, as a 32-bit seed. */
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let k = 0; k < text.length; k++) {
    hash ^= text.charCodeAt(k);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash >>> 0;
}

export function streamFor(seed: number, concern: string, index = 0): Random {
  return mulberry32(hash32(`${seed}:${concern}:${index}`));
}

export function chance(random: Random, probability: number): boolean {
  return random.next() < probability;
}

/** An integer in [min, max]. */
export function integer(random: Random, min: number, max: number): number {
  return min + Math.floor(random.next() * (max - min + 1));
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random.next() * items.length)]!;
}

/** A copy of `items` in random order (Fisher–Yates). */
export function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const copy = [...items];
  for (let k = copy.length - 1; k > 0; k--) {
    const other = Math.floor(random.next() * (k + 1));
    [copy[k], copy[other]] = [copy[other]!, copy[k]!];
  }
  return copy;
}

/** One of `items`, chosen with probability proportional to its `weight`. */
export function weighted<T extends { weight: number }>(random: Random, items: readonly T[]): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let draw = random.next() * total;
  for (const item of items) {
    draw -= item.weight;
    if (draw < 0) return item;
  }
  return items[items.length - 1]!;
}

/** A standard normal draw (Box–Muller). */
export function normal(random: Random): number {
  const u = 1 - random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

const HEX = '0123456789abcdef';

/** A version-4-shaped GUID drawn from the stream (lower case, as ARM prints subscription ids). */
export function guid(random: Random): string {
  let text = '';
  for (let k = 0; k < 32; k++) {
    let digit = Math.floor(random.next() * 16);
    if (k === 12) digit = 4;
    if (k === 16) digit = 8 + (digit & 3);
    text += HEX[digit];
    if (k === 7 || k === 11 || k === 15 || k === 19) text += '-';
  }
  return text;
}
