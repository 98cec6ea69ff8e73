/**
 * The HTTP surfaces (operations guide "HTTP surfaces"), one Layer beside the engine:
 * - public, no auth: `/healthz` (the process runs), `/readyz` (live capture streams),
 *   `/status` (JSON), `/metrics` (Prometheus text);
 * - private, HTTP Basic: `/indexes`, `POST /reindex?index=NAME`, `/quarantine`.
 * Handlers read `Status`, `MetricsText` and `Quarantine` and send engine commands; the
 * engine never knows HTTP exists. Both listeners bind when the layer starts, so a bad
 * or taken address fails the start at once.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Deferred, Effect, Layer, Predicate } from "effect"
import type { Queue } from "effect"
import { createServer } from "node:http"
import { type EngineCommand, ReindexRefused, request as requestReindex } from "../engine/EngineCommand.js"
import { ListenFailed } from "../errors.js"
import { Quarantine } from "../quarantine/Quarantine.js"
import { Status } from "../status/Status.js"
import { formatAddress, type ListenAddress } from "./address.js"
import { authorized, CHALLENGE, type Credentials } from "./basicAuth.js"
import { MetricsText } from "./metricsExport.js"

export interface SurfacesOptions {
  readonly publicAddress: ListenAddress
  readonly privateAddress: ListenAddress
  readonly admin: Credentials
  /** Where a reindex request goes (the queue the engine reads). */
  readonly commands: Queue.Enqueue<EngineCommand>
}

const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

const searchParam = (url: string, name: string): string | undefined =>
  new URL(url, "http://flusso").searchParams.get(name) ?? undefined

const publicRouter = HttpRouter.empty.pipe(
  HttpRouter.get("/healthz", Effect.succeed(json({ status: "ok" }))),
  HttpRouter.get(
    "/readyz",
    Effect.map(Effect.flatMap(Status, (status) => status.snapshot), (snapshot) =>
      json({ ready: snapshot.ready, phase: snapshot.phase }, snapshot.ready ? 200 : 503))
  ),
  HttpRouter.get("/status", Effect.map(Effect.flatMap(Status, (status) => status.snapshot), (snapshot) => json(snapshot))),
  HttpRouter.get(
    "/metrics",
    Effect.map(Effect.flatMap(MetricsText, (metrics) => metrics.render), (text) =>
      HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4; charset=utf-8" }))
  )
)

/** How long a reindex request waits for the engine to take it (it may still be connecting). */
const ACCEPT_TIMEOUT = "10 seconds"

const reindex = (commands: Queue.Enqueue<EngineCommand>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const index = searchParam(request.url, "index")
    if (index === undefined || index === "") return json({ error: "name the index: POST /reindex?index=NAME" }, 400)
    const command = yield* requestReindex(commands, index)
    return yield* Deferred.await(command.accepted).pipe(
      Effect.timeout(ACCEPT_TIMEOUT),
      Effect.map((generations) => json({ index, status: "reindexing", generations }, 202)),
      Effect.catchAll((error) => {
        if (error._tag === "TimeoutException") {
          return Effect.succeed(json({ index, error: "the sync is not running yet (still connecting?); try again" }, 503))
        }
        if (error instanceof ReindexRefused) {
          const unknown = error.reason.startsWith("no enabled index")
          return Effect.succeed(json({ index, error: error.message }, unknown ? 404 : 409))
        }
        return Effect.succeed(json({ index, error: error.message }, 500))
      })
    )
  })

const privateRouter = (options: SurfacesOptions) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/indexes", Effect.map(Effect.flatMap(Status, (status) => status.snapshot), (snapshot) => json({ indexes: snapshot.indexes }))),
    HttpRouter.post("/reindex", reindex(options.commands)),
    HttpRouter.get(
      "/quarantine",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const limit = Math.min(1000, Math.max(1, Number(searchParam(request.url, "limit") ?? 100) || 100))
        const quarantine = yield* Quarantine
        return yield* quarantine.list(limit).pipe(
          Effect.map((documents) => json({ documents })),
          Effect.catchAll((error) => Effect.succeed(json({ error: error.message }, 503)))
        )
      })
    ),
    // Every private route: HTTP Basic, compared in constant time.
    HttpRouter.use((app) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        authorized(request.headers["authorization"], options.admin)
          ? app
          : Effect.succeed(HttpServerResponse.unsafeJson({ error: "authentication required" }, {
            status: 401,
            headers: { "www-authenticate": CHALLENGE }
          })))
    )
  )

/** A listener on `address`; an address it cannot have fails with the address and the flag that moves it. */
const listen = (address: ListenAddress, surface: "public" | "private") =>
  NodeHttpServer.layer(() => createServer(), { host: address.host, port: address.port }).pipe(
    Layer.mapError((error) => {
      const cause: unknown = error.cause
      const code = Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? cause.code : undefined
      const reason = code === "EADDRINUSE"
        ? "the address is in use (another flusso?)"
        : code === "EADDRNOTAVAIL"
          ? "no such address on this host"
          : code === "EACCES"
            ? "permission denied (ports below 1024 need privileges)"
            : cause instanceof Error ? cause.message : error.message
      return new ListenFailed({ surface, address: formatAddress(address), reason })
    })
  )

export const layer = (options: SurfacesOptions) =>
  Layer.mergeAll(
    HttpServer.serve(publicRouter).pipe(Layer.provide(listen(options.publicAddress, "public"))),
    HttpServer.serve(privateRouter(options)).pipe(Layer.provide(listen(options.privateAddress, "private")))
  )
