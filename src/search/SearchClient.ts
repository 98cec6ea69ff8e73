/**
 * The search service for applications that do not use Effect: the same operations as
 * `Search`, as Promises. A failure rejects with the tagged error itself (`IndexNotFound`,
 * `BadQuery`, …: `instanceof` works), never a wrapper. `close()` releases the connection.
 */
import { Cause, Effect, Either, Exit, ManagedRuntime } from "effect"
import type { ConfigInvalid } from "../errors.js"
import { connectionFromConfig, connectionFromParts, type FromConfigOptions, type ResolvedConnection, type SearchConnection } from "./connection.js"
import { make, type Page, type Pages, Search, type SearchService } from "./Search.js"
import type { SearchError } from "./errors.js"
import type { Runnable, SearchableConfig } from "./SearchRequest.js"
import { Layer } from "effect"

const connected = (connection: Either.Either<ResolvedConnection, ConfigInvalid>): ResolvedConnection =>
  Either.getOrThrowWith(connection, (error) => error)

export class SearchClient {
  /**
   * Searches the way `config`'s OpenSearch sink connects (`options.sink` when it has
   * several), through the aliases its prefix names. Throws `ConfigInvalid` when the config
   * would not run.
   */
  static fromConfig(config: SearchableConfig, options?: FromConfigOptions): SearchClient {
    return new SearchClient(connected(connectionFromConfig(config, options)))
  }

  /** Searches the cluster at `connection.url`, through the aliases of `connection.prefix`. Throws `ConfigInvalid` for a bad URL. */
  static connect(connection: SearchConnection): SearchClient {
    return new SearchClient(connected(connectionFromParts(connection)))
  }

  private readonly runtime: ManagedRuntime.ManagedRuntime<Search, never>

  private constructor(connection: ResolvedConnection) {
    this.runtime = ManagedRuntime.make(Layer.scoped(Search, make(connection)))
  }

  private run<A>(operation: (search: SearchService) => Effect.Effect<A, SearchError>): Promise<A> {
    return this.runtime.runPromiseExit(Effect.flatMap(Search, operation)).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      throw Cause.squash(exit.cause)
    })
  }

  /** One page of hits. */
  search<D>(request: Runnable<D>): Promise<Page<D>> {
    return this.run((s) => s.search(request))
  }

  /** How many documents match the request's conditions. */
  count(request: Runnable<unknown>): Promise<number> {
    return this.run((s) => s.count(request))
  }

  /** The document with this id (its projection, if the request selects), or undefined. */
  get<D>(request: Runnable<D>, id: string): Promise<D | undefined> {
    return this.run((s) => s.get(request, id))
  }

  /** Several searches in one round trip (`_msearch`). */
  msearch<const Rs extends ReadonlyArray<Runnable<unknown>>>(requests: Rs): Promise<Pages<Rs>> {
    return this.run((s) => s.msearch(requests))
  }

  /** Closes the connection; the client cannot be used after. */
  close(): Promise<void> {
    return this.runtime.dispose()
  }
}
