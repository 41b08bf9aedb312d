#!/usr/bin/env python3
"""Check compose.yaml without a Docker engine.

1. It validates against the Compose file schema (../shared/spec/compose-spec.json, or the
   file named by WARREN_COMPOSE_SCHEMA).
2. Every role of the design has a service started by its `warren` subcommand, from the one
   image, depending on a healthy broker.
3. The broker service mounts the project's rabbitmq/ files and has a healthcheck.

Prints one line per check and a closing "N passed, N failed" line; exits 1 on any failure.
"""
import json
import os
import sys

import jsonschema
import yaml

ROLES = ["login", "reverser", "pow-worker", "cron", "history", "web"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> int:
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")

    with open(os.path.join(ROOT, "compose.yaml"), encoding="utf-8") as handle:
        compose = yaml.safe_load(handle)

    schema_path = os.environ.get(
        "WARREN_COMPOSE_SCHEMA", os.path.join(ROOT, "..", "shared", "spec", "compose-spec.json")
    )
    if os.path.exists(schema_path):
        with open(schema_path, encoding="utf-8") as handle:
            schema = json.load(handle)
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose), key=str)
        detail = "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
        check("compose.yaml matches the Compose schema", not errors, detail)
    elif os.environ.get("CI"):
        check("the Compose schema is present", False, f"{schema_path} not found")
    else:
        print(f"skip the schema check: {schema_path} not found (set WARREN_COMPOSE_SCHEMA)")

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

    passed = sum(results)
    print(f"compose: {passed} passed, {len(results) - passed} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
