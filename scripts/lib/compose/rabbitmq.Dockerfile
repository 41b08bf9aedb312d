# The broker of compose.yaml, for scripts/test-compose: no registry is reachable there, so
# instead of the official rabbitmq image, Debian's rabbitmq-server on the locally made
# debian:bookworm-slim. compose.yaml mounts the project's rabbitmq/ files (docker.conf as
# rabbitmq.conf, definitions.json, enabled_plugins, rabbitmq-env.conf) and the data volume, as
# it does on the official image; this image only has to run the server in the foreground.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/*
# As the rabbitmq user, and the server's own start script as the main process: it stops the
# node on SIGTERM (`docker stop`). Debian's /usr/sbin/rabbitmq-server wrapper would run it
# through su, and as PID 1 that shell ignores SIGTERM, so Docker kills the node after the grace
# period. The healthcheck's rabbitmq-diagnostics then runs as rabbitmq too, with its cookie.
USER rabbitmq
WORKDIR /var/lib/rabbitmq
ENV HOME=/var/lib/rabbitmq
EXPOSE 5672 15672 15674 61613
CMD ["/usr/lib/rabbitmq/bin/rabbitmq-server"]
