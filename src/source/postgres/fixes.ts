/**
 * The fix to print for a PostgreSQL error whose SQLSTATE says what is wrong better than
 * the statement it failed in: a login refused is about the credentials, not about the
 * tables the config names. Shared by `run` (sqlErrors.ts) and `check` (runCheck.ts).
 */
export const fixForCode = (code: string | undefined): string | undefined => {
  if (code === undefined) return undefined
  // 28000 invalid_authorization_specification (no such role, pg_hba refuses), 28P01 invalid_password.
  if (code.startsWith("28")) {
    return "check the user and password in source.url (or DATABASE_URL), and that pg_hba.conf lets this user in from here"
  }
  if (code === "3D000") return "check the database name in source.url (or DATABASE_URL): that database does not exist"
  if (code === "42501") return "grant the role what the message names (flusso check lists every privilege it needs)"
  return undefined
}
