/**
 * `npm run example:search`: typed searches of the example deployment `npm run example`
 * keeps in sync — the README's curl searches, written against flusso.config.ts. Rename a
 * field there and this file stops compiling. docs/searching.md explains every part.
 */
import { SearchClient, searchIndex } from "flusso/search"
import config from "../flusso.config.js"

// Connects the way the config's sink does (PRIMARY_OPENSEARCH_URL overrides its URL).
const client = SearchClient.fromConfig(config)
const users = searchIndex(config, "users")
const products = searchIndex(config, "products")

try {
  // Users who bought the 27" monitor among their latest orders (nested inside nested).
  const buyers = await client.search(
    users
      .filter((u) => u.recentOrders.any((o) => o.items.any((i) => i.product.sku.match("mn3001"))))
      .sort((u) => u.totalSpent.desc())
      .select("fullName", "orderCount", "totalSpent")
  )
  console.log(`${buyers.total} users bought MN-3001 in one of their five latest orders:`)
  for (const { id, document } of buyers.hits) {
    console.log(`  #${id} ${document.fullName ?? "(no name)"}: ${document.orderCount} orders, ${document.totalSpent ?? 0} spent`)
  }

  // Found by its parts: "kb1001" finds KB-1001; and a full-text match, in one round trip.
  const [bySku, byName] = await client.msearch([
    products.filter((p) => p.sku.match("kb1001")).select("sku", "name", "price"),
    products.query((p) => p.name.match("usb cable")).select("sku", "name").size(3)
  ])
  for (const { document } of bySku.hits) console.log(`sku kb1001 → ${document.sku} ${document.name} (${document.price})`)
  console.log(`"usb cable" → ${byName.hits.map((h) => `${h.document.sku} (score ${h.score.toFixed(2)})`).join(", ")}`)

  // One whole document, typed as DocumentOf<typeof users>.
  const ada = await client.get(users, "1")
  console.log(`user 1: ${ada?.fullName ?? "(not found)"}, latest order ${ada?.recentOrders[0]?.number ?? "none"} (${ada?.recentOrders[0]?.status ?? "-"})`)
} finally {
  await client.close()
}
