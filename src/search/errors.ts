/**
 * How a search can fail, one tagged error per thing a caller may do differently about
 * it: wait and retry (`SearchUnavailable`), check the deployment (`IndexNotFound`), fix
 * the query (`BadQuery`), or rebuild the index from this config (`UnexpectedResponse`).
 */
import { Data } from "effect"

/** OpenSearch cannot be reached, timed out, was overloaded past the retries, or refused the credentials. */
export class SearchUnavailable extends Data.TaggedError("SearchUnavailable")<{
  readonly operation: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `search unavailable: ${this.operation}: ${this.reason}`
  }
}

/** No index or alias by that name: flusso has not created it with this config (or the prefix or the URL differ). */
export class IndexNotFound extends Data.TaggedError("IndexNotFound")<{
  /** The logical index, as in the config. */
  readonly index: string
  /** The alias searched: the deployment's prefix and the index name. */
  readonly alias: string
}> {
  override get message() {
    return `index ${this.index}: no index or alias ${this.alias} in OpenSearch\n  fix: run flusso with this config until the index is seeded, or check the prefix and the sink URL the search uses`
  }
}

/** OpenSearch (or flusso, before sending) refused the query: a value its field cannot take, a raw clause it cannot parse, a cursor of another sort. */
export class BadQuery extends Data.TaggedError("BadQuery")<{
  readonly index: string
  readonly reason: string
}> {
  override get message() {
    return `index ${this.index}: bad query: ${this.reason}`
  }
}

/** An answer of an unexpected shape, or a document that does not match the config (an index built from another config). */
export class UnexpectedResponse extends Data.TaggedError("UnexpectedResponse")<{
  readonly index: string
  /** The document, when one hit is the problem. */
  readonly id?: string
  readonly reason: string
}> {
  override get message() {
    return this.id === undefined
      ? `index ${this.index}: unexpected response: ${this.reason}`
      : `index ${this.index}: document ${this.id} does not match the config: ${this.reason}\n  fix: search with the config the index was built from, or let flusso rebuild the index with this one`
  }
}

export type SearchError = SearchUnavailable | IndexNotFound | BadQuery | UnexpectedResponse
