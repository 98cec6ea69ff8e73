/**
 * The OpenSearch client of one sink, scoped: created when the layer is built, closed by
 * its finalizer. The client's own retries are off — retries are ours (a Schedule over
 * typed errors) so every request is retried the same way and counted once.
 */
import { Client } from "@opensearch-project/opensearch"
import type { ClientOptions } from "@opensearch-project/opensearch"
import { Effect, Redacted } from "effect"
import type { Scope } from "effect"
import type { ResolvedOpenSearchSink } from "../../config/ResolvedConfig.js"

export const clientOptions = (sink: ResolvedOpenSearchSink): ClientOptions => ({
  node: sink.url,
  maxRetries: 0,
  requestTimeout: Math.round(sink.timeoutSeconds * 1000),
  ssl: { rejectUnauthorized: sink.tlsVerify },
  ...(sink.username !== undefined
    ? {
        auth: {
          username: sink.username,
          password: sink.password === undefined ? "" : Redacted.value(sink.password)
        }
      }
    : {})
})

export const makeClient = (sink: ResolvedOpenSearchSink): Effect.Effect<Client, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new Client(clientOptions(sink))),
    (client) => Effect.tryPromise(() => client.close()).pipe(Effect.ignore)
  )
