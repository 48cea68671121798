/**
 * ShuffleConfig: a permutation that depends only on (Seed, epoch), so every
 * host of a job computes the same order for an epoch (ShardedByS3Key then
 * deals that order out, and a record moves between hosts from one epoch to
 * the next, as the service documents) and a rerun with the same seed sees
 * the same orders. Fisher-Yates driven by xoshiro128**, seeded from
 * SHA-256("<seed>/<epoch>").
 */
import { createHash } from 'node:crypto';

export function shuffledIndices(count: number, seed: number | bigint | string, epoch: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  const next = xoshiro128(createHash('sha256').update(`${String(seed)}/${epoch}`).digest());
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor((next() / 0x1_0000_0000) * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

export function shuffled<T>(items: readonly T[], seed: number | bigint | string, epoch: number): T[] {
  return shuffledIndices(items.length, seed, epoch).map((i) => items[i]!);
}

/** xoshiro128** (Blackman and Vigna): 32-bit outputs from a 128-bit state. */
function xoshiro128(seed: Buffer): () => number {
  const s = new Uint32Array([seed.readUInt32LE(0), seed.readUInt32LE(4), seed.readUInt32LE(8), seed.readUInt32LE(12)]);
  if (s[0]! === 0 && s[1]! === 0 && s[2]! === 0 && s[3]! === 0) s[0] = 1;
  const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  };
}
