/**
 * Which credentials the private surface may start with. Never empty ones: an empty
 * password is no password (`curl -u admin:` would get in). The defaults (`admin`/`flusso`)
 * only where nobody else can reach them — a loopback address — unless the operator says
 * explicitly that they accept them (`--allow-default-credentials`); elsewhere they are
 * refused at start with the flags that fix it.
 */
import { isIP } from "node:net"
import { type Credentials, DEFAULT_CREDENTIALS } from "./basicAuth.js"
import { formatAddress, type ListenAddress } from "./address.js"

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x) and `localhost`: reachable from this host only. */
export const isLoopback = (host: string): boolean => {
  const h = host.toLowerCase()
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h
  return isIP(v4) === 4 && v4.startsWith("127.")
}

export const isDefault = (credentials: Credentials): boolean =>
  credentials.user === DEFAULT_CREDENTIALS.user && credentials.password === DEFAULT_CREDENTIALS.password

/** Why the private surface must not start with these credentials at this address, one line each; empty when it may. */
export const credentialProblems = (credentials: Credentials, address: ListenAddress, allowDefault: boolean): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if (credentials.user === "") problems.push("--admin-user (or FLUSSO_ADMIN_USER) is empty: name a user for the private HTTP surface")
  if (credentials.password === "") {
    problems.push("--admin-password (or FLUSSO_ADMIN_PASSWORD) is empty: an empty password lets anyone in; set one")
  }
  if (isDefault(credentials) && !isLoopback(address.host) && !allowDefault) {
    problems.push(
      `the private HTTP surface would listen on ${formatAddress(address)} with the default credentials admin/flusso, so anyone who reaches it could reindex: ` +
        "set --admin-user and --admin-password (FLUSSO_ADMIN_USER, FLUSSO_ADMIN_PASSWORD), or pass --allow-default-credentials " +
        "(FLUSSO_ALLOW_DEFAULT_CREDENTIALS=true) to accept that"
    )
  }
  return problems
}
