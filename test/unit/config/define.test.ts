import { Schema } from "effect"
import { defineConfig, defineIndex, type DocumentOf, env, t } from "flusso"
import { describe, expect, expectTypeOf, it } from "vitest"
import { EnvRef, FlussoConfig, ScalarField } from "../../../src/config/model.js"

const users = defineIndex({
  table: "users",
  primaryKey: "id",
  fields: {
    id: t.long({ required: true }),
    email: t.keyword({ required: true, transforms: ["lowercase", "trim"] }),
    fullName: t.text(),
    handle: t.identifier({ column: "user_handle" }),
    tier: t.enum({ variants: ["free", "pro"], required: true }),
    mood: t.enum(),
    externalId: t.uuid(),
    active: t.boolean({ default: true }),
    age: t.short(),
    score: t.integer(),
    rating: t.float(),
    ratio: t.double(),
    balance: t.decimal({ required: true }),
    birthday: t.date(),
    createdAt: t.timestamp({ required: true }),
    avatar: t.binary(),
    settings: t.json({ options: { enabled: false } })
  }
})

describe("define", () => {
  it("infers the document type exactly", () => {
    expectTypeOf<DocumentOf<typeof users>>().toEqualTypeOf<{
      id: number
      email: string
      fullName: string | null
      handle: string | null
      tier: "free" | "pro"
      mood: string | null
      externalId: string | null
      active: boolean
      age: number | null
      score: number | null
      rating: number | null
      ratio: number | null
      balance: number
      birthday: string | null
      createdAt: string
      avatar: string | null
      settings: unknown
    }>()
  })

  it("rejects unknown options and wrongly typed defaults at compile time", () => {
    // @ts-expect-error misspelt option
    t.text({ requird: true })
    // @ts-expect-error variants belong to enums
    t.keyword({ variants: ["a"] })
    // @ts-expect-error transforms apply to strings
    t.integer({ transforms: ["trim"] })
    // @ts-expect-error a number field takes a number default
    t.integer({ default: "0" })
  })

  it("builds plain data the config schema decodes", () => {
    expect(t.keyword({ required: true, transforms: ["trim"] })).toEqual({
      kind: "keyword",
      required: true,
      transforms: ["trim"]
    })
    expect(t.text()).toEqual({ kind: "text" })
    for (const field of Object.values(users.fields)) {
      expect(Schema.decodeUnknownSync(ScalarField, { onExcessProperty: "error" })(field)).toEqual(field)
    }
    const config = defineConfig({
      source: { type: "postgres", url: env("DATABASE_URL") },
      indexes: { users }
    })
    const decoded = Schema.decodeUnknownSync(FlussoConfig, { onExcessProperty: "error" })(config)
    expect(decoded.source.url).toBeInstanceOf(EnvRef)
    expect(decoded.indexes.users?.fields.tier?.variants).toEqual(["free", "pro"])
  })
})
