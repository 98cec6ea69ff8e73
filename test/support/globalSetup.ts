/**
 * Vitest globalSetup for the integration project: resolves the real services once, in
 * the main process, and hands their URLs to the workers through the environment (workers
 * are spawned afterwards and inherit it), so no worker starts services of its own. The
 * returned teardown stops what was started for this run (containers on the docker route;
 * native services stay up for the next run, as scripts/services.sh intends).
 * Throwing here fails the whole run: integration tests are never skipped.
 */
import { CONTAINERS_VAR, releaseServices, resolveServices, ROUTE_VAR } from "./services.js"

export default async function setup(): Promise<() => Promise<void>> {
  let services
  try {
    services = await resolveServices()
  } catch (e) {
    // Containers that did start before the failure go too.
    await releaseServices().catch(() => undefined)
    throw new Error(
      `integration tests need real PostgreSQL and OpenSearch and could not get them: ${e instanceof Error ? e.message : String(e)}`
    )
  }
  process.env.FLUSSO_TEST_DATABASE_URL = services.databaseUrl
  process.env.FLUSSO_TEST_OPENSEARCH_URL = services.opensearchUrl
  process.env[ROUTE_VAR] = services.route
  if (services.containers) {
    process.env[CONTAINERS_VAR] = `${services.containers.postgres},${services.containers.opensearch}`
  }
  return releaseServices
}
