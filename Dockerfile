# vroegsein: one image, two roles. `api` serves HTTP; `worker` evaluates, imports and runs the
# periodic maintenance. Configuration comes from the environment (see the README's table and
# docker-compose.yml). Build: docker build -t vroegsein .
FROM node:20-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so the layer is reused while only the code changes. tsx is a runtime
# dependency: the TypeScript sources run as they are, without a build step.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY workers ./workers
COPY rules ./rules

# Not root: nothing here needs it (the embedded PostgreSQL is not used in this deployment;
# DATABASE_URL points at the postgres service). tsx keeps its cache in /tmp.
USER node

ENV HOST=0.0.0.0 \
    PORT=8080
EXPOSE 8080

# node runs the CLI directly (no npm or shell in between), so SIGTERM from `docker stop`
# reaches vroegsein, which finishes the requests and jobs in flight before it exits. A larger
# young generation than Node's default: intake and evaluation make many short-lived objects
# (see "Node.js memory" in the README).
ENTRYPOINT ["node", "--max-semi-space-size=64", "bin/vroegsein.js"]
CMD ["api"]
