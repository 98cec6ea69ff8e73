/**
 * Random DML over the differential schema, reproducible from a seed: inserts, updates,
 * deletes, re-parenting (orders between users, items between orders, profiles and junction
 * rows), key changes, soft-delete toggles, rows entering and leaving filtered sets, bulk
 * statements, multi-statement transactions and rolled-back ones.
 *
 * It runs on its own connection (transactions need one) and keeps a model of which keys
 * exist, so it never violates a primary key; the model learns from `RETURNING`, and a
 * rolled-back transaction's changes are dropped from it. Every value comes from the PRNG
 * (no `now()`, no `random()`), so the same seed yields the same database.
 */
import pg from "pg"
import type { Random } from "./prng.js"
import type { Table } from "./schema.js"

interface Model {
  readonly users: Set<number>
  readonly profiles: Set<number>
  readonly products: Set<string>
  readonly orders: Set<number>
  readonly items: Set<number>
  readonly tags: Set<number>
  /** `user_id:tag_id` */
  readonly userTags: Set<string>
}

const cloneModel = (m: Model): Model => ({
  users: new Set(m.users),
  profiles: new Set(m.profiles),
  products: new Set(m.products),
  orders: new Set(m.orders),
  items: new Set(m.items),
  tags: new Set(m.tags),
  userTags: new Set(m.userTags)
})

export type Phase = "populate" | "churn"

export interface WorkloadStats {
  statements: number
  transactions: number
  rolledBack: number
  /** `table.kind` → count */
  readonly ops: Record<string, number>
}

const STATUSES = { active: 6, invited: 2, banned: 1 } as const
const ORDER_STATUSES = { pending: 3, paid: 4, shipped: 2, cancelled: 1 } as const
const NAMES = ["Ada", "Alan", "Grace", "José", "Zoë", "O'Brien", "Ken", "Barbara", "Radia", "Edsger", null] as const
const WORDS = ["lamp", "desk", "chair", "cable", "mouse", "screen", "dock", "stand"] as const
const TAG_NAMES = ["red", "green", "blue", "vip", "beta", "gold"] as const

export interface Workload {
  /** Runs `count` operations (single statements or transactions). */
  readonly run: (count: number, phase: Phase) => Promise<void>
  readonly stats: WorkloadStats
  /** Every statement run so far, parameters inlined, with `mark`ed notes: a replayable script. */
  readonly log: ReadonlyArray<string>
  readonly mark: (note: string) => void
  readonly close: () => Promise<void>
}

export const makeWorkload = async (url: string, random: Random): Promise<Workload> => {
  const client = new pg.Client({ connectionString: url })
  // A connection the test's cleanup terminates must not surface as an unhandled error.
  client.on("error", () => undefined)
  await client.connect()
  let model: Model = {
    users: new Set(), profiles: new Set(), products: new Set(), orders: new Set(), items: new Set(), tags: new Set(), userTags: new Set()
  }
  // Counters are never rolled back: a key is never reused.
  const next = { users: 1, profiles: 1, orders: 1, items: 1, tags: 1 }
  const fresh = (table: keyof typeof next) => next[table]++
  const stats: WorkloadStats = { statements: 0, transactions: 0, rolledBack: 0, ops: {} }

  const log: Array<string> = []
  const query = async (text: string) => {
    log.push(`${text};`)
    await client.query(text)
  }
  const exec = async (kind: string, text: string, params: ReadonlyArray<unknown>) => {
    stats.statements++
    stats.ops[kind] = (stats.ops[kind] ?? 0) + 1
    log.push(`${inline(text, params)}; -- ${kind}`)
    try {
      return (await client.query(text, [...params])).rows as Array<Record<string, unknown>>
    } catch (e) {
      throw new Error(`workload statement failed (${kind}): ${text} ${JSON.stringify(params)}: ${String(e)}`)
    }
  }

  // ── values ────────────────────────────────────────────────────────────────────────
  const timestamp = () => {
    const ms = Date.UTC(2023, 0, 1) + random.int(2 * 365 * 24 * 3600) * 1000 + random.int(1000)
    return new Date(ms).toISOString().replace("Z", `${String(random.int(1000)).padStart(3, "0")}Z`)
  }
  const date = () => new Date(Date.UTC(1950, 0, 1) + random.int(20_000) * 86_400_000).toISOString().slice(0, 10)
  const money = (max: number) => (random.int(max * 100) / 100).toFixed(2)
  const existing = <A>(set: ReadonlySet<A>): A | undefined => (set.size === 0 ? undefined : random.pick([...set]))

  /** A reference to a parent: mostly an existing row, sometimes one not inserted yet, one long gone, or none. */
  const ref = (set: ReadonlySet<number>, counter: keyof typeof next, nullable: boolean): number | null => {
    const roll = random.next()
    const some = existing(set)
    if (roll < 0.8 && some !== undefined) return some
    if (roll < 0.9) return next[counter] + random.int(3) // a row that may arrive later
    if (nullable && roll < 0.95) return null
    return 1 + random.int(Math.max(1, next[counter])) // anything ever used, maybe deleted
  }
  const productRef = (m: Model): string | null => {
    const roll = random.next()
    const some = existing(m.products)
    if (roll < 0.85 && some !== undefined) return some
    if (roll < 0.93) return null
    return random.uuid() // a product that does not exist
  }

  // ── operations per table ───────────────────────────────────────────────────────────
  const ops: Record<Table, (m: Model, phase: Phase) => Promise<void>> = {
    users: async (m, phase) => {
      const target = existing(m.users)
      const kind = target === undefined ? "insert" : random.weighted(
        phase === "populate"
          ? { insert: 10, update: 1, softDelete: 1, status: 1, rekey: 0, delete: 0 }
          : { insert: 3, update: 3, softDelete: 3, status: 2, rekey: 0.4, delete: 1 }
      )
      switch (kind) {
        case "insert": {
          const id = fresh("users")
          await exec("users.insert", "INSERT INTO users VALUES ($1, $2, $3, $4, $5, $6, $7)", [
            id, `user${id}@example.com`, random.pick(NAMES), random.weighted(STATUSES), random.int(100),
            random.chance(0.1) ? timestamp() : null, timestamp()
          ])
          m.users.add(id)
          return
        }
        case "update":
          await exec("users.update", "UPDATE users SET name = $2, score = $3, email = $4 WHERE id = $1", [
            target, random.pick(NAMES), random.int(100), `u${random.int(1000)}@example.org`
          ])
          return
        case "softDelete":
          await exec("users.softDelete", "UPDATE users SET deleted_at = CASE WHEN deleted_at IS NULL THEN $2::timestamptz END WHERE id = $1", [
            target, timestamp()
          ])
          return
        case "status":
          await exec("users.status", "UPDATE users SET status = $2 WHERE id = $1", [target, random.weighted(STATUSES)])
          return
        case "rekey": {
          const id = fresh("users")
          await exec("users.rekey", "UPDATE users SET id = $2 WHERE id = $1", [target, id])
          m.users.delete(target as number)
          m.users.add(id)
          return
        }
        case "delete":
          await exec("users.delete", "DELETE FROM users WHERE id = $1", [target])
          m.users.delete(target as number)
      }
    },

    profiles: async (m, phase) => {
      const target = existing(m.profiles)
      const kind = target === undefined ? "insert" : random.weighted(
        phase === "populate" ? { insert: 10, update: 1, move: 0, delete: 0 } : { insert: 3, update: 3, move: 2, delete: 2 }
      )
      switch (kind) {
        case "insert": {
          const id = fresh("profiles")
          await exec("profiles.insert", "INSERT INTO profiles VALUES ($1, $2, $3, $4, $5)", [
            id, ref(m.users, "users", true), random.chance(0.8) ? `bio ${random.pick(WORDS)}` : null,
            random.chance(0.8) ? date() : null, random.chance(0.75)
          ])
          m.profiles.add(id)
          return
        }
        case "update":
          await exec("profiles.update", "UPDATE profiles SET bio = $2, birthday = $3, visible = $4 WHERE id = $1", [
            target, `bio ${random.pick(WORDS)}`, random.chance(0.8) ? date() : null, random.chance(0.75)
          ])
          return
        case "move":
          await exec("profiles.move", "UPDATE profiles SET user_id = $2 WHERE id = $1", [target, ref(m.users, "users", true)])
          return
        case "delete":
          await exec("profiles.delete", "DELETE FROM profiles WHERE id = $1", [target])
          m.profiles.delete(target as number)
      }
    },

    products: async (m, phase) => {
      const target = existing(m.products)
      const kind = target === undefined ? "insert" : random.weighted(
        phase === "populate" ? { insert: 10, update: 1, rekey: 0, delete: 0 } : { insert: 2, update: 4, rekey: 0.3, delete: 1 }
      )
      switch (kind) {
        case "insert": {
          const id = random.uuid()
          await exec("products.insert", "INSERT INTO products VALUES ($1, $2, $3, $4)", [
            random.chance(0.2) ? id.toUpperCase() : id, `SKU-${random.int(10_000)}`, random.pick(WORDS), money(500)
          ])
          m.products.add(id)
          return
        }
        case "update":
          await exec("products.update", "UPDATE products SET name = $2, price = $3, sku = $4 WHERE id = $1", [
            target, `${random.pick(WORDS)} ${random.int(100)}`, money(500), `SKU-${random.int(10_000)}`
          ])
          return
        case "rekey": {
          const id = random.uuid()
          await exec("products.rekey", "UPDATE products SET id = $2 WHERE id = $1", [target, id])
          m.products.delete(target as string)
          m.products.add(id)
          return
        }
        case "delete":
          await exec("products.delete", "DELETE FROM products WHERE id = $1", [target])
          m.products.delete(target as string)
      }
    },

    orders: async (m, phase) => {
      const target = existing(m.orders)
      const kind = target === undefined ? "insert" : random.weighted(
        phase === "populate"
          ? { insert: 10, update: 1, move: 0, status: 1, bulk: 0, rekey: 0, delete: 0 }
          : { insert: 3, update: 3, move: 3, status: 2, bulk: 0.5, rekey: 0.4, delete: 2 }
      )
      switch (kind) {
        case "insert": {
          const id = fresh("orders")
          await exec("orders.insert", "INSERT INTO orders VALUES ($1, $2, $3, $4, $5, $6)", [
            id, ref(m.users, "users", true), random.weighted(ORDER_STATUSES), money(1000), timestamp(),
            random.chance(0.3) ? `note ${random.pick(WORDS)}` : null
          ])
          m.orders.add(id)
          return
        }
        case "update":
          await exec("orders.update", "UPDATE orders SET total = $2, placed_at = $3, note = $4 WHERE id = $1", [
            target, money(1000), timestamp(), random.chance(0.3) ? `note ${random.pick(WORDS)}` : null
          ])
          return
        case "move":
          // Re-parenting, sometimes together with other columns.
          await exec("orders.move", random.chance(0.5)
            ? "UPDATE orders SET user_id = $2 WHERE id = $1"
            : "UPDATE orders SET user_id = $2, total = total + 1 WHERE id = $1", [target, ref(m.users, "users", true)])
          return
        case "status":
          await exec("orders.status", "UPDATE orders SET status = $2 WHERE id = $1", [target, random.weighted(ORDER_STATUSES)])
          return
        case "bulk":
          await exec("orders.bulk", "UPDATE orders SET status = $2 WHERE user_id = $1", [ref(m.users, "users", false), random.weighted(ORDER_STATUSES)])
          return
        case "rekey": {
          const id = fresh("orders")
          await exec("orders.rekey", "UPDATE orders SET id = $2 WHERE id = $1", [target, id])
          m.orders.delete(target as number)
          m.orders.add(id)
          return
        }
        case "delete":
          await exec("orders.delete", "DELETE FROM orders WHERE id = $1", [target])
          m.orders.delete(target as number)
      }
    },

    items: async (m, phase) => {
      const target = existing(m.items)
      const kind = target === undefined ? "insert" : random.weighted(
        phase === "populate"
          ? { insert: 10, update: 1, move: 0, product: 0, bulkDelete: 0, delete: 0 }
          : { insert: 4, update: 3, move: 3, product: 2, bulkDelete: 0.3, delete: 2 }
      )
      switch (kind) {
        case "insert": {
          const id = fresh("items")
          await exec("items.insert", "INSERT INTO items VALUES ($1, $2, $3, $4, $5)", [
            id, ref(m.orders, "orders", true), productRef(m), random.between(1, 4), random.chance(0.9) ? money(200) : null
          ])
          m.items.add(id)
          return
        }
        case "update":
          await exec("items.update", "UPDATE items SET qty = $2, price = $3 WHERE id = $1", [target, random.between(1, 4), money(200)])
          return
        case "move":
          await exec("items.move", "UPDATE items SET order_id = $2 WHERE id = $1", [target, ref(m.orders, "orders", true)])
          return
        case "product":
          await exec("items.product", "UPDATE items SET product_id = $2 WHERE id = $1", [target, productRef(m)])
          return
        case "bulkDelete": {
          const rows = await exec("items.bulkDelete", "DELETE FROM items WHERE order_id = $1 RETURNING id", [ref(m.orders, "orders", false)])
          for (const row of rows) m.items.delete(Number(row["id"]))
          return
        }
        case "delete":
          await exec("items.delete", "DELETE FROM items WHERE id = $1", [target])
          m.items.delete(target as number)
      }
    },

    tags: async (m, phase) => {
      const target = existing(m.tags)
      const kind = target === undefined ? "insert" : random.weighted(
        phase === "populate" ? { insert: 10, rename: 1, hide: 1, delete: 0 } : { insert: 2, rename: 3, hide: 2, delete: 1 }
      )
      switch (kind) {
        case "insert": {
          const id = fresh("tags")
          await exec("tags.insert", "INSERT INTO tags VALUES ($1, $2, $3)", [id, random.pick(TAG_NAMES), random.chance(0.2)])
          m.tags.add(id)
          return
        }
        case "rename":
          await exec("tags.rename", "UPDATE tags SET name = $2 WHERE id = $1", [target, random.pick(TAG_NAMES)])
          return
        case "hide":
          await exec("tags.hide", "UPDATE tags SET hidden = NOT hidden WHERE id = $1", [target])
          return
        case "delete":
          // Its junction rows stay behind, linking nothing.
          await exec("tags.delete", "DELETE FROM tags WHERE id = $1", [target])
          m.tags.delete(target as number)
      }
    },

    user_tags: async (m, phase) => {
      const target = existing(m.userTags)
      const kind = target === undefined ? "insert" : random.weighted(
        phase === "populate" ? { insert: 10, move: 0, delete: 0 } : { insert: 4, move: 2, delete: 3 }
      )
      const freshPair = () => {
        for (let attempt = 0; attempt < 20; attempt++) {
          const pair = `${ref(m.users, "users", false)}:${ref(m.tags, "tags", false)}`
          if (!m.userTags.has(pair)) return pair
        }
        return undefined
      }
      const split = (pair: string) => pair.split(":").map(Number) as [number, number]
      switch (kind) {
        case "insert": {
          const pair = freshPair()
          if (pair === undefined) return
          await exec("user_tags.insert", "INSERT INTO user_tags VALUES ($1, $2)", split(pair))
          m.userTags.add(pair)
          return
        }
        case "move": {
          // The junction row changes one side: re-parenting (user) or re-targeting (tag).
          const [user, tag] = split(target as string)
          const moveUser = random.chance(0.5)
          const other = moveUser ? ref(m.users, "users", false) : ref(m.tags, "tags", false)
          const pair = moveUser ? `${other}:${tag}` : `${user}:${other}`
          if (m.userTags.has(pair)) return
          await exec("user_tags.move", moveUser
            ? "UPDATE user_tags SET user_id = $3 WHERE user_id = $1 AND tag_id = $2"
            : "UPDATE user_tags SET tag_id = $3 WHERE user_id = $1 AND tag_id = $2", [user, tag, other])
          m.userTags.delete(target as string)
          m.userTags.add(pair)
          return
        }
        case "delete": {
          const [user, tag] = split(target as string)
          await exec("user_tags.delete", "DELETE FROM user_tags WHERE user_id = $1 AND tag_id = $2", [user, tag])
          m.userTags.delete(target as string)
        }
      }
    }
  }

  const TABLE_WEIGHTS: Readonly<Record<Table, number>> = {
    users: 16, profiles: 8, products: 6, orders: 22, items: 26, tags: 6, user_tags: 12
  }

  const operation = (m: Model, phase: Phase) => ops[random.weighted(TABLE_WEIGHTS)](m, phase)

  const run = async (count: number, phase: Phase) => {
    for (let i = 0; i < count; i++) {
      const shape = random.weighted({ single: 60, commit: 34, rollback: 6 })
      if (shape === "single") {
        await operation(model, phase)
      } else {
        // The transaction works on a copy of the model, kept only if it commits.
        const copy = cloneModel(model)
        await query("BEGIN")
        const statements = random.between(2, 5)
        for (let s = 0; s < statements; s++) await operation(copy, phase)
        if (shape === "commit") {
          await query("COMMIT")
          model = copy
          stats.transactions++
        } else {
          await query("ROLLBACK")
          stats.rolledBack++
        }
      }
      // Now and then let flusso take a batch in the middle of things.
      if (random.chance(0.03)) await new Promise((r) => setTimeout(r, random.int(40)))
    }
  }

  return { run, stats, log, mark: (note) => void log.push(`-- ${note}`), close: () => client.end() }
}

/** A statement with its parameters written in as literals: the log replays with psql. */
const inline = (text: string, params: ReadonlyArray<unknown>): string =>
  text.replace(/\$(\d+)/g, (_, n: string) => {
    const value = params[Number(n) - 1]
    if (value === null || value === undefined) return "NULL"
    if (typeof value === "number" || typeof value === "boolean") return String(value)
    return `'${String(value).replaceAll("'", "''")}'`
  })
