/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) and the draws the workload needs.
 * The same seed always yields the same sequence, so a failing run is replayed exactly with
 * its `FLUSSO_DIFF_SEED`.
 */
export interface Random {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [0, n). */
  readonly int: (n: number) => number
  /** Uniform integer in [lo, hi]. */
  readonly between: (lo: number, hi: number) => number
  readonly chance: (p: number) => boolean
  readonly pick: <A>(items: ReadonlyArray<A>) => A
  /** A key of `weights`, drawn in proportion to its weight. */
  readonly weighted: <K extends string>(weights: Readonly<Record<K, number>>) => K
  /** A random version-4-shaped UUID, lowercase. */
  readonly uuid: () => string
}

const splitmix32 = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

export const makeRandom = (seed: number): Random => {
  const init = splitmix32(seed)
  let a = init()
  let b = init()
  let c = init()
  let d = init()
  const u32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t >>> 0
  }
  for (let i = 0; i < 12; i++) u32()
  const next = () => u32() / 4294967296
  const int = (n: number) => Math.floor(next() * n)
  const pick = <A>(items: ReadonlyArray<A>): A => {
    if (items.length === 0) throw new Error("pick from an empty list")
    return items[int(items.length)] as A
  }
  const weighted = <K extends string>(weights: Readonly<Record<K, number>>): K => {
    const entries = Object.entries(weights) as Array<[K, number]>
    const total = entries.reduce((s, [, w]) => s + w, 0)
    let x = next() * total
    for (const [key, w] of entries) {
      if (x < w) return key
      x -= w
    }
    return (entries[entries.length - 1] as [K, number])[0]
  }
  const hex = (n: number) => Array.from({ length: n }, () => int(16).toString(16)).join("")
  return {
    next,
    int,
    between: (lo, hi) => lo + int(hi - lo + 1),
    chance: (p) => next() < p,
    pick,
    weighted,
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[int(4)]}${hex(3)}-${hex(12)}`
  }
}
