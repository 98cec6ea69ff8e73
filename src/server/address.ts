/**
 * A listen address as the config and flags write it: `host:port`, `[v6]:port` or `:port`
 * (every interface). Refused with the reason at start, before anything else happens.
 */
import { Either } from "effect"

export interface ListenAddress {
  readonly host: string
  readonly port: number
}

export const parseAddress = (text: string): Either.Either<ListenAddress, string> => {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim())
  const port = Number(match?.[3])
  if (match === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    return Either.left(`"${text}" is not an address: write host:port, e.g. 127.0.0.1:9464 or [::1]:9464`)
  }
  const host = match[1] ?? match[2] ?? ""
  return Either.right({ host: host === "" ? "0.0.0.0" : host, port })
}

export const formatAddress = (address: ListenAddress): string =>
  address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
