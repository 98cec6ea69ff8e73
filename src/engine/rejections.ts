/** What happens to documents a sink refused: each index's `onError` decides. */
import { Effect } from "effect"
import { DocumentRejected } from "../errors.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import type { Rejection } from "../sink/Sink.js"

/** Applies the rejection policy of each refused document's index: `stop` fails, `skip` quarantines. */
export const handleRejections = (
  rejections: ReadonlyArray<Rejection>,
  plans: ReadonlyMap<string, IndexPlan>,
  quarantine: (rejection: Rejection) => Effect.Effect<void>
): Effect.Effect<void, DocumentRejected> =>
  Effect.forEach(rejections, (rejection) =>
    (plans.get(rejection.index)?.onError ?? "stop") === "stop" ? Effect.fail(new DocumentRejected(rejection)) : quarantine(rejection), {
    discard: true
  })
