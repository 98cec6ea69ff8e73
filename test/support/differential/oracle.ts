/**
 * The oracle: every document the indexes of `schema.ts` must hold, computed directly by
 * hand-written SQL — deliberately *not* flusso's document SQL generator — from the spec's
 * rules (schema.md):
 * - timestamptz `YYYY-MM-DDTHH:MM:SS.ffffffZ`, date `YYYY-MM-DD`, int8/numeric exact JSON
 *   numbers, uuid lowercase text;
 * - hasMany / manyToMany render `[]` when empty, ordered by `orderBy` then the related key
 *   (ascending); belongsTo / hasOne `null` when absent; hasOne picks the first by `orderBy`;
 * - count non-null; sum / min / max / avg `null` over no rows, avg a double; ids `[]` when
 *   none, in key order; a junction row whose far row is missing links nothing;
 * - root filters and soft delete decide which rows are documents at all.
 * Each query yields `(id, doc)`: the document id (the key's text) and the JSON text.
 */
import type { IndexName } from "./schema.js"

/** timestamptz in the canonical form. */
const ts = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
const day = (expr: string) => `to_char(${expr}, 'YYYY-MM-DD')`

/** `[]` instead of NULL for an aggregate over no rows. */
const list = (subquery: string) => `coalesce((${subquery}), '[]'::json)`

const product = (alias: string, fields: "full" | "sku") =>
  `(SELECT ${fields === "full"
    ? "json_build_object('id', p.id::text, 'sku', p.sku, 'name', p.name)"
    : "json_build_object('sku', p.sku)"}
      FROM products p WHERE p.id = ${alias}.product_id)`

const users = `
SELECT u.id::text AS id, json_build_object(
  'id', u.id,
  'email', u.email,
  'name', u.name,
  'status', u.status,
  'score', u.score,
  'createdAt', ${ts("u.created_at")},
  'profile', (SELECT json_build_object('id', pr.id, 'bio', pr.bio, 'birthday', ${day("pr.birthday")})
                FROM profiles pr WHERE pr.user_id = u.id AND pr.visible
               ORDER BY pr.id DESC LIMIT 1),
  'recentOrders', ${list(`
     SELECT json_agg(r.doc ORDER BY r.placed_at DESC, r.id)
       FROM (SELECT o.id, o.placed_at, json_build_object(
                      'id', o.id,
                      'status', o.status,
                      'total', o.total,
                      'placedAt', ${ts("o.placed_at")},
                      'itemCount', (SELECT count(*) FROM items i WHERE i.order_id = o.id),
                      'maxQty', (SELECT max(i.qty) FROM items i WHERE i.order_id = o.id),
                      'items', ${list(`
                         SELECT json_agg(json_build_object('id', i.id, 'qty', i.qty, 'price', i.price, 'product', ${product("i", "full")})
                                         ORDER BY i.id)
                           FROM items i WHERE i.order_id = o.id`)}
                    ) AS doc
               FROM orders o WHERE o.user_id = u.id
              ORDER BY o.placed_at DESC, o.id LIMIT 3) r`)},
  'tags', ${list(`
     SELECT json_agg(json_build_object('id', tg.id, 'name', tg.name) ORDER BY tg.name, tg.id)
       FROM user_tags ut JOIN tags tg ON tg.id = ut.tag_id
      WHERE ut.user_id = u.id AND tg.hidden = false`)},
  'orderCount', (SELECT count(*) FROM orders o WHERE o.user_id = u.id),
  'paidCount', (SELECT count(*) FROM orders o WHERE o.user_id = u.id AND o.status = 'paid'),
  'totalSpent', (SELECT sum(o.total) FROM orders o WHERE o.user_id = u.id),
  'avgTotal', (SELECT avg(o.total)::float8 FROM orders o WHERE o.user_id = u.id),
  'firstOrderAt', (SELECT ${ts("min(o.placed_at)")} FROM orders o WHERE o.user_id = u.id),
  'orderIds', ${list("SELECT json_agg(o.id ORDER BY o.id) FROM orders o WHERE o.user_id = u.id")},
  'tagIds', ${list("SELECT json_agg(tg.id ORDER BY tg.id) FROM user_tags ut JOIN tags tg ON tg.id = ut.tag_id WHERE ut.user_id = u.id")},
  'visibleTagCount', (SELECT count(*) FROM user_tags ut JOIN tags tg ON tg.id = ut.tag_id WHERE ut.user_id = u.id AND tg.hidden = false)
)::text AS doc
FROM users u
WHERE u.status IN ('active', 'invited') AND u.deleted_at IS NULL
ORDER BY u.id`

const orders = `
SELECT o.id::text AS id, json_build_object(
  'id', o.id,
  'status', o.status,
  'total', o.total,
  'placedAt', ${ts("o.placed_at")},
  'note', o.note,
  'user', (SELECT json_build_object('id', u.id, 'email', u.email, 'name', u.name)
             FROM users u WHERE u.id = o.user_id AND u.deleted_at IS NULL),
  'items', ${list(`
     SELECT json_agg(json_build_object('id', i.id, 'qty', i.qty, 'product', ${product("i", "sku")}) ORDER BY i.qty DESC, i.id)
       FROM items i WHERE i.order_id = o.id`)},
  'qtySum', (SELECT sum(i.qty) FROM items i WHERE i.order_id = o.id),
  'itemIds', ${list("SELECT json_agg(i.id ORDER BY i.id) FROM items i WHERE i.order_id = o.id")}
)::text AS doc
FROM orders o
WHERE o.status <> 'cancelled'
ORDER BY o.id`

const products = `
SELECT p.id::text AS id, json_build_object(
  'id', p.id::text,
  'sku', p.sku,
  'name', p.name,
  'price', p.price,
  'unitsSold', (SELECT sum(i.qty) FROM items i WHERE i.product_id = p.id),
  'itemCount', (SELECT count(*) FROM items i WHERE i.product_id = p.id)
)::text AS doc
FROM products p
ORDER BY p.id`

export const ORACLE: Readonly<Record<IndexName, string>> = { users, orders, products }

/** The expected documents of `index`, by document id. */
export const expectedDocuments = async (
  sql: (text: string) => Promise<ReadonlyArray<Record<string, unknown>>>,
  index: IndexName
): Promise<Map<string, unknown>> => {
  const rows = await sql(ORACLE[index])
  return new Map(rows.map((row) => [String(row["id"]), JSON.parse(String(row["doc"])) as unknown]))
}
