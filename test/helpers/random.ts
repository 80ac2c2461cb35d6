/** Small seeded PRNG (mulberry32) so a failing random run can be replayed from its seed. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Distinct level prefixes of topics or filters: the node count of a fully pruned level trie. */
export function prefixCount(paths: Iterable<string>): number {
  const prefixes = new Set<string>()
  for (const p of paths) {
    const levels = p.split('/')
    for (let i = 1; i <= levels.length; i++) prefixes.add(levels.slice(0, i).join('/'))
  }
  return prefixes.size
}

/**
 * The seed of a randomised test: TEST_SEED from the environment when set (to replay a failure or try
 * others), else `fallback`, so a run is the same run every time. Put it in failure messages.
 */
export function testSeed(fallback: number): number {
  const env = process.env.TEST_SEED
  return env !== undefined && env !== '' && Number.isInteger(Number(env)) ? Number(env) : fallback
}
