/**
 * The test harness's real services (quality.md "Real services, always"): where the
 * PostgreSQL (wal_level=logical) and OpenSearch 2.19 the integration tests talk to live,
 * plus per-test isolation helpers (a fresh database, a unique index prefix).
 *
 * Resolution order (docs/testing.md):
 *   1. FLUSSO_TEST_DATABASE_URL / FLUSSO_TEST_OPENSEARCH_URL set → use them;
 *   2. a Docker daemon answers → containers via testcontainers (./containers), kept
 *      until releaseServices() (globalSetup's teardown); FLUSSO_TEST_DOCKER=1 makes this
 *      route required, FLUSSO_TEST_DOCKER=0 skips it;
 *   3. `scripts/services.sh up` (native PostgreSQL + OpenSearch), parsing its env lines.
 * A service that cannot be had is an error, never a skip.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Cause, Context, Effect, Exit, Layer, Scope } from "effect"
import pg from "pg"

export interface ServiceUrls {
  /** A superuser URL of the test cluster's `postgres` database. */
  readonly databaseUrl: string
  /** The OpenSearch node's base URL, no trailing slash. */
  readonly opensearchUrl: string
}

/** Which step of the resolution order gave the services. */
export type ServiceRoute = "env" | "docker" | "native"

export interface ResolvedServices extends ServiceUrls {
  readonly route: ServiceRoute
  /** The containers' ids on the docker route. */
  readonly containers?: { readonly postgres: string; readonly opensearch: string }
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const DB_VAR = "FLUSSO_TEST_DATABASE_URL"
const OS_VAR = "FLUSSO_TEST_OPENSEARCH_URL"
/**
 * Set by globalSetup for the workers, which see the URLs as step 1: the route that did
 * give them, and on the docker route the container ids ("<postgres>,<opensearch>").
 */
export const ROUTE_VAR = "FLUSSO_TEST_SERVICES_ROUTE"
export const CONTAINERS_VAR = "FLUSSO_TEST_SERVICES_CONTAINERS"

const log = (message: string) => process.stderr.write(`[flusso test services] ${message}\n`)

/** Closes the docker route's scope: stops and removes its containers. */
let releaseContainers: (() => Promise<void>) | undefined

/**
 * Step 2: the container route, or undefined to fall through to step 3. The module (and
 * testcontainers) loads only here, so workers on the env route never load it.
 */
const startContainerServices = async (): Promise<ResolvedServices | undefined> => {
  const containers = await import("./containers/index.js")
  const use = await Effect.runPromise(containers.dockerUse())
  if (use === "never") {
    log("FLUSSO_TEST_DOCKER=0: not looking for a Docker daemon")
    return undefined
  }
  const problem = use === "auto" ? await Effect.runPromise(containers.daemonProblem) : undefined
  if (problem !== undefined) {
    log(`not using Docker: ${problem} (FLUSSO_TEST_DOCKER=1 makes this an error)`)
    return undefined
  }
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(
    Effect.gen(function* () {
      const settings = yield* containers.settingsFromEnv()
      log(`a Docker daemon answers: starting ${settings.postgresImage} and ${settings.opensearchImage} (network ${settings.network})`)
      const context = yield* Layer.buildWithScope(containers.layer(settings), scope)
      return Context.get(context, containers.ContainerServices)
    })
  )
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, exit))
    const reason = Cause.failureOption(exit.cause)
    throw new Error(reason._tag === "Some" ? reason.value.message : Cause.pretty(exit.cause))
  }
  releaseContainers = () => Effect.runPromise(Scope.close(scope, Exit.void))
  const { postgres, opensearch } = exit.value
  log(`containers up: PostgreSQL ${postgres.url} (${postgres.containerId.slice(0, 12)}), OpenSearch ${opensearch.url} (${opensearch.containerId.slice(0, 12)})`)
  return {
    databaseUrl: postgres.url,
    opensearchUrl: opensearch.url,
    route: "docker",
    containers: { postgres: postgres.containerId, opensearch: opensearch.containerId }
  }
}

/** Stops what resolveServices started for this process (the containers; native services stay up). */
export const releaseServices = async (): Promise<void> => {
  const release = releaseContainers
  releaseContainers = undefined
  resolved = undefined
  if (release) {
    log("stopping the containers")
    await release()
  }
}

/** Runs `scripts/services.sh up` (idempotent) and returns the URLs it prints. */
const startNativeServices = (): Promise<ServiceUrls> =>
  new Promise((resolve, reject) => {
    const script = path.join(ROOT, "scripts/services.sh")
    // stderr passes through so progress (and a failure's log tail) is visible.
    const child = spawn("bash", [script, "up"], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`scripts/services.sh up exited with ${code} (see its output above)`))
      const vars = parseEnvLines(out)
      const databaseUrl = vars[DB_VAR]
      const opensearchUrl = vars[OS_VAR]
      if (!databaseUrl || !opensearchUrl) {
        return reject(new Error(`scripts/services.sh up printed no ${DB_VAR}/${OS_VAR}:\n${out}`))
      }
      resolve({ databaseUrl, opensearchUrl })
    })
  })

/** Parses `export KEY=VALUE` lines (what services.sh prints). */
export const parseEnvLines = (text: string): Record<string, string> => {
  const vars: Record<string, string> = {}
  for (const line of text.split("\n")) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (m?.[1] !== undefined && m[2] !== undefined) vars[m[1]] = m[2].trim().replace(/^(['"])(.*)\1$/, "$2")
  }
  return vars
}

/** Proves both services answer, so a dead URL fails here with one clear line. */
export const checkServices = async (urls: ServiceUrls): Promise<void> => {
  const client = new pg.Client({ connectionString: urls.databaseUrl, connectionTimeoutMillis: 10_000 })
  try {
    await client.connect()
    await client.query("select 1")
  } catch (e) {
    throw new Error(`PostgreSQL at ${redact(urls.databaseUrl)} does not answer: ${String(e)}`)
  } finally {
    await client.end().catch(() => undefined)
  }
  const res = await fetch(`${urls.opensearchUrl}/`, { signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => {
    throw new Error(`OpenSearch at ${urls.opensearchUrl} does not answer: ${String(e)}`)
  })
  if (!res.ok) throw new Error(`OpenSearch at ${urls.opensearchUrl} answered ${res.status}`)
}

let resolved: Promise<ResolvedServices> | undefined

/** The services, resolved once per process (the env route is instant in workers). */
export const resolveServices = (): Promise<ResolvedServices> => (resolved ??= doResolve())

const routeFromEnv = (): Pick<ResolvedServices, "route" | "containers"> => {
  const route = process.env[ROUTE_VAR]
  const [postgres, opensearch] = (process.env[CONTAINERS_VAR] ?? "").split(",")
  const containers = postgres && opensearch ? { containers: { postgres, opensearch } } : {}
  return route === "docker" || route === "native" ? { route, ...containers } : { route: "env" }
}

const doResolve = async (): Promise<ResolvedServices> => {
  const envDb = process.env[DB_VAR]
  const envOs = process.env[OS_VAR]
  let services: ResolvedServices
  if (envDb && envOs) {
    services = { databaseUrl: envDb, opensearchUrl: envOs, ...routeFromEnv() }
  } else {
    const docker = await startContainerServices()
    if (docker) {
      // As on the native route, a variable the caller did set wins.
      services = { ...docker, databaseUrl: envDb || docker.databaseUrl, opensearchUrl: envOs || docker.opensearchUrl }
    } else {
      log("starting services natively (scripts/services.sh up)")
      const native = await startNativeServices()
      // A variable the caller did set wins over what the script reports.
      services = { databaseUrl: envDb || native.databaseUrl, opensearchUrl: envOs || native.opensearchUrl, route: "native" }
    }
  }
  services = { ...services, opensearchUrl: services.opensearchUrl.replace(/\/+$/, "") }
  await checkServices(services)
  return services
}

export const databaseUrl = (): Promise<string> => resolveServices().then((s) => s.databaseUrl)
export const opensearchUrl = (): Promise<string> => resolveServices().then((s) => s.opensearchUrl)

/** The same, as an Effect service for tests written with @effect/vitest. */
export class TestServices extends Context.Tag("flusso/test/TestServices")<TestServices, ResolvedServices>() {}
export const TestServicesLive: Layer.Layer<TestServices> = Layer.effect(
  TestServices,
  Effect.promise(() => resolveServices())
)

// ---------------------------------------------------------------------------------------
// Per-test isolation

const redact = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@")

const randomHex = (bytes: number): string => randomBytes(bytes).toString("hex")

export interface TestDatabase {
  readonly name: string
  /** The fresh database's URL (same credentials and host as the base URL). */
  readonly url: string
  /** Drops the database, its replication slots first, ending any connection to it. */
  readonly drop: () => Promise<void>
}

const withClient = async <A>(url: string, f: (c: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Creates a fresh database `t_<random>` on the cluster of `baseUrl`. */
export const createTestDatabase = async (baseUrl: string): Promise<TestDatabase> => {
  const name = `t_${randomHex(6)}`
  await withClient(baseUrl, (c) => c.query(`create database "${name}"`))
  const url = new URL(baseUrl)
  url.pathname = `/${name}`
  return { name, url: url.toString(), drop: () => dropTestDatabase(baseUrl, name) }
}

const dropTestDatabase = (baseUrl: string, name: string): Promise<void> =>
  withClient(baseUrl, async (c) => {
    // A logical slot blocks DROP DATABASE, and an active one (its walsender still
    // connected) cannot be dropped: end the connections, then drop the slots once the
    // walsenders are gone.
    for (let attempt = 0; ; attempt++) {
      await c.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
        [name]
      )
      await c.query(
        "select pg_drop_replication_slot(slot_name) from pg_replication_slots where database = $1 and not active",
        [name]
      )
      const left = await c.query("select 1 from pg_replication_slots where database = $1", [name])
      if (left.rowCount === 0) break
      if (attempt >= 50) throw new Error(`replication slots of ${name} are still active after 10 s`)
      await new Promise((r) => setTimeout(r, 200))
    }
    await c.query(`drop database if exists "${name}" with (force)`)
  })

/** A fresh database for the scope of an Effect test, dropped when the scope closes. */
export const testDatabase = (baseUrl: string) =>
  Effect.acquireRelease(
    Effect.promise(() => createTestDatabase(baseUrl)),
    (db) => Effect.promise(() => db.drop())
  )

/** A unique, lowercase index prefix such as `t1a2b3c4_` (valid as a flusso `prefix`). */
export const uniquePrefix = (): string => `t${randomHex(4)}_`

/**
 * Deletes every index whose name starts with `prefix` (hidden and closed ones too) and
 * every alias named with it. Deleting an index drops its aliases, but an alias with the
 * prefix may point at an index without it, so aliases are removed explicitly first.
 */
export const deleteIndexesWithPrefix = async (osUrl: string, prefix: string): Promise<void> => {
  // Refuse anything that would widen the wildcard (an empty prefix would match all).
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(prefix)) throw new Error(`refusing to delete indexes with prefix "${prefix}"`)
  const base = osUrl.replace(/\/+$/, "")
  const call = async (method: string, p: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}${p}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
    })
    const text = await res.text()
    if (!res.ok && res.status !== 404) throw new Error(`${method} ${p} → ${res.status}: ${text}`)
    return res.status === 404 ? undefined : JSON.parse(text)
  }
  const aliases = (await call("GET", `/_alias/${prefix}*?expand_wildcards=all`)) as
    | Record<string, { aliases: Record<string, unknown> }>
    | undefined
  const actions = Object.entries(aliases ?? {}).flatMap(([index, { aliases: names }]) =>
    Object.keys(names)
      .filter((alias) => alias.startsWith(prefix))
      .map((alias) => ({ remove: { index, alias } }))
  )
  if (actions.length > 0) await call("POST", "/_aliases", { actions })
  await call("DELETE", `/${prefix}*?expand_wildcards=all&ignore_unavailable=true`)
}
