"""The chat through compose.yaml's containers, as the page uses it (scripts/test-compose).

1. Every container of the project becomes healthy (the broker, every role, two pow-workers).
2. Two people register over REST (POST /api/register, as web/auth.js), connect to Web-STOMP
   with the URL and vhost of /config.json, subscribe to general's stream when /config.json names
   one (before the login, ACKed cumulatively: Benchmarks/tabs/tabs_stream.py, web/rules.json), log
   in (a request to <prefix>.login with a /temp-queue/ reply-to) and subscribe to their tab
   queues, as web/app.js does.
3. A post over STOMP reaches both tabs with the reverser's reply; a post over REST
   (POST /api/messages) too; a `!pow` post gets its proof from a pow-worker; the cron posts.
4. The login container's process is killed (SIGKILL, as a crash): Docker restarts it, and the
   posts made while it was down reach both tabs, each once, with their replies.
5. The history container's process is killed the same way, with posts made meanwhile: once it is
   back, GET /api/history holds every post of the run, each once.

Exits 1 with what went wrong; every wait has a bound.
"""

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "Benchmarks" / "shared"), str(ROOT / "Benchmarks" / "tabs")]

from stomp_ws import StompClient  # noqa: E402
from tabs_stream import SUBSCRIPTION, StreamReader, general_stream, stream_terms  # noqa: E402
from warren_http import get_json, register  # noqa: E402

CONTAINERS = {"rabbitmq": 1, "login": 1, "reverser": 1, "pow-worker": 2, "cron": 1, "history": 1, "web": 1}


class Failure(Exception):
    """What went wrong, for the one line the test prints."""


def say(text):
    print(f"  {text}", flush=True)


# ---- Docker ----

class Project:
    """The compose project's containers, through the docker client."""

    def __init__(self, docker, name):
        self.docker = docker
        self.name = name

    def _run(self, *args):
        done = subprocess.run([self.docker, *args], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise Failure(f"docker {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def containers(self):
        """{container id: (service, state, health, restart count, main PID)} of the project."""
        ids = self._run("ps", "-aq", "--filter", f"label=com.docker.compose.project={self.name}").split()
        if not ids:
            return {}
        found = {}
        for item in json.loads(self._run("inspect", *ids)):
            state = item["State"]
            service = item["Config"]["Labels"].get("com.docker.compose.service", "?")
            health = (state.get("Health") or {}).get("Status", "none")
            found[item["Id"]] = (service, state["Status"], health, item.get("RestartCount", 0), state.get("Pid", 0))
        return found

    def wait_healthy(self, timeout, expected=CONTAINERS):
        """Waits until every expected container runs and is healthy; returns the seconds taken."""
        started = time.monotonic()
        last = None
        while True:
            containers = self.containers()
            counts = {}
            for service, status, health, _, _ in containers.values():
                if status == "running" and health == "healthy":
                    counts[service] = counts.get(service, 0) + 1
            if all(counts.get(service, 0) >= n for service, n in expected.items()):
                return time.monotonic() - started
            last = sorted(f"{s}:{st}/{h}" for s, st, h, _, _ in containers.values())
            if time.monotonic() - started > timeout:
                raise Failure(f"not every container healthy within {timeout} s: {', '.join(last)}")
            time.sleep(1)

    def kill_main_process(self, service):
        """SIGKILLs the main process of the service's one container, as a crash would end it;
        returns (container id, restart count before)."""
        for cid, (name, status, _, restarts, pid) in self.containers().items():
            if name == service and status == "running" and pid > 0:
                os.kill(pid, signal.SIGKILL)
                return cid, restarts
        raise Failure(f"no running {service} container to kill")

    def wait_restarted(self, cid, restarts_before, service, timeout):
        """Waits until Docker restarted the container and it is healthy again; returns seconds."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            found = self.containers().get(cid)
            if found is not None:
                _, status, health, restarts, _ = found
                if restarts > restarts_before and status == "running" and health == "healthy":
                    return time.monotonic() - started
            time.sleep(0.5)
        raise Failure(f"{service} was not restarted and healthy within {timeout} s: {self.containers().get(cid)}")


# ---- a tab ----

class Tab:
    """One person's browser tab: a token, a STOMP connection, the tab queue and what arrived."""

    def __init__(self, name, token, config, timeout):
        self.name = name
        self.token = token
        self.config = config
        self.session = secrets.token_urlsafe(16)
        self.timeout = timeout
        self.client = StompClient(config["stompURL"], timeout=timeout)
        self.events = []
        stream = general_stream(config)
        self.stream = StreamReader(stream, *stream_terms()) if stream else None

    def headers(self, extra=None):
        return {"content-type": "application/json", **(extra or {}), "user-id": self.name}

    async def sign_in(self):
        await self.connect()
        await self.log_in(resume=False)

    async def connect(self):
        """Connects self.client and subscribes general's stream (after a reconnect from the one
        after the newest offset seen)."""
        await self.client.connect(self.name, self.token, self.config["vhost"], heartbeat=(10000, 10000))
        self.client.on_message = self.received
        if self.stream is not None:  # before the login: what its backfill misses comes live
            await self.stream.subscribe(self.client)

    async def log_in(self, resume):
        """Asks the login service for the tab's queue (`resume`: this session's again) and subscribes it."""
        prefix = self.config["prefix"]
        body = json.dumps({"action": "login", "login": self.name, "session": self.session, "resume": resume})
        reply = json.loads(await self.client.request(f"/exchange/{prefix}.in/{prefix}.login", body, self.headers()))
        if not isinstance(reply, dict) or reply.get("ok") is not True or not reply.get("queue"):
            raise Failure(f"the login service refused {self.name}: {reply}")
        await self.client.subscribe(f"/amq/queue/{reply['queue']}")

    def received(self, headers, body):
        message = json.loads(body)
        if message.get("kind") == "backfill":
            pass  # what the room held before this tab; the checks look at what arrives live
        else:
            self.events.append(message)
        if headers.get("subscription") == SUBSCRIPTION:
            if self.stream.taken(headers):  # one cumulative ACK per streamAckEvery
                self.client.ack_now(headers)
            return None
        return self.client.ack_now(headers)

    async def post(self, text):
        """Posts over STOMP as the page does; returns the post's clientId."""
        client_id = str(uuid.uuid4())
        body = json.dumps({"text": text, "clientId": client_id, "login": self.name, "session": self.session})
        await self.client.send(f"/exchange/{self.config['prefix']}.in/{self.config['prefix']}.inbox", body, self.headers({"persistent": "true"}),
                               wait_receipt=True)
        return client_id

    def messages(self, client_id, kind="message"):
        return [e for e in self.events if e.get("kind") == kind and e.get("clientId") == client_id]

    def replies(self, event_id):
        return [e for e in self.events if e.get("kind") == "reply" and e.get("inReplyTo") == event_id]


async def wait_for(what, check, timeout):
    """Waits until check() is true; raises Failure naming `what` after `timeout` seconds."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise Failure(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def delivered_once(tabs, client_id, text, timeout):
    """Waits until every tab has the post once and the reverser's reply to it once."""
    def counts(tab):
        posts = tab.messages(client_id)
        return len(posts), len(tab.replies(posts[0]["id"])) if posts else 0

    await wait_for(f"{text!r} and its reply at every tab", lambda: all(counts(tab) == (1, 1) for tab in tabs), timeout)
    await asyncio.sleep(0.5)  # a duplicate would arrive right behind
    for tab in tabs:
        if counts(tab) != (1, 1):
            raise Failure(f"{tab.name} got {text!r} and its reply {counts(tab)} times")


async def proven_once(tabs, client_id, text, timeout):
    """Waits until every tab has the proven post (held back until its proof is found) once."""
    def count(tab):
        return len([e for e in tab.messages(client_id, kind="proof") if (e.get("proof") or {}).get("hash")])

    await wait_for(f"{text!r} with its proof at every tab", lambda: all(count(tab) == 1 for tab in tabs), timeout)
    await asyncio.sleep(0.5)
    for tab in tabs:
        if count(tab) != 1 or tab.messages(client_id):
            raise Failure(f"{tab.name} got {text!r} {count(tab)} times proven and {len(tab.messages(client_id))} times unproven")


# ---- the run ----

async def chat(args, project):
    timeout = args.timeout
    config = get_json(f"{args.web}/config.json", timeout)
    if config.get("stompURL") != args.stomp_url:
        raise Failure(f"/config.json tells browsers {config.get('stompURL')}, not {args.stomp_url}")
    suffix = secrets.token_hex(3)
    password = "compose " + secrets.token_hex(8)
    tabs = []
    for person in ("alice", "bob"):
        name = f"{person}-{suffix}"
        tabs.append(Tab(name, register(args.web, name, password, timeout), config, timeout))
    alice, bob = tabs
    try:
        for tab in tabs:
            await tab.sign_in()
        say(f"{alice.name} and {bob.name} registered over REST and signed in over Web-STOMP")

        posted = []  # every post's clientId, to find in the history at the end
        client_id = await alice.post("hello from compose")
        posted.append(client_id)
        await delivered_once(tabs, client_id, "hello from compose", timeout)
        say("a STOMP post reached both tabs with the reverser's reply")

        status, body = await asyncio.to_thread(
            post_json_bearer, f"{args.web}/api/messages", {"text": "hello over REST"}, bob.token, timeout)
        if status != 201 or not body.get("clientId"):
            raise Failure(f"POST /api/messages answered {status}: {body}")
        posted.append(body["clientId"])
        await delivered_once(tabs, body["clientId"], "hello over REST", timeout)
        say("a REST post reached both tabs with the reverser's reply")

        client_id = await bob.post("work for it !pow")
        posted.append(client_id)
        await proven_once(tabs, client_id, "work for it !pow", timeout * 3)
        say("a !pow post got its proof from a pow-worker")

        cron_text = "Hello world!"
        waited = await wait_for("the cron's post", lambda: any(
            e.get("kind") in ("message", "system") and e.get("text") == cron_text for e in alice.events), 30)
        say(f"the cron posted ({waited:.1f} s)")

        for service in ("login", "history"):
            cid, restarts = project.kill_main_process(service)
            texts = [f"while {service} was down {i}" for i in range(3)]
            ids = [await alice.post(text) for text in texts]
            posted.extend(ids)
            back = project.wait_restarted(cid, restarts, service, args.restart_timeout)
            for client_id, text in zip(ids, texts):
                await delivered_once(tabs, client_id, text, timeout)
            say(f"{service} killed: Docker restarted it (healthy after {back:.1f} s); the 3 posts made meanwhile "
                "reached both tabs once with their replies")

        history = await asyncio.to_thread(history_events, args.web, alice.token, timeout)
        stored = [e.get("clientId") for e in history if e.get("kind") in ("message", "proof")]
        missing = [c for c in posted if stored.count(c) == 0]
        doubled = [c for c in posted if stored.count(c) > 1]
        if missing or doubled:
            raise Failure(f"the history lacks {len(missing)} of the {len(posted)} posts and holds {len(doubled)} twice")
        say(f"GET /api/history holds all {len(posted)} posts once each")
    finally:
        for tab in tabs:
            await tab.client.close()


def post_json_bearer(url, payload, token, timeout):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def history_events(web, token, timeout):
    import urllib.request

    request = urllib.request.Request(f"{web}/api/history?limit=200", headers={
        "Accept": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = json.loads(response.read())
    if body.get("ok") is not True:
        raise Failure(f"GET /api/history answered {body}")
    return body["events"]


def run(argv, description, chat_through, expected, more_options):
    """The command line of a compose check: waits for the `expected` containers to be healthy,
    then runs `chat_through(args, project)`; `more_options(parser)` adds the check's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--docker", required=True, help="the docker client")
    parser.add_argument("--project", required=True, help="the compose project's name")
    parser.add_argument("--web", required=True, help="the web role's URL on this machine")
    parser.add_argument("--stomp-url", required=True, help="the Web-STOMP URLs /config.json must tell browsers (comma-separated)")
    parser.add_argument("--healthy-timeout", type=float, default=180, help="seconds for every container to be healthy")
    parser.add_argument("--timeout", type=float, default=20, help="seconds for each chat step")
    more_options(parser)
    args = parser.parse_args(argv)
    project = Project(args.docker, args.project)
    try:
        took = project.wait_healthy(args.healthy_timeout, expected)
        say(f"every container healthy after {took:.1f} s: {', '.join(f'{s} x{n}' for s, n in expected.items())}")
        asyncio.run(chat_through(args, project))
    except Exception as error:  # noqa: BLE001: one line saying what failed
        print(f"test-compose: FAILED: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv):
    return run(argv, __doc__.split("\n\n")[0], chat, CONTAINERS, lambda parser: parser.add_argument(
        "--restart-timeout", type=float, default=60, help="seconds for a killed role to be healthy again"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
