#!/usr/bin/env python3
"""Warren's real-browser cluster test: two headless Chromium sessions (alice and bob) against a
running `warren up` whose /config.json lists the three Web-STOMP endpoints of a cluster of three
RabbitMQ nodes (scripts/broker cluster), and whose roles are given the three AMQP URLs. It kills
-9 the node both pages are on, sees each page reconnect to a surviving node, a post held in
alice's outbox meanwhile and the posts after reach both pages once, the roles that were on that
node move too (the reverser still answers), and then restarts the node and sees the cluster heal.

    python3 tests/browser/test_cluster.py --url http://127.0.0.1:18450/ \\
        --mgmt-urls http://127.0.0.1:15962,http://127.0.0.1:15963,http://127.0.0.1:15964 \\
        --cluster-command "scripts/broker cluster" [--artifacts DIR]

--mgmt-urls lists the nodes' management APIs, node 1 first (where the broker says each
connection is: the warren-admin account, password WARREN_ADMIN_PASSWORD or `admin`);
--cluster-command is the command that, given `kill N` or `restart N`, kills or restarts node N
(scripts/test-browser-cluster passes scripts/broker's, with the cluster's variables exported).

Which node a page is on is the broker's word: the Web-STOMP connection of that person's name in
the management API. The node killed is the login role's (where it declared the tab queues, so
they go with it; otherwise one a role's connection is on); a page elsewhere is moved there by
closing its connection (a page that loses its connection goes to the next node of its list). alice's page is cut off the network (DevTools) just before
the kill, so that what she writes must wait in her outbox; bob's reconnects on its own.

Every wait is bounded. The last line is `browser cluster: N passed, N failed`; the exit status is
0 only when nothing failed.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from browser_user import WAIT, WATCH_BANNER_JS, Failure, assert_shown_once, close_pages, has_reply
from step_run import Run, console_problems

NODES = (1, 2, 3)
MOVE_WAIT = WAIT + 40  # a page or role back on a surviving node (its backoff grows while cut off)
NODE_COMMAND_TIMEOUT = 300  # seconds for `kill N` / `restart N` (a restart waits for the cluster)

# Severe console lines allowed, with why (besides the failed attempts while alice is cut off).
ALLOWED_SEVERE = [
    # A WebSocket the page closes while it is still opening (the page gave up on an attempt).
    r"WebSocket connection to '.*' failed: WebSocket is closed before the connection is established",
]


class Cluster:
    """The three nodes as their management APIs see them, and the command that kills one and
    starts it again."""

    def __init__(self, mgmt_urls, command):
        self.mgmt_urls = mgmt_urls
        password = os.environ.get("WARREN_ADMIN_PASSWORD") or "admin"
        self.authorization = "Basic " + base64.b64encode(f"warren-admin:{password}".encode()).decode()
        self.command = command
        self.numbers = {}  # Erlang node name -> 1, 2 or 3
        self.down = set()

    def request(self, n, path, method="GET"):
        request = urllib.request.Request(self.mgmt_urls[n - 1] + path, method=method,
                                         headers={"authorization": self.authorization, "x-reason": "browser cluster test"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def learn_nodes(self):
        for n in NODES:
            self.numbers[self.request(n, "/api/overview")["node"]] = n

    def up(self):
        return next(n for n in NODES if n not in self.down)

    def connections(self):
        """Every connection the running nodes know: node number, user, protocol, client name."""
        found = []
        for c in self.request(self.up(), "/api/connections"):
            found.append({"node": self.numbers.get(c.get("node")), "user": c.get("user"),
                          "protocol": c.get("protocol") or "", "name": c.get("name"),
                          "client": (c.get("client_properties") or {}).get("connection_name") or ""})
        return found

    def page_nodes(self, user):
        return [c["node"] for c in self.connections() if c["user"] == user.name and "STOMP" in c["protocol"]]

    def roles(self):
        """The roles' own connections (`warren <role>`; their reply connections, opened when a
        reply is due, aside), as {name: [node, ...]}."""
        roles = {}
        for c in self.connections():
            if c["client"].startswith("warren ") and not c["client"].endswith(" replies"):
                roles.setdefault(c["client"], []).append(c["node"])
        return roles

    def leaders(self):
        """The replicated queues (quorum queues, streams) and the node of each one's leader."""
        return {q["name"]: self.numbers.get(q.get("leader")) for q in self.request(self.up(), "/api/queues/warren")
                if q.get("type") in ("quorum", "stream")}

    def close_page(self, user):
        for c in self.connections():
            if c["user"] == user.name and "STOMP" in c["protocol"]:
                self.request(self.up(), "/api/connections/" + urllib.parse.quote(c["name"], safe=""), method="DELETE")

    def run(self, action, n):
        command = f"{self.command} {action} {n}"
        started = time.monotonic()
        try:
            done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=NODE_COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure(f"'{command}' did not finish within {NODE_COMMAND_TIMEOUT} s") from None
        if done.returncode != 0:
            raise Failure(f"'{command}' failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        print(f"  {command}: done in {time.monotonic() - started:.1f} s")


def wait_until(what, predicate, timeout):
    """Polls `predicate` (twice a second) until it returns something true, for `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OSError as error:  # a management API that is not answering this once
            value, last = None, error
        if value:
            return value
        time.sleep(0.5)
    raise Failure(f"timed out after {timeout:.0f} s waiting for {what}" + (f" (last error: {last})" if last else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--mgmt-urls", required=True, help="the three nodes' management API URLs, comma-separated, node 1 first")
    parser.add_argument("--cluster-command", required=True, help="shell command that takes `kill N` or `restart N`")
    parser.add_argument("--artifacts", default=None, help="folder for the screenshots")
    args = parser.parse_args()
    mgmt_urls = [u.strip().rstrip("/") for u in args.mgmt_urls.split(",")]
    if len(mgmt_urls) != len(NODES):
        parser.error(f"--mgmt-urls needs {len(NODES)} URLs, not {len(mgmt_urls)}")
    cluster = Cluster(mgmt_urls, args.cluster_command)

    run = Run("browser cluster")
    users = run.pages(("alice", "bob"), args.url)
    if not users:
        return run.report()
    alice, bob = users

    plan = {}  # the node killed, the roles on it and before it
    stamp = int(time.time())
    away = f"alice, written while her node was gone {stamp}"
    meanwhile = f"bob, on another node meanwhile {stamp}"
    after = f"bob, after the failover {stamp}"
    healed = f"alice, after the node came back {stamp}"

    def one_node(user):
        return wait_until(f"{user.name}'s one Web-STOMP connection in the management API",
                          lambda: (lambda nodes: len(nodes) == 1 and nodes[0])(cluster.page_nodes(user)), WAIT)

    try:
        def c1():
            cluster.learn_nodes()
            print(f"  nodes: {cluster.numbers}")
            alice.login(register=True)
            bob.login(register=True)
            alice.post(f"hello from alice {stamp}")
            for u in (alice, bob):
                u.wait_entry("alice's first post with the reverser's reply", f"hello from alice {stamp}",
                             has_reply(f"hello from alice {stamp}"[::-1]), timeout=WAIT + 10)

        def c2():
            pages = {u.name: one_node(u) for u in (alice, bob)}
            roles = wait_until("the roles' connections", cluster.roles, WAIT)
            print(f"  pages on nodes {pages}; roles on nodes {roles}")
            # The login role's node, where it declared the tab queues (classic queues), which go
            # with it: the hardest case for a page.
            target = roles.get("warren login", [None])[0]
            if target is None:
                with_roles = [n for n in NODES if any(n in nodes for nodes in roles.values())]
                target = pages["alice"] if pages["alice"] in with_roles else with_roles[0]
            for u in (alice, bob):
                for _ in range(2 * (len(NODES) - 1)):  # the next node of its list each time, when all goes well
                    node = one_node(u)
                    if node == target:
                        break
                    u.driver.execute_script(WATCH_BANNER_JS)
                    cluster.close_page(u)
                    u.wait(f"{u.name}'s page reconnecting after its connection was closed",
                           lambda p: p.driver.execute_script("return window.__warrenBanner.seen"))
                    u.wait(f"{u.name}'s page connected again", lambda p: p.room_shown() and not p.banner_shown(), timeout=MOVE_WAIT)
                    moved = wait_until(f"{u.name}'s connection on another node than {node}",
                                       lambda: (lambda nodes: len(nodes) == 1 and nodes[0] != node and nodes[0])(cluster.page_nodes(u)), WAIT)
                    print(f"  {u.name}'s page moved from node {node} to node {moved} (its connection closed)")
                assert one_node(u) == target, f"{u.name}'s page is not on node {target}"
            plan.update(node=target, roles=roles, on_node=sorted(r for r, nodes in roles.items() if target in nodes))
            led = sorted(q for q, node in cluster.leaders().items() if node == target)
            print(f"  node {target} will be killed: both pages, {plan['on_node']} and the leaders of {led} are on it")

        def c3():
            n = plan["node"]
            for u in (alice, bob):
                u.drain_log()
                u.driver.execute_script(WATCH_BANNER_JS)
            alice.set_offline(True)
            try:
                cluster.down.add(n)
                cluster.run("kill", n)
                for u in (alice, bob):
                    u.wait("the reconnecting banner", lambda p: p.driver.execute_script("return window.__warrenBanner.seen"))
                alice.wait("alice's page reconnecting, banner shown", lambda p: p.status() == "reconnecting" and p.banner_shown())
                alice.post(away)
                alice.wait(f"'{away}' waiting in the outbox",
                           lambda p: any(e["pending"] and e["text"] == away and e["pendingLabel"] == "Waiting for the connection…"
                                         for e in p.snapshot()))
                bob.wait("bob's page connected again, banner gone", lambda p: p.room_shown() and not p.banner_shown(), timeout=MOVE_WAIT)
                node = one_node(bob)
                assert node != n, f"bob's page is on node {n}, which was killed"
                print(f"  bob's page reconnected to node {node}; banner said '{bob.driver.execute_script('return window.__warrenBanner.text')}'")
                bob.post(meanwhile)
                bob.wait_entry(f"'{meanwhile}' on bob's page", meanwhile, timeout=MOVE_WAIT)
                assert not bob.entries(away), "bob has alice's post before her page reconnected"
                alice.screenshot(args.artifacts, "cluster-alice-away")
            finally:
                alice.set_offline(False)
            alice.wait("alice's page connected again, banner gone", lambda p: p.room_shown() and not p.banner_shown(), timeout=MOVE_WAIT)
            node = one_node(alice)
            assert node != n, f"alice's page is on node {n}, which was killed"
            print(f"  alice's page reconnected to node {node}")

        def c4():
            for u in (alice, bob):
                u.wait_entry(f"alice's outbox post '{away}'", away, timeout=MOVE_WAIT)
            alice.wait_entry(f"'{meanwhile}', posted while she was away", meanwhile)
            bob.post(after)
            for u in (alice, bob):
                u.wait_entry(f"'{after}' with the reverser's reply", after, has_reply(after[::-1]), timeout=MOVE_WAIT)
            assert_shown_once((alice, bob), (away, meanwhile, after))

        def c5():
            n = plan["node"]
            assert plan["on_node"], f"no role's connection was on node {n}"

            def moved():
                roles = cluster.roles()
                return all(any(m != n for m in roles.get(r, [])) for r in plan["on_node"]) and roles

            roles = wait_until(f"the roles that were on node {n} ({', '.join(plan['on_node'])}) on a surviving node", moved, MOVE_WAIT)
            print(f"  roles now on nodes {roles}")
            missing = [r for r in plan["roles"] if r not in roles]
            assert not missing, f"roles with no connection after the kill: {missing}"

        def c6():
            n = plan["node"]
            cluster.run("restart", n)
            cluster.down.discard(n)
            running = wait_until(f"node {n} seeing all three nodes running",
                                 lambda: (lambda ns: len(ns) == 3 and ns)([m["name"] for m in cluster.request(n, "/api/nodes") if m.get("running")]),
                                 WAIT)
            print(f"  node {n} sees {running} running")
            alice.post(healed)
            for u in (alice, bob):
                u.wait_entry(f"'{healed}' with the reverser's reply", healed, has_reply(healed[::-1]), timeout=MOVE_WAIT)
                assert u.room_shown() and not u.banner_shown(), f"{u.name}'s page is not connected"
            assert_shown_once((alice, bob), (away, meanwhile, after, healed))
            alice.screenshot(args.artifacts, "cluster-alice-healed")

        def c7():
            n = plan.get("node")
            # The killed node's endpoint refuses connections while it is down: the page's attempts
            # on it fail so, and that is its job (it moves on to the next).
            refused = []
            if n:
                config = json.loads(urllib.request.urlopen(urllib.parse.urljoin(args.url, "config.json"), timeout=10).read())
                url = config["stompURLs"][n - 1]
                refused = [f"WebSocket connection to '{url}' failed: .*ERR_CONNECTION_REFUSED"]
            bad = console_problems(users, ALLOWED_SEVERE + refused)
            assert not bad, "JavaScript errors in the console:\n    " + "\n    ".join(bad)

        run.step("C1. alice and bob sign in on the cluster; a post and the reverser's reply reach both", c1, essential=True)
        run.step("C2. both pages on the login role's node (the broker says where each connection is)", c2, essential=True)
        run.step("C3. kill -9 of that node: both pages say reconnecting, bob's is back on another node, alice's post waits", c3,
                 essential=True)
        run.step("C4. alice's outbox post, bob's post meanwhile and after: on both pages once, the reverser answers", c4)
        run.step("C5. the roles that were on the killed node are on a surviving node", c5)
        run.step("C6. the node restarts and the cluster heals; a post after reaches both once", c6)
        run.step("C7. no JavaScript errors in any console (but refused attempts on the killed node)", c7)
    finally:
        if run.failed:  # what the pages said, to read the failure by
            for u in users:
                u.drain_log()
                for entry in u.console:
                    if entry.get("level") in ("WARNING", "SEVERE"):
                        print(f"  console {u.name} {entry.get('level')}: {entry.get('message', '')[:400]}")
        close_pages(users)

    return run.report()


if __name__ == "__main__":
    sys.exit(main())
