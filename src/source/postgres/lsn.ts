/**
 * Log sequence numbers. Postgres prints them as `X/Y` (two hex halves); we hold them as
 * bigint so comparisons and arithmetic are exact.
 */
export const parseLsn = (text: string): bigint => {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text)
  if (match === null) throw new Error(`not an LSN: ${text}`)
  return (BigInt(`0x${match[1] ?? "0"}`) << 32n) + BigInt(`0x${match[2] ?? "0"}`)
}

export const formatLsn = (lsn: bigint): string =>
  `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`
