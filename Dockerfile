# syntax=docker/dockerfile:1
# Build: docker build -t smartcam-bridge .
# Run:   docker run -d --name smartcam-bridge --network host \
#          -v ./config.yaml:/etc/smartcam-bridge/config.yaml:ro -v smartcam-state:/var/lib/smartcam-bridge \
#          smartcam-bridge
# Host networking is what camera discovery needs: announces are UDP broadcasts on the cameras' subnet.

# The current Node.js LTS on Debian stable, slim variant.
ARG NODE_IMAGE=node:24-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# python3, make and g++ build the unix-dgram addon (systemd notifications).
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SMARTCAM_DAEMON_STATE_DIRECTORY=/var/lib/smartcam-bridge \
    SMARTCAM_HTTP_HOST=0.0.0.0
WORKDIR /opt/smartcam-bridge
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY config/example.yaml /etc/smartcam-bridge/config.yaml
RUN mkdir -p /var/lib/smartcam-bridge && chown node:node /var/lib/smartcam-bridge
USER node
VOLUME ["/etc/smartcam-bridge", "/var/lib/smartcam-bridge"]
# 9180/tcp: /healthz and /metrics.
EXPOSE 9180/tcp 4840/tcp
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9180/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/opt/smartcam-bridge/dist/cli.js"]
CMD ["run", "--config", "/etc/smartcam-bridge/config.yaml"]
