/**
 * `flusso indexes` and `flusso reindex <index>`: clients of a running flusso's private
 * HTTP surface (HTTP Basic). They print what the server answers; a refusal or an
 * unreachable server is one clear line and a non-zero exit.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Config, Console, Data, Effect, Option, Schedule, Schema } from "effect"
import { DEFAULT_CREDENTIALS } from "../server/basicAuth.js"
import { describeProgress } from "./progressDisplay.js"
import * as Flags from "./options.js"
import { IndexStatus } from "../status/Status.js"

/** The private surface did not answer, or refused. */
export class ServerRequestFailed extends Data.TaggedError("ServerRequestFailed")<{
  readonly url: string
  readonly reason: string
}> {
  override get message() {
    return `${this.url}: ${this.reason}`
  }
}

const server = Flags.described(
  Options.text("server").pipe(Options.withFallbackConfig(Config.string("FLUSSO_SERVER")), Options.withDefault("http://127.0.0.1:9465")),
  "FLUSSO_SERVER",
  "the running flusso's private HTTP surface"
)
const format = Flags.choice("format", "FLUSSO_FORMAT", ["human", "json"], "output: human or json").pipe(Options.withDefault("human" as const))

interface Client {
  readonly server: string
  readonly adminUser: Option.Option<string>
  readonly adminPassword: Option.Option<string>
}

const call = (client: Client, method: "GET" | "POST", path: string): Effect.Effect<{ status: number; body: unknown }, ServerRequestFailed> => {
  const url = `${client.server.replace(/\/+$/, "")}${path}`
  const user = Option.getOrElse(client.adminUser, () => DEFAULT_CREDENTIALS.user)
  const password = Option.getOrElse(client.adminPassword, () => DEFAULT_CREDENTIALS.password)
  return Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(url, {
        method,
        signal,
        headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` }
      })
      const text = await response.text()
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {
        // not JSON: shown as it is
      }
      return { status: response.status, body }
    },
    catch: (error) =>
      new ServerRequestFailed({ url, reason: `cannot reach the server (${error instanceof Error ? error.message : String(error)}); is flusso running, and is --server right?` })
  }).pipe(
    Effect.filterOrFail(
      (answer) => answer.status !== 401,
      () => new ServerRequestFailed({ url, reason: "refused the credentials: pass --admin-user/--admin-password (FLUSSO_ADMIN_USER/FLUSSO_ADMIN_PASSWORD)" })
    )
  )
}

const ErrorBody = Schema.Struct({ error: Schema.String })
const reasonOf = (body: unknown): string => {
  const decoded = Schema.decodeUnknownOption(ErrorBody)(body)
  return Option.isSome(decoded) ? decoded.value.error : JSON.stringify(body)
}

const IndexesBody = Schema.Struct({ indexes: Schema.Array(IndexStatus) })

const describeIndex = (index: IndexStatus): string => {
  const lines = [`${index.name} (${index.table}): ${index.state}`]
  for (const g of index.generations) {
    lines.push(`  ${g.sink}: ${g.generation}${g.serving ? " serving" : " building"}${g.seeded ? ", seeded" : ", not seeded"}`)
  }
  if (index.backfill !== null) lines.push(`  seeding ${index.backfill.generations.join(", ")}: ${describeProgress(index.backfill)}`)
  return lines.join("\n")
}

const fetchIndexes = (client: Client) =>
  Effect.gen(function*() {
    const answer = yield* call(client, "GET", "/indexes")
    if (answer.status !== 200) return yield* new ServerRequestFailed({ url: `${client.server}/indexes`, reason: reasonOf(answer.body) })
    return answer.body
  })

export const indexes = Command.make("indexes", { server, format, adminUser: Flags.adminUser, adminPassword: Flags.adminPassword }, (flags) =>
  Effect.gen(function*() {
    const body = yield* fetchIndexes(flags)
    if (flags.format === "json") return yield* Console.log(JSON.stringify(body, null, 2))
    const decoded = Schema.decodeUnknownOption(IndexesBody)(body)
    // The server's own JSON when it is not what this client knows.
    if (Option.isNone(decoded)) return yield* Console.log(JSON.stringify(body, null, 2))
    const list = decoded.value.indexes
    yield* Console.log(list.length === 0 ? "no index" : list.map(describeIndex).join("\n"))
  })).pipe(Command.withDescription("list the indexes of a running flusso: generations, seeding state and progress"))

const AcceptedBody = Schema.Struct({ index: Schema.String, generations: Schema.Array(Schema.String) })

export const reindex = Command.make(
  "reindex",
  {
    index: Args.text({ name: "index" }).pipe(Args.withDescription("the logical index to rebuild")),
    wait: Flags.flag("wait", "FLUSSO_WAIT", "wait until the new generation serves"),
    server,
    adminUser: Flags.adminUser,
    adminPassword: Flags.adminPassword
  },
  (flags) =>
    Effect.gen(function*() {
      const path = `/reindex?index=${encodeURIComponent(flags.index)}`
      const answer = yield* call(flags, "POST", path)
      if (answer.status !== 202) return yield* new ServerRequestFailed({ url: `${flags.server}${path}`, reason: reasonOf(answer.body) })
      const accepted = Schema.decodeUnknownOption(AcceptedBody)(answer.body)
      const generations = Option.match(accepted, { onNone: () => [], onSome: (a) => [...a.generations] })
      yield* Console.log(`reindexing ${flags.index} into ${generations.join(", ") || "no generation (its sinks have none)"}`)
      if (!flags.wait || generations.length === 0) return
      yield* fetchIndexes(flags).pipe(
        Effect.map((body) => Schema.decodeUnknownOption(IndexesBody)(body)),
        Effect.map((decoded) => {
          const list = Option.isSome(decoded) ? decoded.value.indexes : []
          const index = list.find((i) => i.name === flags.index)
          return index !== undefined && index.backfill === null && generations.every((g) => index.generations.some((s) => s.generation === g && s.serving))
        }),
        Effect.repeat({ schedule: Schedule.spaced("1 second"), until: (done) => done })
      )
      yield* Console.log(`${generations.join(", ")} serves ${flags.index}`)
    })
).pipe(Command.withDescription("rebuild an index of a running flusso into a new generation, live sync going on"))
