/**
 * Validation of a config value, whatever file it came from: the `FlussoConfig` schema
 * (unknown keys are errors) and then the rules a schema cannot express well, such as
 * enum variants and defaults that must suit their field's kind.
 */
import { Either, Schema } from "effect"
import { formatParseError } from "./issues.js"
import type { IndexConfig, ScalarField, ScalarKind } from "./model.js"
import { FlussoConfig } from "./model.js"

const decode = Schema.decodeUnknownEither(FlussoConfig, { errors: "all", onExcessProperty: "error" })

const TEXTUAL: ReadonlySet<ScalarKind> = new Set(["text", "identifier", "keyword", "enum", "uuid"])
const INTEGRAL: ReadonlySet<ScalarKind> = new Set(["short", "integer", "long"])
const NUMERIC: ReadonlySet<ScalarKind> = new Set([...INTEGRAL, "float", "double", "decimal"])

const duplicates = (values: ReadonlyArray<string>): Array<string> => [
  ...new Set(values.filter((value, i) => values.indexOf(value) !== i))
]

/** Why `field.default` cannot stand in for null, if it cannot. */
const defaultProblem = (field: ScalarField, value: string | number | boolean): string | undefined => {
  if (field.kind === "json") return undefined
  if (field.kind === "boolean") return typeof value === "boolean" ? undefined : "must be a boolean"
  if (NUMERIC.has(field.kind)) {
    if (typeof value !== "number" || !Number.isFinite(value)) return `must be a finite number, as the field is ${field.kind}`
    return INTEGRAL.has(field.kind) && !Number.isInteger(value) ? `must be an integer, as the field is ${field.kind}` : undefined
  }
  if (typeof value !== "string") return `must be a string, as the field is ${field.kind}`
  return field.variants !== undefined && !field.variants.includes(value)
    ? `must be one of the variants ${field.variants.map((v) => JSON.stringify(v)).join(", ")}`
    : undefined
}

const fieldIssues = (at: string, field: ScalarField): Array<string> => {
  const issues: Array<string> = []
  const { variants } = field
  if (variants !== undefined) {
    if (field.kind !== "enum") issues.push(`${at}.variants: only enum fields take variants, this field is ${field.kind}`)
    else if (variants.length === 0) issues.push(`${at}.variants: must not be empty`)
    for (const v of duplicates(variants)) issues.push(`${at}.variants: ${JSON.stringify(v)} is listed twice`)
    // The `.sort` normalizer is a mapping char filter: "=>" and line breaks would corrupt its rules.
    variants.forEach((v, i) => {
      if (/=>|[\r\n]/.test(v)) issues.push(`${at}.variants[${i}]: must not contain "=>" or a line break`)
    })
  }
  if (field.transforms !== undefined && !TEXTUAL.has(field.kind)) {
    issues.push(`${at}.transforms: only text, identifier, keyword, enum and uuid fields take transforms`)
  }
  const problem = field.default === undefined ? undefined : defaultProblem(field, field.default)
  if (problem !== undefined) issues.push(`${at}.default: ${problem}`)
  return issues
}

const indexIssues = (name: string, index: IndexConfig): Array<string> => {
  const at = `indexes.${name}`
  const primaryKey = typeof index.primaryKey === "string" ? [index.primaryKey] : index.primaryKey
  return [
    ...duplicates(primaryKey).map((column) => `${at}.primaryKey: column "${column}" is listed twice`),
    ...Object.entries(index.fields).flatMap(([field, config]) => fieldIssues(`${at}.fields.${field}`, config))
  ]
}

/** The validated config, or one line per problem naming its path. */
export const validateConfig = (input: unknown): Either.Either<FlussoConfig, ReadonlyArray<string>> =>
  Either.gen(function* () {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      return yield* Either.left([`the config must be an object, got ${JSON.stringify(input) ?? typeof input}`])
    }
    const config = yield* Either.mapLeft(decode(input), formatParseError)
    const issues = Object.entries(config.indexes).flatMap(([name, index]) => indexIssues(name, index))
    return issues.length === 0 ? config : yield* Either.left(issues)
  })
