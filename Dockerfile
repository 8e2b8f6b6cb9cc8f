# Image for api1, api2 and worker (docker-compose.yml; ROLE picks the part). Runs the esbuild bundle
# dist/node.js; no TypeScript tooling at run time. linux/amd64 as the contest requires.

# 1. Build: all dependencies, then bundle adapters/runtimes/node/main.ts -> dist/node.js (npm packages stay external).
FROM --platform=linux/amd64 node:20-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# 2. Production dependencies only: the bundle imports them from node_modules at run time.
FROM --platform=linux/amd64 node:20-alpine AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. Run: bundle + production node_modules, as the image's unprivileged `node` user.
FROM --platform=linux/amd64 node:20-alpine
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
# Default port when PORT / SOCKET_PATH are not set (the compose file sets them).
EXPOSE 9999
CMD ["node", "dist/node.js"]
