#!/usr/bin/env python3
"""Check compose.yaml without a Docker engine.

1. It validates against the Compose file schema: the one check-jsonschema ships
   (`check-jsonschema --builtin-schema vendor.compose-spec`, the version pinned in
   scripts/lib/requirements.txt, which scripts/test installs), or the schema file or URL named
   by WARREN_COMPOSE_SCHEMA when that is set.
2. Every role of the design has a service started by its `warren` subcommand, from the one
   image, depending on a healthy broker.
3. The broker service mounts the project's rabbitmq/ files and has a healthcheck.
4. Every role has a healthcheck and gets every setting of `x-warren-environment` (a role's own
   `environment:` replaces the anchor's unless it merges it); the file has no top-level `name`,
   and no nested default (`${a:-${b}}`), which Debian's docker-compose 1.29 refuses.
5. The cluster: rabbitmq/compose-cluster.env turns on the `cluster` profile and names its two
   nodes, which are services of that profile with those host names, in
   rabbitmq/docker-cluster.conf's peer list; the roles' WARREN_AMQP_URL lists `rabbitmq` and
   those two (each `rabbitmq` without the env file); scripts/test-compose's
   scripts/lib/compose/local-images.yaml gives every broker node its local image.

scripts/test-compose runs the file for real when a container engine can be started.

Prints one line per check and a closing "N passed, N failed" line; exits 1 on any failure.
"""
import os
import re
import subprocess
import sys

import yaml

ROLES = ["login", "reverser", "pow-worker", "cron", "history", "web"]
CLUSTER_ENV = "rabbitmq/compose-cluster.env"
LOCAL_IMAGES = "scripts/lib/compose/local-images.yaml"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def schema_check():
    """Runs check-jsonschema on compose.yaml; returns (ok, detail)."""
    override = os.environ.get("WARREN_COMPOSE_SCHEMA")
    schema = ["--schemafile", override] if override else ["--builtin-schema", "vendor.compose-spec"]
    command = [sys.executable, "-m", "check_jsonschema", *schema, "--color", "never", "compose.yaml"]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False, "check-jsonschema took over 120 s"
    if done.returncode == 0:
        return True, ""
    output = (done.stdout + done.stderr).strip()
    if "No module named check_jsonschema" in output:
        return False, "check-jsonschema is missing: python3 -m pip install -r scripts/lib/requirements.txt"
    return False, " / ".join(output.splitlines()[:12])


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


def check_cluster(check, compose, common):
    """Part 5 of the docstring: the cluster profile as rabbitmq/compose-cluster.env runs it."""
    settings = dict(line.split("=", 1) for line in read(CLUSTER_ENV).splitlines() if "=" in line and not line.startswith("#"))
    check(f"{CLUSTER_ENV} turns on the cluster profile", settings.get("COMPOSE_PROFILES") == "cluster")
    services = compose.get("services", {})
    peers = read("rabbitmq/docker-cluster.conf")
    amqp = common.get("WARREN_AMQP_URL", "")
    check("the roles' WARREN_AMQP_URL lists rabbitmq first", amqp.split(",")[0].endswith("@rabbitmq:5672/warren"), amqp)
    for n in (2, 3):
        variable = f"WARREN_COMPOSE_NODE_{n}"
        node = settings.get(variable, "")
        service = services.get(node, {})
        check(f"{CLUSTER_ENV} names node {n}, a cluster-profile service with that host name",
              service.get("profiles") == ["cluster"] and service.get("hostname") == node, node)
        check(f"node {n} is in rabbitmq/docker-cluster.conf's peers", f"= rabbit@{node}\n" in peers, node)
        check(f"the roles' WARREN_AMQP_URL lists node {n}, rabbitmq by default", f"@${{{variable}:-rabbitmq}}:5672/" in amqp, amqp)
    overrides = yaml.safe_load(read(LOCAL_IMAGES)).get("services", {})
    for name, service in services.items():
        if service.get("image", "").startswith("rabbitmq:"):
            local = overrides.get(name, {})
            check(f"{LOCAL_IMAGES} gives {name} the local broker image",
                  local.get("pull_policy") == "never" and local.get("image", "").startswith("warren-compose/"))


def main() -> int:
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")

    text = read("compose.yaml")
    compose = yaml.safe_load(text)

    check("compose.yaml matches the Compose schema", *schema_check())
    check("no top-level name (docker-compose 1.x refuses it)", "name" not in compose)
    check("no nested ${a:-${b}} default (docker-compose 1.x refuses it)", not re.search(r"\$\{[^}]*\$\{", text))
    common = compose.get("x-warren-environment") or {}
    check("x-warren-environment holds the roles' common settings", "WARREN_AMQP_URL" in common)

    services = compose.get("services", {})
    broker = services.get("rabbitmq", {})
    check("the broker has a healthcheck", "healthcheck" in broker)
    mounts = " ".join(broker.get("volumes", []))
    for name in ("docker.conf", "definitions.json", "enabled_plugins", "rabbitmq-env.conf"):
        path = os.path.join(ROOT, "rabbitmq", name)
        check(f"the broker mounts rabbitmq/{name}", f"./rabbitmq/{name}:" in mounts and os.path.exists(path))

    for role in ROLES:
        service = services.get(role)
        if service is None:
            check(f"role {role} has a service", False, "missing")
            continue
        check(f"role {role} runs `warren {role}`", service.get("command") == ["warren", role], str(service.get("command")))
        check(f"role {role} uses the warren image", service.get("image") == "warren:latest")
        depends = service.get("depends_on", {})
        healthy = isinstance(depends, dict) and depends.get("rabbitmq", {}).get("condition") == "service_healthy"
        check(f"role {role} waits for a healthy broker", healthy)
        amqp = (service.get("environment") or {}).get("WARREN_AMQP_URL", "")
        check(f"role {role} is told where the broker is", "@rabbitmq:5672/" in amqp, amqp)
        lacking = sorted(set(common) - set(service.get("environment") or {}))
        check(f"role {role} gets every common setting", not lacking, "lacks " + ", ".join(lacking))
        check(f"role {role} has a healthcheck", "test" in (service.get("healthcheck") or {}))

    check_cluster(check, compose, common)

    passed = sum(results)
    print(f"compose: {passed} passed, {len(results) - passed} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
