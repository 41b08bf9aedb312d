"""compose.yaml as a cluster (rabbitmq/compose-cluster.env), as scripts/test-compose checks it.

1. Every container of the project becomes healthy, the three broker nodes among them; they run as
   one cluster, and the shared queues (every durable queue but general's stream) are quorum queues.
2. Two people register and sign in on the first node's Web-STOMP (compose_chat.Tab), and a post
   reaches both tabs with the reverser's reply.
3. The `rabbitmq` node's container is stopped at once (`docker stop -t 0`: SIGKILL, and Docker
   leaves it stopped). The tabs lose their sockets, connect to the next node of /config.json's
   stompURLs, as the page does, and log in again with their sessions (resume); the roles that
   were on that node reconnect to one of the other two. A post made then reaches both tabs once
   with its reply, and every role is healthy again.

Exits 1 with what went wrong; every wait has a bound.
"""

import asyncio
import json
import secrets
import sys
import time

from compose_chat import CONTAINERS, Failure, Tab, delivered_once, run, say, wait_for
from stomp_ws import StompClient
from warren_http import get_json, register

NODES = ["rabbitmq", "rabbitmq-2", "rabbitmq-3"]
EXPECTED = {**CONTAINERS, "rabbitmq-2": 1, "rabbitmq-3": 1}


class FailoverTab(Tab):
    """A tab that, once its socket is gone, signs in again on the next node, as the page does."""

    def __init__(self, name, token, config, timeout):
        super().__init__(name, token, config, timeout)
        self.urls = config["stompURLs"]
        self.node = 0  # the index in self.urls of the node the tab is on (stompURL is the first)

    async def sign_in_again(self, deadline):
        """Connects to the nodes after the lost one in turn until one takes the tab, then logs
        in again (resume) until the login service answers; returns the node's URL and what the
        failed tries said."""
        failures = []
        while time.monotonic() < deadline:
            if self.client.failure is not None or self.client.ws is None:
                self.node = (self.node + 1) % len(self.urls)
                await self.client.close()
                self.client = StompClient(self.urls[self.node], timeout=self.timeout)
                try:
                    await self.connect()
                except Exception as error:  # noqa: BLE001: each node's failure is kept for the report
                    failures.append(f"{self.urls[self.node]}: {error}")
                    await asyncio.sleep(1)
                    continue
            try:  # as the page does: the login again, as a resume, on the node it is connected to
                await self.log_in(resume=True)
                return self.urls[self.node], failures
            except Exception as error:  # noqa: BLE001: kept for the report, then tried again
                failures.append(f"{self.urls[self.node]}: {error}")
                await asyncio.sleep(1)
        raise Failure(f"{self.name} did not get back in: {'; '.join(failures[-3:])}")


def running_container(project, service):
    """The id of the service's running container."""
    for cid, (name, status, _, _, _) in project.containers().items():
        if name == service and status == "running":
            return cid
    raise Failure(f"no running {service} container")


def broker(project, node, *args):
    """rabbitmqctl on the broker node's container; its output."""
    return project._run("exec", running_container(project, node), "rabbitmqctl", "-q", *args)


def check_cluster(project, prefix, timeout):
    """The three nodes run as one cluster and every durable queue but the stream is a quorum queue."""
    status = broker(project, "rabbitmq", "cluster_status", "--formatter", "json")
    running = sorted(json.loads(status).get("running_nodes", []))
    if running != sorted(f"rabbit@{node}" for node in NODES):
        raise Failure(f"the cluster's running nodes are {running}")
    started = time.monotonic()
    while True:
        lines = broker(project, "rabbitmq", "--silent", "list_queues", "-p", "warren", "name", "type", "durable")
        queues = [line.split("\t") for line in lines.splitlines() if line.count("\t") == 2]
        names = {name for name, _, _ in queues}
        if {f"{prefix}.inbox", f"{prefix}.history"} <= names or time.monotonic() - started > timeout:
            break
        time.sleep(1)
    shared = {name: kind for name, kind, durable in queues if durable == "true" and kind != "stream"}
    classic = sorted(name for name, kind in shared.items() if kind != "quorum")
    if classic or f"{prefix}.inbox" not in shared or f"{prefix}.history" not in shared:
        raise Failure(f"the shared queues are not all quorum queues: {sorted(shared.items())}")
    say(f"one cluster of {len(running)} nodes; the {len(shared)} shared queues are quorum queues")


def on_first_node(project):
    """The queues `rabbitmq` hosts (for a quorum queue or a stream: leads), by type."""
    lines = broker(project, "rabbitmq", "--silent", "list_queues", "-p", "warren", "--local", "name", "type")
    kinds = {}
    for name, kind in (line.split("\t") for line in lines.splitlines() if line.count("\t") == 1):
        kinds.setdefault(kind, []).append(name)
    return "; ".join(f"{len(names)} {kind} ({', '.join(sorted(names)[:3])}...)" for kind, names in kinds.items()) or "no queue"


async def chat(args, project):
    timeout = args.timeout
    config = get_json(f"{args.web}/config.json", timeout)
    if config.get("stompURLs") != args.stomp_url.split(","):
        raise Failure(f"/config.json tells browsers {config.get('stompURLs')}, not {args.stomp_url}")
    check_cluster(project, config["prefix"], timeout)
    suffix = secrets.token_hex(3)
    password = "compose " + secrets.token_hex(8)
    tabs = [FailoverTab(f"{person}-{suffix}", register(args.web, f"{person}-{suffix}", password, timeout), config, timeout)
            for person in ("alice", "bob")]
    alice, bob = tabs
    try:
        for tab in tabs:
            await tab.sign_in()
        client_id = await alice.post("hello from the cluster")
        await delivered_once(tabs, client_id, "hello from the cluster", timeout)
        say(f"{alice.name} and {bob.name} signed in on {config['stompURL']}; a post reached both tabs with its reply")

        say(f"on rabbitmq before it goes: {on_first_node(project)}")
        stopped = time.monotonic()
        project._run("stop", "-t", "0", running_container(project, "rabbitmq"))
        lost = await wait_for("both tabs losing their sockets", lambda: all(tab.client.failure for tab in tabs), timeout)
        deadline = time.monotonic() + args.failover_timeout
        again = [await tab.sign_in_again(deadline) for tab in tabs]
        back = time.monotonic() - stopped
        urls = sorted({url for url, _ in again})
        failed = [failure for _, failures in again for failure in failures]
        say(f"rabbitmq stopped: the tabs lost their sockets after {lost:.1f} s and signed in again on {', '.join(urls)} "
            f"after {back:.1f} s ({len(failed)} failed tries{': ' + failed[0] if failed else ''})")

        client_id = await bob.post("after the node went")
        await delivered_once(tabs, client_id, "after the node went", args.failover_timeout)
        say(f"a post reached both tabs with its reply {time.monotonic() - stopped:.1f} s after the node went")
    finally:
        for tab in tabs:
            await tab.client.close()
    survivors = {service: n for service, n in EXPECTED.items() if service != "rabbitmq"}
    took = project.wait_healthy(args.failover_timeout, survivors)
    say(f"every other container healthy ({took:.1f} s after that post)")


def main(argv):
    return run(argv, __doc__.split("\n\n")[0], chat, EXPECTED, lambda parser: parser.add_argument(
        "--failover-timeout", type=float, default=90, help="seconds for the chat to carry on without rabbitmq"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
