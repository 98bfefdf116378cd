# The audit-trail command in an image, for docker-compose.yml.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
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
RUN npm ci --no-audit --no-fund && npm prune --omit=dev
RUN mkdir -p /var/lib/audit-trail && chown node:node /var/lib/audit-trail
USER node
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
