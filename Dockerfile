# flusso as a container image.
#
#   docker build -t flusso .
#   docker run --rm -e DATABASE_URL=postgres://… -e PRIMARY_OPENSEARCH_URL=http://… \
#     -v "$PWD/flusso.config.ts:/app/flusso.config.ts:ro" flusso
#
# The image runs `node dist/main.js run --config flusso.config.ts` from /app. The config
# is TypeScript, loaded at run time (no compile step), and imports "flusso", which
# resolves to this package. Mount your own config over /app/flusso.config.ts, or pass
# another path: `docker run … flusso node dist/main.js run --config /config/flusso.config.ts`.

# ── build: compile TypeScript to dist/ ─────────────────────────────────────────────────
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ── runtime: production dependencies and dist/ only ────────────────────────────────────
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# The example deployment; replace it with a mount of your own.
COPY flusso.config.ts ./
USER node
# 9464: public HTTP surface (health, status, metrics); 9465: private (admin).
EXPOSE 9464 9465
# A young generation of 1 MB per semi-space: some 35 MB less resident (docs/operations.md "Memory").
CMD ["node", "--max-semi-space-size=1", "dist/main.js", "run", "--config", "flusso.config.ts"]
