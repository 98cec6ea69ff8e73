/**
 * A database as TypeScript applications create it: the schema below is exactly what
 * `prisma migrate dev` writes for a User–Post–Tag model (quoted mixed-case tables and
 * columns, a `"Role"` enum type, the implicit `"_PostToTag"` many-to-many table with its
 * `"A"`/`"B"` columns). flusso reads it with the names spelt as the database spells them,
 * `columnNames: "field"` sparing a `column:` per field; `check` finds what is wrong by the
 * same names. Every document is compared with one computed in SQL after seeding, live
 * changes on every table, and a restart.
 */
import { Effect, Either } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { t } from "flusso"
import { runCheck } from "../../src/check/runCheck.js"
import { validateConfig } from "../../src/config/validate.js"
import { type Deployment, makeDeployment, type Running } from "../support/deployment.js"
import { compareIndex, report } from "../support/differential/compare.js"
import { caughtUp, documents, settled } from "../support/differential/indexState.js"

let d: Deployment
beforeEach(async () => {
  d = await makeDeployment()
})
afterEach(async () => {
  await d.cleanup()
})

/** `prisma/migrations/…_init/migration.sql`, as Prisma 6 writes it for the model in the file comment. */
const PRISMA_MIGRATION = `
-- CreateEnum
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');

-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "role" "Role" NOT NULL DEFAULT 'USER',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "content" TEXT,
    "published" BOOLEAN NOT NULL DEFAULT false,
    "authorId" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "_PostToTag" (
    "A" INTEGER NOT NULL,
    "B" INTEGER NOT NULL,

    CONSTRAINT "_PostToTag_AB_pkey" PRIMARY KEY ("A","B")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE UNIQUE INDEX "Tag_name_key" ON "Tag"("name");

-- CreateIndex
CREATE INDEX "_PostToTag_B_index" ON "_PostToTag"("B");

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_PostToTag" ADD CONSTRAINT "_PostToTag_A_fkey" FOREIGN KEY ("A") REFERENCES "Post"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_PostToTag" ADD CONSTRAINT "_PostToTag_B_fkey" FOREIGN KEY ("B") REFERENCES "Tag"("id") ON DELETE CASCADE ON UPDATE CASCADE;
`

const SEED = `
  INSERT INTO "User" ("email", "name", "role", "updatedAt") VALUES
    ('ada@example.com', 'Ada', 'ADMIN', now()), ('grace@example.com', 'Grace', 'USER', now()), ('linus@example.com', NULL, 'USER', now());
  INSERT INTO "Tag" ("name") VALUES ('db'), ('search'), ('typescript');
  INSERT INTO "Post" ("title", "content", "published", "authorId") VALUES
    ('Logical replication', 'slots and publications', true, 1), ('Draft', NULL, false, 1), ('Indexes', 'generations', true, 2);
  INSERT INTO "_PostToTag" ("A", "B") VALUES (1, 1), (1, 2), (3, 2), (3, 3);
`

const INDEXES = {
  users: {
    table: "User",
    primaryKey: "id",
    columnNames: "field",
    fields: {
      email: t.keyword({ required: true }),
      name: t.text(),
      role: t.enum({ variants: ["USER", "ADMIN"], required: true }),
      createdAt: t.timestamp({ required: true }),
      posts: t.hasMany({
        table: "Post",
        primaryKey: "id",
        foreignKey: "authorId",
        orderBy: [{ column: "id" }],
        fields: {
          title: t.text({ required: true }),
          published: t.boolean({ required: true }),
          tags: t.manyToMany({
            table: "Tag",
            primaryKey: "id",
            through: { table: "_PostToTag", leftKey: "A", rightKey: "B" },
            orderBy: [{ column: "name" }],
            fields: { name: t.keyword({ required: true }) }
          })
        }
      }),
      postCount: t.count({ table: "Post", foreignKey: "authorId" }),
      publishedCount: t.count({ table: "Post", foreignKey: "authorId", filters: [{ column: "published", op: "eq", value: true }] })
    }
  },
  posts: {
    table: "Post",
    primaryKey: "id",
    columnNames: "field",
    softDelete: { column: "published", when: [{ column: "published", op: "eq", value: false }] },
    fields: {
      title: t.text({ required: true }),
      content: t.text(),
      author: t.belongsTo({ table: "User", primaryKey: "id", column: "authorId", required: true, fields: { email: t.keyword(), role: t.enum({ variants: ["USER", "ADMIN"] }) } }),
      tagIds: t.ids({ table: "Tag", through: { table: "_PostToTag", leftKey: "A", rightKey: "B" }, elementType: "long" })
    }
  }
}

/** Both indexes as SQL computes them (timestamps in flusso's canonical text). */
const expected = async (): Promise<Record<"users" | "posts", Map<string, unknown>>> => {
  const users = await d.sql(`
    SELECT u."id"::text AS id, json_build_object(
             'email', u."email", 'name', u."name", 'role', u."role",
             'createdAt', to_char(u."createdAt", 'YYYY-MM-DD"T"HH24:MI:SS.US'),
             'posts', coalesce((SELECT json_agg(json_build_object('title', p."title", 'published', p."published",
                                  'tags', coalesce((SELECT json_agg(json_build_object('name', g."name") ORDER BY g."name")
                                                      FROM "_PostToTag" pt JOIN "Tag" g ON g."id" = pt."B" WHERE pt."A" = p."id"), '[]'))
                                ORDER BY p."id") FROM "Post" p WHERE p."authorId" = u."id"), '[]'),
             'postCount', (SELECT count(*) FROM "Post" p WHERE p."authorId" = u."id"),
             'publishedCount', (SELECT count(*) FROM "Post" p WHERE p."authorId" = u."id" AND p."published")) AS doc
      FROM "User" u`)
  const posts = await d.sql(`
    SELECT p."id"::text AS id, json_build_object(
             'title', p."title", 'content', p."content",
             'author', (SELECT json_build_object('email', u."email", 'role', u."role") FROM "User" u WHERE u."id" = p."authorId"),
             'tagIds', coalesce((SELECT json_agg(pt."B" ORDER BY pt."B") FROM "_PostToTag" pt WHERE pt."A" = p."id"), '[]')) AS doc
      FROM "Post" p WHERE p."published"`)
  const byId = (rows: ReadonlyArray<Record<string, unknown>>) => new Map(rows.map((r) => [String(r["id"]), r["doc"]]))
  return { users: byId(users), posts: byId(posts) }
}

const expectExact = async () => {
  const want = await expected()
  const comparisons = [
    compareIndex("users", want.users, await documents(d, "users")),
    compareIndex("posts", want.posts, await documents(d, "posts"))
  ]
  expect(comparisons.flatMap((c) => c.mismatches), report(comparisons)).toEqual([])
}

describe("a schema as Prisma's default migration writes it", () => {
  it("seeds, follows every table live, and restarts, with the names spelt as the database spells them", async () => {
    await d.sql(PRISMA_MIGRATION)
    await d.sql(SEED)
    let running: Running = await d.start(d.config(INDEXES))
    await settled(d, 2, 60_000, running)
    await expectExact()

    await d.sql(`INSERT INTO "User" ("email", "role", "updatedAt") VALUES ('new@example.com', 'USER', now())`)
    await d.sql(`INSERT INTO "Post" ("title", "published", "authorId") VALUES ('Quoted names', true, 4)`)
    await d.sql(`INSERT INTO "_PostToTag" ("A", "B") VALUES (4, 3), (2, 1)`)
    await d.sql(`UPDATE "User" SET "email" = 'ada@lovelace.org', "role" = 'USER' WHERE "id" = 1`)
    await d.sql(`UPDATE "Post" SET "published" = true WHERE "id" = 2`)
    await d.sql(`UPDATE "Post" SET "authorId" = 3 WHERE "id" = 3`)
    await d.sql(`UPDATE "Tag" SET "name" = 'postgres' WHERE "id" = 1`)
    await d.sql(`DELETE FROM "_PostToTag" WHERE "A" = 1 AND "B" = 2`)
    await d.sql(`DELETE FROM "Tag" WHERE "id" = 3`) // cascades to "_PostToTag"
    await caughtUp(d, 60_000, running)
    await expectExact()

    await running.stop()
    await d.sql(`DELETE FROM "Post" WHERE "id" = 1`)
    await d.sql(`UPDATE "Post" SET "published" = false WHERE "id" = 4`)
    running = await d.start(d.config(INDEXES))
    await caughtUp(d, 60_000, running)
    await expectExact()
  })

  it("check finds a misspelt column by the database's spelling and accepts the rest", async () => {
    await d.sql(PRISMA_MIGRATION)
    const check = async (indexes: Record<string, unknown>) => {
      const validated = validateConfig(d.config(indexes))
      if (Either.isLeft(validated)) throw new Error(validated.left.join("\n"))
      return Effect.runPromise(runCheck(validated.right, { offline: false, env: {} }))
    }
    const fine = await check(INDEXES)
    expect(fine.findings.filter((f) => f.severity === "error")).toEqual([])

    const wrong = await check({ users: { table: "User", primaryKey: "id", fields: { createdAt: t.timestamp() } } })
    expect(wrong.findings.filter((f) => f.severity === "error")).toEqual([
      expect.objectContaining({
        path: "indexes.users.fields.createdAt",
        message: expect.stringContaining("column public.User.created_at does not exist; did you mean createdAt?"),
        fix: expect.stringContaining('set column: "createdAt"')
      })
    ])
  })
})
