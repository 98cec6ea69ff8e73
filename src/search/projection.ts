/**
 * Projections: `select("fullName", "profile.bio", "recentOrders.status")` asks OpenSearch
 * for only those paths (`_source.includes`) and types the hits as exactly those, nested as
 * in the document (`Project`). Selecting a field whole and one of its paths is the field
 * whole.
 *
 * OpenSearch's source filtering drops an object or array it has nothing left of: a null
 * `profile` is absent, not null, and an empty `recentOrders` is absent, not `[]`.
 * `fillSelected` puts them back, so a projected hit has every selected key the type says.
 * Inside an array it would drop whole *elements* (an order whose `items` is empty, under
 * `recentOrders.items.quantity`), which nothing could put back: so for every array a
 * selection reaches into, one field every element holds is asked for too (its *anchor*),
 * and decoding (documentSchema.ts) leaves it out of the hit.
 */
import type { FieldValue } from "../config/documentOf.js"
import type { FieldPlan } from "../schema/IndexPlan.js"

type Structured = "object" | "belongsTo" | "hasOne" | "hasMany" | "manyToMany"

/** Every path `select` accepts: each field, and inside objects and joins each of theirs, at any depth. */
export type SelectPath<Fs> = {
  [K in keyof Fs & string]:
    | K
    | (Fs[K] extends { readonly kind: Structured; readonly fields: infer C } ? `${K}.${SelectPath<C>}` : never)
}[keyof Fs & string]

type Head<P extends string> = P extends `${infer H}.${string}` ? H : P

type Rest<P extends string, K extends string> = P extends `${K}.${infer R}` ? R : never

/** The part of a document (or object) of `fields` Fs that the paths P select. */
export type Project<Fs, P extends string> = {
  -readonly [K in keyof Fs & Head<P>]-?: K extends P ? FieldValue<Fs[K]> : ProjectInto<Fs[K], Rest<P, K & string>>
}

/** Inside an object or join: its own projection, as an array, an object or a nullable object like the field itself. */
type ProjectInto<F, R extends string> = F extends { readonly kind: infer K; readonly fields: infer Fs }
  ? K extends "hasMany" | "manyToMany"
    ? Array<Project<Fs, R>>
    : K extends "object"
      ? Project<Fs, R>
      : null extends FieldValue<F>
        ? Project<Fs, R> | null
        : Project<Fs, R>
  : never

// ---------------------------------------------------------------------------------------
// Run time
// ---------------------------------------------------------------------------------------

/** Which fields a projection keeps: `true` for a whole field, else the selection inside it. */
export type Selection = ReadonlyMap<string, true | Selection>

type Draft = Map<string, true | Draft>

export const selectionOf = (paths: ReadonlyArray<string>): Selection => {
  const root: Draft = new Map()
  for (const path of paths) {
    const names = path.split(".")
    let level: Draft | undefined = root
    names.forEach((name, i) => {
      if (level === undefined) return
      const existing = level.get(name)
      if (existing === true) {
        // The whole field is selected already: a path inside it adds nothing.
        level = undefined
      } else if (i === names.length - 1) {
        level.set(name, true)
      } else {
        const next: Draft = existing ?? new Map<string, true | Draft>()
        level.set(name, next)
        level = next
      }
    })
  }
  return root
}

/** The `_source.includes` list of a selection: one path per whole field. */
export const includesOf = (selection: Selection, fields: ReadonlyArray<FieldPlan>): ReadonlyArray<string> =>
  [...new Set(includesUnder(selection, fields, ""))]

const includesUnder = (selection: Selection, fields: ReadonlyArray<FieldPlan>, parent: string): ReadonlyArray<string> =>
  [...selection].flatMap(([name, inner]) => {
    const path = parent === "" ? name : `${parent}.${name}`
    if (inner === true) return [path]
    const field = fields.find((f) => f.name === name)
    if (field === undefined || (field._tag !== "Object" && field._tag !== "Join")) return [path]
    const within = includesUnder(inner, field.fields, path)
    return field._tag === "Join" && (field.relation === "hasMany" || field.relation === "manyToMany")
      ? [anchorOf(field.fields, path), ...within]
      : within
  })

/**
 * A path every element of an array of `fields` holds a key at: a leaf (whose key is there
 * even when its value is null), else a leaf of an object (never null), else a field whole.
 */
const anchorOf = (fields: ReadonlyArray<FieldPlan>, path: string): string => {
  const leaf = fields.find((f) => f._tag !== "Object" && f._tag !== "Join")
  if (leaf !== undefined) return `${path}.${leaf.name}`
  const object = fields.find((f) => f._tag === "Object")
  if (object !== undefined && object._tag === "Object" && object.fields.length > 0) return anchorOf(object.fields, `${path}.${object.name}`)
  const first = fields[0]
  return first === undefined ? path : `${path}.${first.name}`
}

const isList = (value: unknown): value is ReadonlyArray<unknown> => Array.isArray(value)

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** `source` with the objects and arrays source filtering dropped put back (null, `{}`, `[]`). */
export const fillSelected = (source: unknown, fields: ReadonlyArray<FieldPlan>, selection: Selection): unknown => {
  if (!isRecord(source)) return source
  const out: Record<string, unknown> = { ...source }
  for (const [name, inner] of selection) {
    if (inner === true) continue
    const field = fields.find((f) => f.name === name)
    if (field === undefined || (field._tag !== "Object" && field._tag !== "Join")) continue
    const value = out[name]
    if (field._tag === "Object") {
      out[name] = fillSelected(value === undefined ? {} : value, field.fields, inner)
    } else if (field.relation === "hasMany" || field.relation === "manyToMany") {
      out[name] = value === undefined ? [] : isList(value) ? value.map((element) => fillSelected(element, field.fields, inner)) : value
    } else {
      out[name] = value === undefined ? null : fillSelected(value, field.fields, inner)
    }
  }
  return out
}
