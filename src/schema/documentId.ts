/**
 * A document's `_id` from its root key, and back. Key values are in canonical text form
 * (what Postgres' output function prints, the same on the stream and on read-back).
 * A single-column key is its value; a composite key is a JSON array of its values, so no
 * separator can be confused with data.
 */
import { Either, Schema } from "effect"

export type KeyValues = ReadonlyArray<string>

export const encodeDocumentId = (key: KeyValues): string =>
  key.length === 1 ? (key[0] as string) : JSON.stringify(key)

const CompositeId = Schema.parseJson(Schema.Array(Schema.String))

export const decodeDocumentId = (id: string, arity: number): Either.Either<KeyValues, string> => {
  if (arity === 1) return Either.right([id])
  return Schema.decodeUnknownEither(CompositeId)(id).pipe(
    Either.mapLeft(() => `document id ${id} is not a JSON array of ${arity} key values`),
    Either.filterOrLeft((values) => values.length === arity, () => `document id ${id} has not ${arity} key values`)
  )
}
