/**
 * One OpenSearch request as an Effect, its failure classified: transport errors,
 * timeouts and 429/502/503/504 are `SinkUnavailable` (retried by `retryPolicy`), any
 * other error status is `SinkRequestFailed` carrying the response body (not retried).
 * Requests go through the client's transport so bodies are ours to shape: the bulk body
 * is NDJSON text we build, never re-serialized by the client.
 */
import type { Client } from "@opensearch-project/opensearch"
import { errors } from "@opensearch-project/opensearch"
import { Effect, ParseResult, Schema } from "effect"
import { SinkRequestFailed, SinkUnavailable } from "../../errors.js"
import type { SinkError } from "../../errors.js"
import type { ResolvedOpenSearchSink } from "../../config/ResolvedConfig.js"
import { retryTransient } from "./retryPolicy.js"

export interface Request {
  readonly method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE"
  readonly path: string
  readonly querystring?: Readonly<Record<string, string | number | boolean>>
  /** A JSON body; plain data, serialized by the client. */
  readonly body?: Readonly<Record<string, unknown>>
  /** An NDJSON body, sent as is. */
  readonly ndjson?: string
  /** Statuses that are answers, not failures (e.g. 404 of a lookup). */
  readonly ignore?: ReadonlyArray<number>
}

export interface Response {
  readonly statusCode: number
  readonly body: unknown
}

/** Statuses worth waiting out: overload and gateway trouble. */
export const retryableStatus = (status: number): boolean =>
  status === 429 || status === 502 || status === 503 || status === 504

const bodyText = (body: unknown): string => {
  if (typeof body === "string") return body
  try {
    return JSON.stringify(body) ?? String(body)
  } catch {
    return String(body)
  }
}

const classify = (sink: string, operation: string, error: unknown): SinkError => {
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode
    return retryableStatus(status)
      ? new SinkUnavailable({ sink, reason: `${operation}: HTTP ${status}: ${bodyText(error.body)}`, cause: error })
      : new SinkRequestFailed({ sink, status, operation, body: bodyText(error.body) })
  }
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return new SinkUnavailable({ sink, reason: `${operation}: ${reason}`, cause: error })
}

/** Sends one request (no retries here: see `retryPolicy`). */
export const send = (
  client: Client,
  sink: string,
  operation: string,
  request: Request
): Effect.Effect<Response, SinkError> =>
  Effect.tryPromise({
    try: (signal) => {
      const pending = client.transport.request(
        {
          method: request.method,
          path: request.path,
          ...(request.querystring !== undefined ? { querystring: { ...request.querystring } } : {}),
          ...(request.body !== undefined ? { body: { ...request.body } } : {}),
          ...(request.ndjson !== undefined ? { bulkBody: request.ndjson } : {})
        },
        request.ignore !== undefined ? { ignore: [...request.ignore] } : {}
      )
      // Interrupting the fiber aborts the HTTP request instead of leaving it in flight.
      // opensearch-js reports the abort by throwing RequestAbortedError out of abort() itself;
      // thrown from an AbortSignal listener it would be an uncaught exception. The pending
      // promise rejects with it too, which the interrupted fiber ignores.
      signal.addEventListener("abort", () => {
        try {
          pending.abort()
        } catch {
          // already reported through the promise
        }
      }, { once: true })
      return pending
    },
    catch: (error) => classify(sink, operation, error)
  }).pipe(
    Effect.map((response): Response => ({ statusCode: response.statusCode ?? 0, body: response.body as unknown }))
  )

/** Sends one request, retrying transient failures per the sink's `maxRetries`. */
export const call = (
  client: Client,
  sink: ResolvedOpenSearchSink,
  operation: string,
  request: Request
): Effect.Effect<Response, SinkError> =>
  send(client, sink.name, operation, request).pipe(retryTransient({ maxRetries: sink.maxRetries }))

/** Decodes a response body; a body of the wrong shape is a refused request, with the body. */
export const decodeBody = <A, I>(schema: Schema.Schema<A, I>, sink: string, operation: string) => {
  const decode = Schema.decodeUnknown(schema)
  return (response: Response): Effect.Effect<A, SinkRequestFailed> =>
    decode(response.body).pipe(
      Effect.mapError(
        (error) =>
          new SinkRequestFailed({
            sink,
            status: response.statusCode,
            operation,
            body: `unexpected response (${ParseResult.TreeFormatter.formatErrorSync(error)}): ${bodyText(response.body)}`
          })
      )
    )
}

/** An encoded index or alias name for a URL path. */
export const pathPart = (name: string): string => encodeURIComponent(name)
