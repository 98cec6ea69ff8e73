/**
 * `flusso run`: the sync, with the HTTP surfaces beside it and progress on stderr. The
 * listeners bind first (a bad or taken address fails at once), then the engine starts
 * and waits for its services if they are not up yet (`/readyz` answers 503 meanwhile).
 * SIGINT/SIGTERM stop it cleanly — also while it is still connecting — with exit code 0.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Config, Context, Effect, Either, Layer, Option, Queue, Ref, Schedule } from "effect"
import { appliedOverrides, resolveConfig } from "../config/resolve.js"
import type { EngineCommand } from "../engine/EngineCommand.js"
import { ConfigInvalid } from "../errors.js"
import * as Flusso from "../Flusso.js"
import { Quarantine } from "../quarantine/Quarantine.js"
import { OpenSearchClients } from "../sink/opensearch/OpenSearchClients.js"
import { formatAddress, parseAddress } from "../server/address.js"
import { DEFAULT_CREDENTIALS } from "../server/basicAuth.js"
import { credentialProblems, isDefault } from "../server/credentials.js"
import * as HttpSurfaces from "../server/HttpSurfaces.js"
import * as MetricsExport from "../server/metricsExport.js"
import { registerMetrics } from "../status/registerMetrics.js"
import { Status } from "../status/Status.js"
import * as StatusLayer from "../status/Status.js"
import { parseRunnerAddress } from "../cluster/names.js"
import { loadDeployment } from "./deployment.js"
import { loggingLayer } from "./logging.js"
import * as Flags from "./options.js"
import { showProgress } from "./progressDisplay.js"
import { VERSION } from "./version.js"

const options = {
  config: Flags.config,
  lock: Flags.optionalText("lock", "FLUSSO_LOCK", "a compiled lock (flusso build) to run, or, with --config, to rewrite"),
  locked: Flags.flag("locked", "FLUSSO_LOCKED", "refuse to run when --config would change the lock (CI deploys)"),
  skipBackfill: Flags.flag("skip-backfill", "FLUSSO_SKIP_BACKFILL", "never seed: only follow live changes"),
  slot: Flags.optionalText("slot", "FLUSSO_SLOT", "replication slot name (overrides source.slot)"),
  publication: Flags.optionalText("publication", "FLUSSO_PUBLICATION", "publication name (overrides source.publication)"),
  // Two flags: a boolean option cannot tell "absent" (keep the config's value) from false.
  managePublication: Flags.described(
    Options.boolean("manage-publication"),
    "FLUSSO_MANAGE_PUBLICATION=true|false",
    "create the publication or add the tables it lacks (overrides source.managePublication)"
  ),
  noManagePublication: Options.boolean("no-manage-publication").pipe(
    Options.withDescription("never create or alter the publication: print the SQL to run instead (overrides source.managePublication)")
  ),
  indexPrefix: Flags.optionalText("index-prefix", "FLUSSO_INDEX_PREFIX", "prefix of every index, alias and meta index flusso owns (overrides prefix)"),
  publicAddress: Flags.optionalText(
    "public-address",
    "FLUSSO_PUBLIC_ADDRESS",
    "host:port of /healthz, /readyz, /status, /metrics (overrides server.publicAddress)"
  ),
  privateAddress: Flags.optionalText(
    "private-address",
    "FLUSSO_PRIVATE_ADDRESS",
    "host:port of /indexes, /reindex, /quarantine (overrides server.privateAddress)"
  ),
  adminUser: Flags.adminUser,
  adminPassword: Flags.adminPassword,
  allowDefaultCredentials: Flags.flag(
    "allow-default-credentials",
    "FLUSSO_ALLOW_DEFAULT_CREDENTIALS",
    "let the private surface keep admin/flusso on an address other than loopback"
  ),
  lagPollSecs: Flags.integer("lag-poll-secs", "FLUSSO_LAG_POLL_SECS", 1, "how often the replication slot's lag is read, in seconds").pipe(
    Options.withDefault(15)
  ),
  progressSecs: Flags.integer("progress-secs", "FLUSSO_PROGRESS_SECS", 1, "seconds between seeding progress lines when stderr is not a terminal").pipe(
    Options.withDefault(10)
  ),
  cluster: Flags.flag("cluster", "FLUSSO_CLUSTER", "run as one runner of a deployment spread over several processes (needs --runner-address)"),
  runnerAddress: Flags.optionalText(
    "runner-address",
    "FLUSSO_RUNNER_ADDRESS",
    "host:port this runner listens on and the other runners of its deployment reach it at (with --cluster)"
  ),
  runnerHealth: Flags.choice("runner-health", "FLUSSO_RUNNER_HEALTH", ["ping", "k8s"], "how runners tell that another is gone: ping it, or ask Kubernetes (with --cluster)").pipe(
    Options.withDefault("ping" as const)
  ),
  logFormat: Flags.logFormat,
  logLevel: Flags.logLevel
}

type RunFlags = Command.Command.ParseConfig<typeof options>

const addressOf = (text: string, key: string) =>
  Either.match(parseAddress(text), {
    onLeft: (reason) => Effect.fail(new ConfigInvalid({ file: "server", issues: [`${key}: ${reason}`] })),
    onRight: Effect.succeed
  })

/** `--manage-publication` / `--no-manage-publication`, else FLUSSO_MANAGE_PUBLICATION, else the config. */
const managePublication = (flags: RunFlags) =>
  flags.managePublication
    ? Effect.succeed(Option.some(true))
    : flags.noManagePublication
    ? Effect.succeed(Option.some(false))
    : Config.option(Config.boolean("FLUSSO_MANAGE_PUBLICATION")).pipe(
      Effect.mapError((error) => new ConfigInvalid({ file: "FLUSSO_MANAGE_PUBLICATION", issues: [`must be true or false: ${String(error)}`] }))
    )

/** `--cluster` with its runner address, or nothing (one process); a flag without its partner is refused naming both. */
const clusterRunner = (flags: RunFlags): Effect.Effect<Option.Option<{ readonly host: string; readonly port: number }>, ConfigInvalid> => {
  const refuse = (issue: string) => Effect.fail(new ConfigInvalid({ file: "command line / FLUSSO_* environment", issues: [issue] }))
  if (!flags.cluster) {
    return Option.isSome(flags.runnerAddress)
      ? refuse("--runner-address (FLUSSO_RUNNER_ADDRESS) is for a runner of a cluster: add --cluster (FLUSSO_CLUSTER=true), or drop it to run one process")
      : Effect.succeed(Option.none())
  }
  if (Option.isNone(flags.runnerAddress)) {
    return refuse("--cluster (FLUSSO_CLUSTER) needs --runner-address HOST:PORT (FLUSSO_RUNNER_ADDRESS): where this runner listens and the others reach it, e.g. 10.0.0.5:34431")
  }
  return Either.match(parseRunnerAddress(flags.runnerAddress.value), {
    onLeft: (reason) => refuse(`--runner-address (FLUSSO_RUNNER_ADDRESS): ${reason}`),
    onRight: (address) => Effect.succeed(Option.some(address))
  })
}

const sync = (flags: RunFlags) =>
  Effect.gen(function*() {
    const manage = yield* managePublication(flags)
    const problem = Flags.validateOverrides({ ...flags, managePublication: manage })
    if (problem !== undefined) return yield* problem
    const runner = yield* clusterRunner(flags)
    // In a worker: a long run does not keep what loading a TypeScript config takes.
    const { config, file } = yield* loadDeployment(flags, { isolated: true })
    const overrides = appliedOverrides(config, process.env)
    if (overrides.length > 0) yield* Effect.logInfo(`environment overrides: ${overrides.join(", ")}`)
    const resolved = yield* resolveConfig(config, process.env, file)
    const deployment = {
      ...resolved,
      source: {
        ...resolved.source,
        slot: Option.getOrElse(flags.slot, () => resolved.source.slot),
        publication: Option.getOrElse(flags.publication, () => resolved.source.publication),
        managePublication: Option.getOrElse(manage, () => resolved.source.managePublication)
      },
      prefix: Option.getOrElse(flags.indexPrefix, () => resolved.prefix)
    }
    const publicAddress = yield* addressOf(Option.getOrElse(flags.publicAddress, () => deployment.server.publicAddress), "server.publicAddress")
    const privateAddress = yield* addressOf(Option.getOrElse(flags.privateAddress, () => deployment.server.privateAddress), "server.privateAddress")
    const admin = {
      user: Option.getOrElse(flags.adminUser, () => DEFAULT_CREDENTIALS.user),
      password: Option.getOrElse(flags.adminPassword, () => DEFAULT_CREDENTIALS.password)
    }
    const refused = credentialProblems(admin, privateAddress, flags.allowDefaultCredentials)
    if (refused.length > 0) return yield* new ConfigInvalid({ file: "command line / FLUSSO_* environment", issues: refused })
    if (isDefault(admin)) {
      yield* Effect.logWarning(
        "the private HTTP surface uses the default credentials admin/flusso: anyone who reaches it can reindex; " +
          "set --admin-user/--admin-password (FLUSSO_ADMIN_USER/FLUSSO_ADMIN_PASSWORD)"
      )
    }

    const status = yield* StatusLayer.make
    // Before /metrics answers: every family there from the first scrape.
    yield* registerMetrics(deployment.indexes.filter((plan) => plan.enabled).map((plan) => plan.name))
    // One client per OpenSearch cluster, shared by the quarantine the HTTP surface lists and the sync.
    const clients = Context.get(yield* Layer.build(Flusso.clientsLayer(deployment)), OpenSearchClients)
    const quarantine = Context.get(
      yield* Layer.build(Flusso.quarantineLayer(deployment).pipe(Layer.provide(Layer.succeed(OpenSearchClients, clients)))),
      Quarantine
    )
    const commands = yield* Queue.unbounded<EngineCommand>()
    // Bound now: a taken or invalid address fails before anything else starts.
    yield* Layer.build(
      HttpSurfaces.layer({ publicAddress, privateAddress, admin, commands }).pipe(
        Layer.provide(MetricsExport.layer({ version: VERSION, otlpUrl: MetricsExport.otlpMetricsUrl(process.env) })),
        Layer.provide(Layer.succeed(Status, status)),
        Layer.provide(Layer.succeed(Quarantine, quarantine))
      )
    )
    yield* Effect.logInfo(
      `flusso ${VERSION}: slot ${deployment.source.slot}, publication ${deployment.source.publication}; ` +
        `public http://${formatAddress(publicAddress)}, private http://${formatAddress(privateAddress)}`
    )

    const streamedOnce = yield* Ref.make(false)
    const remember = Effect.flatMap(status.snapshot, (s) => (s.ready ? Ref.set(streamedOnce, true) : Effect.void)).pipe(
      Effect.repeat(Schedule.spaced("1 second"))
    )
    const beside = Effect.all([showProgress({ terminal: process.stderr.isTTY === true, everySeconds: Math.max(1, flags.progressSecs) }), remember], {
      concurrency: "unbounded",
      discard: true
    }).pipe(Effect.provideService(Status, status))
    // A runner of a cluster loads that code on demand: one process never parses it.
    const syncing = Option.match(runner, {
      onNone: () => Flusso.run(deployment, { skipBackfill: flags.skipBackfill, commands, status, quarantine, clients, lagPollSeconds: flags.lagPollSecs }),
      onSome: (address) =>
        Effect.flatMap(Effect.promise(() => import("../cluster/runCluster.js")), (cluster) =>
          cluster.run(deployment, {
            address,
            health: flags.runnerHealth,
            skipBackfill: flags.skipBackfill,
            commands,
            status,
            quarantine,
            clients,
            lagPollSeconds: flags.lagPollSecs
          }))
    })
    yield* syncing.pipe(
      Effect.raceFirst(Effect.zipRight(beside, Effect.never)),
      Effect.onInterrupt(() =>
        Effect.flatMap(Ref.get(streamedOnce), (streamed) =>
          Effect.logInfo(
            streamed ? "stopped on request; nothing unflushed was acknowledged" : "stopped on request while still connecting; nothing was synced"
          ))
      )
    )
  }).pipe(Effect.scoped)

export const run = Command.make("run", options, (flags) =>
  sync(flags).pipe(Effect.provide(loggingLayer(Option.getOrElse(flags.logFormat, () => "human" as const), flags.logLevel)))
).pipe(Command.withDescription("keep the configured OpenSearch indexes in step with PostgreSQL"))
