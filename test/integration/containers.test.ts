/**
 * The route the harness reports is the one the services came from. On the docker route
 * the PostgreSQL the tests talk to is the server inside the reported container (its
 * postmaster.pid, read inside the container, names our port and data directory) and the
 * OpenSearch node is the container's (it carries the cluster name the container was given).
 * Under FLUSSO_TEST_DOCKER=1 (.ci/run's container step) any other route fails here — and
 * globalSetup already refuses to fall back — so a broken daemon route cannot pass unseen.
 */
import * as fs from "node:fs"
import { Schema } from "effect"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { resolveServices } from "../support/services.js"

const queryOne = async (url: string, sql: string): Promise<unknown> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows[0]
  } finally {
    await client.end()
  }
}

const DataDirectory = Schema.Struct({ data_directory: Schema.String })
const Root = Schema.Struct({ cluster_name: Schema.String, version: Schema.Struct({ number: Schema.String }) })

describe("the services' route", () => {
  it("is the docker route whenever FLUSSO_TEST_DOCKER=1", async () => {
    const { route } = await resolveServices()
    if (process.env.FLUSSO_TEST_DOCKER === "1") expect(route).toBe("docker")
    else expect(["env", "docker", "native"]).toContain(route)
  })

  it("is where the services really run", async () => {
    const services = await resolveServices()
    const { data_directory: dataDir } = Schema.decodeUnknownSync(DataDirectory)(
      await queryOne(services.databaseUrl, "show data_directory")
    )
    const pgPort = new URL(services.databaseUrl).port
    switch (services.route) {
      case "docker": {
        expect(services.containers).toBeDefined()
        const ids = services.containers ?? { postgres: "", opensearch: "" }
        const { getContainerRuntimeClient } = await import("testcontainers")
        const client = await getContainerRuntimeClient()

        const pgContainer = client.container.getById(ids.postgres)
        const pgInfo = await client.container.inspect(pgContainer)
        expect(pgInfo.State.Running).toBe(true)
        expect(pgInfo.Config.Labels["flusso.test"]).toBe("postgres")
        // postmaster.pid: pid, data directory, start time, port, … — read inside the container.
        const pid = await client.container.exec(pgContainer, ["cat", `${dataDir}/postmaster.pid`])
        expect(pid.exitCode).toBe(0)
        const lines = pid.stdout.split("\n")
        expect(lines[1]).toBe(dataDir)
        expect(lines[3]).toBe(pgPort)

        const osContainer = client.container.getById(ids.opensearch)
        const osInfo = await client.container.inspect(osContainer)
        expect(osInfo.State.Running).toBe(true)
        expect(osInfo.Config.Labels["flusso.test"]).toBe("opensearch")
        const given = osInfo.Config.Env.find((e) => e.startsWith("cluster.name="))?.slice("cluster.name=".length)
        const root = Schema.decodeUnknownSync(Root)(await (await fetch(`${services.opensearchUrl}/`)).json())
        expect(given).toMatch(/^flusso-test-[0-9a-f]+$/)
        expect(root.cluster_name).toBe(given)
        expect(root.version.number).toMatch(/^2\.19\.\d+$/)
        break
      }
      case "native":
        // scripts/services.sh runs the server on this host, from a data directory here.
        expect(fs.readFileSync(`${dataDir}/postmaster.pid`, "utf8").split("\n")[3]).toBe(pgPort)
        break
      case "env":
        expect(services.databaseUrl).toBe(process.env.FLUSSO_TEST_DATABASE_URL)
        break
    }
  })
})
