# The audit-trail command in an image, for docker-compose.yml: built in one
# stage, shipped in another that holds the compiled command and its production
# dependencies only (no TypeScript sources, tests, benchmarks or dev tools).
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY index.ts ./
COPY common common
COPY kafka kafka
COPY schemas schemas
COPY producer producer
COPY consumers consumers
COPY cli cli
COPY scripts scripts
COPY test test
COPY bench bench
RUN npm run build

FROM node:24.22.3-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY schemas/*.avsc schemas/
COPY --from=build /app/dist/index.js /app/dist/index.d.ts dist/
COPY --from=build /app/dist/common dist/common
COPY --from=build /app/dist/kafka dist/kafka
COPY --from=build /app/dist/schemas dist/schemas
COPY --from=build /app/dist/producer dist/producer
COPY --from=build /app/dist/consumers dist/consumers
COPY --from=build /app/dist/cli dist/cli
RUN mkdir -p /var/lib/audit-trail && chown node:node /var/lib/audit-trail
USER node
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
