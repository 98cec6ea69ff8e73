/**
 * How flusso connects to Postgres: one client config shared by the read pool and the
 * replication connection, so both sessions print values identically (DateStyle ISO,
 * TimeZone UTC) and both keep every value as the text Postgres sent. That one shared
 * "type parser set" is what makes a key read back by SQL byte-equal to the same key
 * decoded from the replication stream.
 */
import type { ClientConfig, CustomTypesConfig } from "pg"
import { Redacted } from "effect"

/** Session settings that fix the text form of dates, times and intervals. */
const SESSION_OPTIONS = "-c DateStyle=ISO,YMD -c TimeZone=UTC -c IntervalStyle=iso_8601"

/** Every type stays the text Postgres printed; documents are built as JSON by Postgres itself. */
export const canonicalTextTypes: CustomTypesConfig = {
  getTypeParser: () => (value: string | Buffer) => (typeof value === "string" ? value : value.toString("utf8"))
}

/**
 * The pg client config for a source URL. Query parameters of the URL (sslmode…) stay in
 * the connection string so they apply to every connection; a user's own `options`
 * parameter is kept and our session settings appended.
 */
export const clientConfig = (url: Redacted.Redacted<string>, applicationName: string): ClientConfig => {
  const parsed = new URL(Redacted.value(url))
  const userOptions = parsed.searchParams.get("options")
  parsed.searchParams.delete("options")
  return {
    connectionString: parsed.toString(),
    options: userOptions ? `${userOptions} ${SESSION_OPTIONS}` : SESSION_OPTIONS,
    application_name: applicationName,
    types: canonicalTextTypes,
    // A peer that vanished (host down, network cut) is noticed by TCP instead of never.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000
  }
}
