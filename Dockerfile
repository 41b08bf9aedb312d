# One image for every Warren role: `docker run warren warren <role>`.
ARG SWIFT_IMAGE=swift:6.3-bookworm

# The run stage's base: a slim Debian with what the binary and the healthchecks need, and the
# page. First, so that `docker build --target runtime` needs no Swift toolchain image:
# scripts/test-compose builds this stage and adds a warren binary built on the host.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libcurl4 libxml2 tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app warren \
 && mkdir -p /data && chown warren /data
WORKDIR /app
COPY web ./web
USER warren
ENV WARREN_WEB_ROOT=/app/web
CMD ["warren", "up"]

# Build stage: the Swift toolchain compiles the release binary.
FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks
RUN swift build -c release --product warren --static-swift-stdlib \
 && cp "$(swift build -c release --show-bin-path)/warren" /warren

# The image: the run stage with the binary.
FROM runtime
COPY --from=build /warren /usr/local/bin/warren
