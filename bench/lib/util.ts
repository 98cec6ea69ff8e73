/** Small helpers shared by the bench modules: logging to stderr, sleeping, deadlines, formatting. */
import { performance } from "node:perf_hooks"

export const log = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export const now = (): number => performance.now()

/** Thrown when a phase runs past its deadline; the phase's figure becomes "timed out". */
export class TimedOut extends Error {
  constructor(readonly what: string, readonly seconds: number) {
    super(`timed out after ${seconds.toFixed(0)} s: ${what}`)
  }
}

/** A deadline: `check()` throws TimedOut once it has passed. */
export const deadline = (what: string, seconds: number) => {
  const end = Date.now() + seconds * 1000
  return {
    left: () => Math.max(0, end - Date.now()),
    passed: () => Date.now() > end,
    check: () => {
      if (Date.now() > end) throw new TimedOut(what, seconds)
    }
  }
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined, or the deadline passes. */
export const pollUntil = async <A>(what: string, seconds: number, everyMs: number, probe: () => Promise<A | undefined>): Promise<A> => {
  const d = deadline(what, seconds)
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    d.check()
    await sleep(everyMs)
  }
}

/** Rejects with TimedOut when `promise` has not settled after `seconds`. */
export const withTimeout = <A>(what: string, seconds: number, promise: Promise<A>): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(what, seconds)), seconds * 1000)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export const percentile = (sorted: ReadonlyArray<number>, p: number): number | null => {
  if (sorted.length === 0) return null
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] ?? null
}

/** 4912 → "4.9k", 950 → "950". */
export const rate = (value: number): string =>
  value >= 10_000 ? `${(value / 1000).toFixed(1)}k` : value >= 1000 ? `${(value / 1000).toFixed(2)}k` : value.toFixed(0)

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))
