/**
 * Log sequence numbers. Postgres prints them as `X/Y` (two hex halves); we hold them as
 * bigint so comparisons and arithmetic are exact.
 */
export const parseLsn = (text: string): bigint => {
  const [hi, lo] = text.split("/")
  if (hi === undefined || lo === undefined || !/^[0-9A-Fa-f]+$/.test(hi) || !/^[0-9A-Fa-f]+$/.test(lo)) {
    throw new Error(`not an LSN: ${text}`)
  }
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`)
}

export const formatLsn = (lsn: bigint): string =>
  `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`
