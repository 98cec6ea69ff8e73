#!/usr/bin/env node
// `psql URL [-c] SQL` and `psql URL < file.sql` where no psql is installed: the npm-shipped
// PostgreSQL (scripts/postgres-binaries.sh) has server binaries only, and `npm run example`
// must still load examples/seed.sql and let you change rows. Hand-written over the `pg`
// package flusso already depends on, because no client tool ships with it.
//
//   node scripts/sql.mjs postgres://postgres@127.0.0.1:15432/flusso_example -c "update users set full_name = 'Ada King' where id = 1"
//   node scripts/sql.mjs postgres://postgres@127.0.0.1:15432/flusso_example < examples/seed.sql
//
// The SQL is sent as one simple query: several statements run in order and the first error
// stops them (psql's ON_ERROR_STOP), with a non-zero exit. Each result prints its rows
// tab-separated as PostgreSQL writes the values, without a header (psql -tA), or, for a
// statement without rows, its command tag (UPDATE 1).
import pg from "pg"

const usage = 'usage: node scripts/sql.mjs <postgres URL> [-c] "<SQL>"   or   node scripts/sql.mjs <postgres URL> < file.sql'
const [url, ...rest] = process.argv.slice(2)
const args = rest[0] === "-c" ? rest.slice(1) : rest
if (url === undefined || !/^postgres(ql)?:\/\//.test(url) || args.length > 1) {
  console.error(usage)
  process.exit(2)
}

const readStdin = async () => {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString("utf8")
}

const sql = args[0] ?? (await readStdin())
// Every value as the text PostgreSQL sent, as psql shows it.
const client = new pg.Client({ connectionString: url, types: { getTypeParser: () => (value) => value } })
try {
  await client.connect()
  const results = await client.query({ text: sql, rowMode: "array" })
  for (const result of Array.isArray(results) ? results : [results]) {
    if (result.fields.length > 0) {
      for (const row of result.rows) console.log(row.map((value) => value ?? "").join("\t"))
    } else if (result.command) {
      console.log(result.rowCount === null ? result.command : `${result.command} ${result.rowCount}`)
    }
  }
} catch (e) {
  console.error(`sql: ${e instanceof Error ? e.message : String(e)}`)
  process.exitCode = 1
} finally {
  await client.end().catch(() => undefined)
}
