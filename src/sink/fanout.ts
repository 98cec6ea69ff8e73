/**
 * Several sinks as one: each member owns some sink names; a write goes to the members
 * owning the names it is for, concurrently. A failing member fails the write (the batch
 * stays unacked); retries happen inside each member, so one slow sink does not make
 * another repeat its work.
 */
import { Effect, Layer } from "effect"
import type { Scope } from "effect"
import type { SinkError } from "../errors.js"
import { Sink } from "./Sink.js"

export const make = (members: ReadonlyArray<Sink>): Effect.Effect<Sink> => {
  const owner = new Map<string, Sink>()
  for (const member of members) {
    for (const name of member.names) {
      // Config keys are unique, so a clash is a wiring bug, not a user error.
      if (owner.has(name)) return Effect.dieMessage(`sink ${name} is provided by two members of the fan-out`)
      owner.set(name, member)
    }
  }
  const ownerOf = (name: string): Effect.Effect<Sink> => {
    const member = owner.get(name)
    return member === undefined ? Effect.dieMessage(`unknown sink ${name}`) : Effect.succeed(member)
  }

  return Effect.succeed({
    names: [...owner.keys()],
    ensureIndexes: (plans) =>
      Effect.forEach(members, (member) => member.ensureIndexes(plans)).pipe(Effect.map((all) => all.flat())),
    refresh: (names) =>
      Effect.gen(function* () {
        const grouped = new Map<Sink, Array<string>>()
        for (const name of names) {
          const member = yield* ownerOf(name)
          grouped.set(member, [...(grouped.get(member) ?? []), name])
        }
        yield* Effect.forEach([...grouped], ([member, memberNames]) => member.refresh(memberNames), { concurrency: "unbounded", discard: true })
      }),
    write: (names, operations) =>
      Effect.gen(function* () {
        // Group the requested names by member so each member gets one call.
        const grouped = new Map<Sink, Array<string>>()
        for (const name of names) {
          const member = yield* ownerOf(name)
          grouped.set(member, [...(grouped.get(member) ?? []), name])
        }
        const rejections = yield* Effect.forEach(
          [...grouped],
          ([member, memberNames]) => member.write(memberNames, operations),
          { concurrency: "unbounded" }
        )
        return rejections.flat()
      }),
    seed: (target, operations) => Effect.flatMap(ownerOf(target.sink), (member) => member.seed(target, operations)),
    reindex: (plan, options) => Effect.forEach(members, (member) => member.reindex(plan, options)).pipe(Effect.map((all) => all.flat())),
    seeded: (target) => Effect.flatMap(ownerOf(target.sink), (member) => member.seeded(target)),
    truncate: (names, index) =>
      Effect.forEach(names, (name) => Effect.flatMap(ownerOf(name), (member) => member.truncate([name], index)), {
        discard: true
      }),
    // Every member is asked and the answers merged rather than the first one trusted: a
    // sink still seeding may lack documents another holds, and an id too many only costs
    // a rebuild. Members that cannot search (stdout) answer [] at no cost.
    referencing: (index, refs) =>
      refs.length === 0
        ? Effect.succeed([])
        : Effect.forEach(members, (member) => member.referencing(index, refs), { concurrency: "unbounded" }).pipe(
            Effect.map((answers) => [...new Set(answers.flat())])
          )
  })
}

/** The fan-out of sinks built in one scope (e.g. `OpenSearchSink.make(...)`, `StdoutSink.make(...)`). */
export const layer = <R>(
  members: ReadonlyArray<Effect.Effect<Sink, SinkError, R>>
): Layer.Layer<Sink, SinkError, Exclude<R, Scope.Scope>> =>
  Layer.scoped(Sink, Effect.flatMap(Effect.all(members), make))
