# syntax=docker/dockerfile:1
# tweet-ingest image: built with all dependencies, run with production dependencies only,
# as the unprivileged `node` user (uid 1000, the chart's podSecurityContext).

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile TypeScript into dist/, bundle the command line (scripts/bundle.mjs) --
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# .npmrc carries legacy-peer-deps: npm ci fails on the NestJS peer ranges without it.
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig*.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts/bundle.mjs ./scripts/
RUN npm run build

# --- production dependencies only ---------------------------------------------------------
FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# --- runtime ------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the process: the container runs with a read-only root
# filesystem and writes temporary files under /tmp only.
COPY package.json ./
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The status page's hand-written files are served from their source folder (no build step).
COPY --from=build /app/src/status-page/assets ./src/status-page/assets
USER node
EXPOSE 3000
# Node runs as PID 1 without an init: the service handles SIGTERM itself (drain, release
# leases, exit 0), and its worker processes are its own children, reaped by Node.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/health/live`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js", "serve"]
