# warren:latest for scripts/test-compose: the Dockerfile's run stage (built with
# `--target runtime`, tagged warren-compose/runtime) and the warren binary built on this
# machine, with the Swift runtime libraries it links (no Swift toolchain image can be pulled to
# run the Dockerfile's build stage). The context is .warren/compose/context.
FROM warren-compose/runtime
USER root
COPY swift-lib/ /usr/local/lib/swift/
RUN echo /usr/local/lib/swift > /etc/ld.so.conf.d/swift.conf && ldconfig
COPY warren /usr/local/bin/warren
USER warren
