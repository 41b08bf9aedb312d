#!/usr/bin/env python3
"""Render rabbitmq/definitions.json with passwords from the environment.

The tracked file carries salted SHA-256 hashes of the one-machine default passwords.
Where WARREN_SERVICE_PASSWORD or WARREN_ADMIN_PASSWORD is set,
the matching user's hash is recomputed (RabbitMQ's rabbit_password_hashing_sha256:
base64(salt ++ sha256(salt ++ password)) with a 4-byte random salt).

Usage: definitions.py SOURCE DESTINATION
"""
import base64
import hashlib
import json
import os
import sys

PASSWORD_VARIABLES = {
    "warren": "WARREN_SERVICE_PASSWORD",
    "warren-admin": "WARREN_ADMIN_PASSWORD",
}


def password_hash(password: str) -> str:
    salt = os.urandom(4)
    digest = hashlib.sha256(salt + password.encode("utf-8")).digest()
    return base64.b64encode(salt + digest).decode("ascii")


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as source:
        definitions = json.load(source)
    for user in definitions.get("users", []):
        variable = PASSWORD_VARIABLES.get(user["name"])
        password = os.environ.get(variable, "") if variable else ""
        if password:
            user["password_hash"] = password_hash(password)
            user["hashing_algorithm"] = "rabbit_password_hashing_sha256"
    with open(sys.argv[2], "w", encoding="utf-8") as destination:
        json.dump(definitions, destination, indent=2)
        destination.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
