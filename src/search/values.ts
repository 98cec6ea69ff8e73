/**
 * The values a search compares fields with, typed per kind: what a date or a geo point
 * may be written as, and how each is sent to OpenSearch.
 */
import type { Json } from "./Query.js"

/**
 * A date or a moment: a `Date`, an ISO-8601 text (`"2024-01"`, `"2024-01-31"`,
 * `"2024-01-31T10:00:00Z"`) or OpenSearch date math (`"now-7d/d"`). A number is not one
 * (epoch millis are ambiguous), nor a text OpenSearch would not parse ("yesterday",
 * "2024/01/31", "2024-01-31 10:00").
 */
export type DateInput =
  | Date
  | `${number}-${number}`
  | `${number}-${number}-${number}`
  | `${number}-${number}-${number}T${string}`
  | `now${string}`

/** A point on the globe, as documents hold it. */
export interface GeoPoint {
  readonly lat: number
  readonly lon: number
}

/** A distance with its unit (`"2km"`, `"500m"`, `"1.5mi"`). */
export type Distance = `${number}${"km" | "m" | "cm" | "mm" | "mi" | "yd" | "ft" | "in" | "nmi"}`

/** A value of a custom field: whatever its mapping accepts in a term. */
export type CustomValue = string | number | boolean

/** How a value is written in the DSL. */
export const jsonValue = (value: string | number | boolean | Date): Json =>
  value instanceof Date ? value.toISOString() : value
