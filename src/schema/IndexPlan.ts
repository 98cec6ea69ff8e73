/**
 * An index as the engine, source and sinks use it: the validated config of one logical
 * index with every default applied (columns named, key as a list), its content hash,
 * and the qualified table it is rooted at.
 */
import type { IndexConfig, ScalarKind, Transform } from "../config/model.js"
import { contentHash } from "./contentHash.js"

export interface PlannedField {
  /** Document key. */
  readonly name: string
  readonly kind: ScalarKind
  readonly column: string
  readonly required: boolean
  readonly transforms: ReadonlyArray<Transform>
  readonly default: string | number | boolean | undefined
  readonly variants: ReadonlyArray<string> | undefined
  readonly options: Readonly<Record<string, unknown>> | undefined
}

export interface IndexPlan {
  /** Logical index name (the config key). */
  readonly name: string
  readonly schema: string
  readonly table: string
  /** `schema.table`, the form changes are matched on. */
  readonly qualifiedTable: string
  readonly primaryKey: ReadonlyArray<string>
  readonly softDelete: { readonly column: string } | undefined
  readonly fields: ReadonlyArray<PlannedField>
  readonly enabled: boolean
  readonly onError: "stop" | "skip"
  /** 8 hex chars naming the generation family (see schema.md). */
  readonly hash: string
}

/** snake_case of a field name: the default column. */
export const snakeCase = (name: string): string =>
  name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toLowerCase()

export const qualify = (schema: string, table: string): string => `${schema}.${table}`

export const planIndex = (name: string, config: IndexConfig, globalOnError: "stop" | "skip"): IndexPlan => {
  const fields: Array<PlannedField> = Object.entries(config.fields).map(([fieldName, field]) => ({
    name: fieldName,
    kind: field.kind,
    column: field.column ?? snakeCase(fieldName),
    required: field.required ?? false,
    transforms: field.transforms ?? [],
    default: field.default,
    variants: field.variants,
    options: field.options
  }))
  const primaryKey = typeof config.primaryKey === "string" ? [config.primaryKey] : [...config.primaryKey]
  const shape = {
    schema: config.schema,
    table: config.table,
    primaryKey,
    softDelete: config.softDelete ?? null,
    fields
  }
  return {
    name,
    schema: config.schema,
    table: config.table,
    qualifiedTable: qualify(config.schema, config.table),
    primaryKey,
    softDelete: config.softDelete,
    fields,
    enabled: config.enabled,
    onError: config.onError ?? globalOnError,
    hash: contentHash(shape)
  }
}
