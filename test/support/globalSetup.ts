/**
 * Vitest globalSetup for the integration project: resolves the real services once, in
 * the main process, and hands their URLs to the workers through the environment (workers
 * are spawned afterwards and inherit it), so no worker starts services of its own.
 * Throwing here fails the whole run: integration tests are never skipped.
 */
import { resolveServices } from "./services.js"

export default async function setup(): Promise<void> {
  let urls
  try {
    urls = await resolveServices()
  } catch (e) {
    throw new Error(
      `integration tests need real PostgreSQL and OpenSearch and could not get them: ${e instanceof Error ? e.message : String(e)}`
    )
  }
  process.env.FLUSSO_TEST_DATABASE_URL = urls.databaseUrl
  process.env.FLUSSO_TEST_OPENSEARCH_URL = urls.opensearchUrl
}
