# One image for every Warren role: `docker run warren warren <role>`.
# Build stage: the Swift toolchain compiles the release binary.
ARG SWIFT_IMAGE=swift:6.3-bookworm
FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product warren --static-swift-stdlib \
 && cp "$(swift build -c release --show-bin-path)/warren" /warren

# Run stage: a slim Debian with the binary, the page and nothing else.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libcurl4 libxml2 tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app warren \
 && mkdir -p /data && chown warren /data
WORKDIR /app
COPY --from=build /warren /usr/local/bin/warren
COPY web ./web
USER warren
ENV WARREN_WEB_ROOT=/app/web
CMD ["warren", "up"]
