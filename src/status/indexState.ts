/**
 * An index's state in a word or two, for `/status`, `/indexes` and `flusso indexes`: what an
 * operator asks first ("is it serving, is it being filled, did something fail?"), derived
 * from what the engine records — the generations with their serving and seeded flags,
 * the seeding in progress, the last seeding failure.
 */
import type { BackfillProgress, GenerationStatus } from "./Status.js"

export interface IndexFacts {
  readonly generations: ReadonlyArray<GenerationStatus>
  readonly backfill: BackfillProgress | null
}

export const indexState = (index: IndexFacts, failure: string | null): string => {
  if (failure !== null) return "failed"
  if (index.generations.length === 0) return "starting"
  if (index.backfill !== null) {
    const servingNow = new Set(index.generations.filter((g) => g.serving).map((g) => g.generation))
    const building = index.backfill.generations.filter((g) => !servingNow.has(g))
    return building.length > 0 ? `building ${building.join(", ")}` : "seeding"
  }
  return "live"
}
