/**
 * The example deployment for the search tests: a fresh database loaded with
 * examples/seed.sql, the example's `users` and `products` indexes (flusso.config.ts) plus
 * a small `places` index holding the field kinds the example has not (short, float,
 * double, geo, map, json, binary, custom, constant, object, a root enum, min, ids of
 * keywords), indexed by the real engine under the deployment's own prefix. `config` is
 * the typed config object an application would search with.
 */
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { defineConfig, defineIndex, t } from "flusso"
import example, { products, users } from "../../flusso.config.js"
import { type Deployment, makeDeployment, type Running } from "./deployment.js"
import { settled } from "./differential/indexState.js"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

export const places = defineIndex({
  table: "places",
  primaryKey: "code",
  fields: {
    code: t.keyword({ required: true }),
    name: t.text({ required: true }),
    kind: t.enum({ required: true, variants: ["shop", "cafe", "museum", "park"] }),
    rank: t.short(),
    rating: t.float(),
    popularity: t.double({ default: 0 }),
    openedOn: t.date(),
    location: t.geo({ lat: "lat", lon: "lon" }),
    entrance: t.geo({ column: "entrance" }),
    attributes: t.map({ values: "keyword" }),
    extra: t.json(),
    photo: t.binary(),
    ip: t.custom({ postgres: ["inet"], opensearch: "ip" }),
    source: t.constant("seed"),
    address: t.object({ fields: { city: t.keyword({ column: "city" }), street: t.text({ column: "street" }) } }),
    visits: t.hasMany({
      table: "visits",
      foreignKey: "place_code",
      primaryKey: "id",
      orderBy: [{ column: "id" }],
      fields: { id: t.long({ required: true }), at: t.timestamp({ required: true }), stars: t.integer() }
    }),
    firstVisit: t.min({ table: "visits", foreignKey: "place_code", column: "at", valueType: "timestamp" }),
    visitIds: t.ids({ table: "visits", foreignKey: "place_code", elementType: "keyword" })
  }
})

const placesSql = `
create table places (
  code text primary key, name text not null, kind text not null, rank smallint, rating real,
  popularity double precision, opened_on date, lat double precision, lon double precision,
  entrance text, attributes jsonb, extra jsonb, photo bytea, ip inet, city text, street text
);
create table visits (id bigint primary key, place_code text not null references places (code), at timestamptz not null, stars int);
insert into places values
  ('P1', 'Old Bridge Cafe',     'cafe',   3,  4.5, 120.5, '2001-05-01', 45.4642, 9.1900, '45.4643,9.1901', '{"wifi": "yes", "dog": "no"}', '{"a": 1}', '\\x0102', '10.0.0.1', 'Milano', 'Via Roma 1'),
  ('P2', 'Museum of Science',   'museum', 1,  4.9, null,  '1953-02-15', 45.4628, 9.1700, '45.4629,9.1701', '{"wifi": "no"}',              null,       null,     '10.0.0.2', 'Milano', 'Via San Vittore 21'),
  ('P3', 'Corner Shop',         'shop',   7,  3.1, 15,    null,         48.8566, 2.3522, null,            null,                          '{"b": 2}', null,     null,       'Paris',  'Rue de Rivoli 5'),
  ('P4', 'Parc Monceau',        'park',   2,  null, 300,  '1778-01-01', 48.8797, 2.3091, '48.8790,2.3090', '{"dog": "yes"}',             null,       null,     '192.168.1.4', 'Paris', null),
  ('P5', 'Bridge Street Books', 'shop',   null, 4.0, 42,  '2015-09-30', null,    null,   null,            '{}',                          null,       null,     null,       null,     'Bridge Street 9');
insert into visits values
  (1, 'P1', '2024-03-01 10:00:00+00', 5), (2, 'P1', '2024-03-02 10:00:00+00', 2),
  (3, 'P2', '2024-01-10 09:00:00+00', 5), (4, 'P2', '2024-02-11 09:00:00+00', 4),
  (5, 'P3', '2023-12-24 18:00:00+00', null),
  (6, 'P4', '2024-05-05 12:00:00+00', 1);
`

/** The typed config of a deployment on the test services: the example's indexes plus `places`. */
const configFor = (d: Deployment) =>
  defineConfig({
    ...example,
    // Slot names are cluster-wide: one per test database.
    source: { type: "postgres", url: d.db.url, slot: d.db.name },
    sinks: { primary: { ...example.sinks.primary, url: d.opensearchUrl } },
    indexes: { users, products, places },
    prefix: d.prefix,
    batch: { maxChanges: 256, maxDelayMs: 20 }
  })

export type SearchConfig = ReturnType<typeof configFor>

export interface SearchDeployment {
  readonly d: Deployment
  readonly config: SearchConfig
  readonly running: Running
  readonly cleanup: () => Promise<void>
}

/**
 * Seeds, runs `before` (more rows, say), starts flusso and waits until every index is
 * seeded and every change acknowledged.
 */
export const startSearchDeployment = async (before?: string): Promise<SearchDeployment> => {
  const d = await makeDeployment()
  try {
    await d.sql(readFileSync(path.join(ROOT, "examples", "seed.sql"), "utf8"))
    await d.sql(placesSql)
    if (before !== undefined) await d.sql(before)
    const config = configFor(d)
    const running = await d.start(config)
    await settled(d, 3, 120_000, running)
    for (const index of ["users", "products", "places"]) await d.raw("POST", `/${d.prefix}${index}/_refresh`)
    return { d, config, running, cleanup: () => d.cleanup() }
  } catch (error) {
    await d.cleanup()
    throw error
  }
}
