# Slimy container image: a build stage that uses the project's own scripts/setup.sh, and a slim
# runtime stage with only the shared libraries build/slimy links (tests/deploy/check.sh compares
# this list with `ldd build/slimy`).
#
#   docker build -t slimy .
#   docker run --rm -p 8080:8080 --env-file .env -v slimy-data:/app/data slimy
#
# The git commit is not in the build context (.dockerignore drops .git), so `slimy version`
# reports commit "unknown" in the image.

# ---- build ----
FROM debian:bookworm AS build
WORKDIR /src
# .git is not copied in (.dockerignore): the commit comes as a build argument
# (docker build --build-arg SLIMY_GIT_COMMIT=$(git rev-parse --short=12 HEAD) .).
ARG SLIMY_GIT_COMMIT=unknown
COPY . .
# setup.sh apt-installs the compilers and -dev packages (we are root here) and builds into build/;
# the unit tests are not built (SLIMY_TESTS=OFF), so cmocka is installed but unused.
RUN BUILD_TYPE=Release BUILD_DIR=build CMAKE_ARGS="-DSLIMY_TESTS=OFF -DSLIMY_GIT_COMMIT=${SLIMY_GIT_COMMIT}" ./scripts/setup.sh \
    && strip build/slimy \
    && build/slimy version

# ---- runtime ----
FROM debian:bookworm-slim
# The non-dev packages of the libraries build/slimy links, CA certificates for HTTPS to Discord and
# OpenAI, and curl for the HEALTHCHECK (slimy has no health subcommand).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libmicrohttpd12 libsodium23 libcurl4 libcjson1 libsqlite3-0 libmariadb3 libhiredis0.14 \
        ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system slimy \
    && useradd --system --gid slimy --home-dir /app --no-create-home --shell /usr/sbin/nologin slimy \
    && mkdir -p /app/data /app/logs \
    && chown slimy:slimy /app/data /app/logs

WORKDIR /app
# Migrations are compiled into the binary (src/store/migrations.h); only the persona is a file.
COPY --from=build /src/build/slimy /app/slimy
COPY --from=build /src/bot-personality.md /app/bot-personality.md

ENV BIND=0.0.0.0 \
    PORT=8080 \
    SQLITE_PATH=/app/data/slimy.db \
    DATA_DIR=/app/data \
    LOG_DIR=/app/logs \
    PERSONALITY_FILE=/app/bot-personality.md

USER slimy
VOLUME ["/app/data", "/app/logs"]
EXPOSE 8080

HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT:-8080}/health" || exit 1

ENTRYPOINT ["/app/slimy"]
CMD ["serve"]
