# syntax=docker/dockerfile:1
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY profiles ./profiles
COPY examples ./examples
USER node
# Healthy when Redis answers (what a worker needs). Slim images have no curl, so the api and
# simulator services in docker-compose.yml check their HTTP health routes with `node -e fetch(…)`.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "bin/bedrock-jobs.js", "status", "--json"]
ENTRYPOINT ["node", "bin/bedrock-jobs.js"]
CMD ["worker"]
