/**
 * HTTP Basic for the private surface: the credentials of an `Authorization` header
 * compared in constant time (both sides hashed first, so neither the length nor a common
 * prefix leaks through timing), and the challenge a refusal carries.
 */
import { createHash, timingSafeEqual } from "node:crypto"

export interface Credentials {
  readonly user: string
  readonly password: string
}

/** The defaults a fresh deployment starts with; their use is warned about loudly. */
export const DEFAULT_CREDENTIALS: Credentials = { user: "admin", password: "flusso" }

export const CHALLENGE = `Basic realm="flusso"`

/** The user and password of a `Basic` authorization header, or undefined. */
export const parseBasic = (header: string | undefined): Credentials | undefined => {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "")
  if (match?.[1] === undefined) return undefined
  const decoded = Buffer.from(match[1], "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

const equalInConstantTime = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b))

/** Whether the header carries exactly these credentials. Both parts are always compared. */
export const authorized = (header: string | undefined, expected: Credentials): boolean => {
  const given = parseBasic(header) ?? { user: "", password: "" }
  const user = equalInConstantTime(given.user, expected.user)
  const password = equalInConstantTime(given.password, expected.password)
  // Empty credentials are refused at start (credentials.ts); never let them in regardless.
  return user && password && parseBasic(header) !== undefined && expected.user !== "" && expected.password !== ""
}
