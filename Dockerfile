# syntax=docker/dockerfile:1
# Build stage: install everything, compile TypeScript.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY pipelines ./pipelines
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

# Runtime stage: only the compiled code and production dependencies, as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
RUN mkdir -p /var/lib/cyclewatch && chown node:node /var/lib/cyclewatch
USER node
EXPOSE 9464
ENTRYPOINT ["node", "bin/cyclewatch.js"]
CMD ["run"]
