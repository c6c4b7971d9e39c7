# Vigil's container image: `docker compose -f deploy/compose/compose.yaml up -d --build` builds it,
# or `docker build -t vigil .` from the repository root.
#
# Two stages on the same Node 22 LTS base (one glibc, so the native better-sqlite3 addon built in
# the first stage loads in the second): the build stage has the compilers and dev dependencies;
# the runtime stage gets only the compiled JavaScript and production node_modules, and runs as
# the image's unprivileged `node` user.

FROM node:22.22.2-slim AS build
# better-sqlite3 downloads a prebuilt addon when one matches, and otherwise compiles with node-gyp:
# python3, make and g++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# build/echarts.cjs (the part of ECharts the charts use, scripts/echarts-bundle.ts), then dist/.
# Charts read two of Pretendard's files (Hangul); the package's other 70 MB stay out of the image.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && find node_modules/pretendard -type f ! -name package.json ! -name LICENSE.txt ! -name Pretendard-Regular.otf ! -name Pretendard-Bold.otf -delete

FROM node:22.22.2-slim
ENV NODE_ENV=production \
    VIGIL_CONFIG=/etc/vigil/vigil.yaml
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/build ./build
# The SQLite database lives in /data (a volume). Owner `node`, group 65534 with write access and
# setgid: the image works as its own user and as uid/gid 65534, which the compose stack uses so
# Vigil can prune the snapshots Prometheus (uid 65534) writes into their shared volume.
RUN mkdir -p /data /etc/vigil \
 && chown node:65534 /data \
 && chmod 2775 /data
USER node
EXPOSE 8080
# No curl or wget in the slim image: node's own fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
