/**
 * The JSON Schema of a config as a user writes it in a `.json` file (the encoded side of
 * `FlussoConfig`: defaults optional, `env("X")` as `{ "_tag": "Env", "name": "X" }`), for
 * editor completion and for checking a config outside flusso. Generated from the same
 * Schema that validates, so the two cannot drift; rules only validate.ts knows (filter
 * arities, key arities, options a kind refuses) are not in it.
 */
import { JSONSchema } from "effect"
import { FlussoConfig } from "./model.js"

/** The key a `.json` config may carry to name its schema for editors; load.ts drops it. */
export const SCHEMA_KEY = "$schema"

/** A draft-07 JSON Schema; a fresh object on each call, safe to modify or serialize. */
export const configJsonSchema = (): object => {
  const schema = JSONSchema.make(FlussoConfig)
  // The config is a struct, so its schema has `properties`; the check only narrows the type.
  const properties = "properties" in schema ? schema.properties : {}
  return {
    ...schema,
    properties: {
      [SCHEMA_KEY]: { type: "string", description: "The JSON Schema of this file, for editors; ignored by flusso." },
      ...properties
    }
  }
}
