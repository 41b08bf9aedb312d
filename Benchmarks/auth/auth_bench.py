"""The auth benchmark's client: CONNECT times and posts/s of signed-in "browsers" over Web-STOMP.

One run measures one side, auth on or off, against a broker and a `warren up` that
scripts/bench-auth started; it prints one JSON line per measurement. `table.py` puts the two
sides side by side.

  --auth on   people registered through the web role (POST /api/register, then /api/login for
              the access token) connect with their name as login and the token as passcode, and
              every SEND to the services carries `user-id: <name>` (WARREN_BROKER_AUTH=on)
  --auth off  everyone connects as one internal broker user (--internal-user/--internal-password)
              and sends no user-id (WARREN_BROKER_AUTH=off)
"""

import argparse
import asyncio
import copy
import json
import os
import secrets
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))  # stomp_ws, warren_http, figures

from figures import percentile, rounded  # noqa: E402
from stomp_ws import StompClient, StompFailure  # noqa: E402
from warren_http import HTTPFailure, login, register  # noqa: E402


def new_session_id():
    """A session id like the page's: 16 random bytes in base64url, 22 characters."""
    return secrets.token_urlsafe(16)


def sign_up(web, name, timeout):
    """Registers `name` and signs in as the page does; returns the access token."""
    password = secrets.token_urlsafe(18)
    try:
        register(web, name, password, timeout)
        return login(web, name, password, timeout)
    except HTTPFailure as failure:
        raise SystemExit(f"auth-bench: {failure}") from None


class Identity:
    """Who a browser is: the chat login, what it CONNECTs with, and whether it sends user-id."""

    def __init__(self, name, stomp_login, passcode, send_user_id):
        self.name = name
        self.stomp_login = stomp_login
        self.passcode = passcode
        self.send_user_id = send_user_id

    def headers(self, extra=None):
        headers = {"content-type": "application/json", **(extra or {})}
        if self.send_user_id:
            headers["user-id"] = self.name
        return headers


async def measure_connects(args, identities):
    """Sequential CONNECTs, the kinds taking turns (so both see the same machine): socket open
    and CONNECT->CONNECTED of each, then DISCONNECT. One line per kind."""
    opens = {kind: [] for kind in identities}
    connects = {kind: [] for kind in identities}
    for _ in range(args.connects):
        for kind, identity in identities.items():
            client = StompClient(args.stomp_url, timeout=args.timeout)
            try:
                opened_ms, connected_ms = await client.connect(identity.stomp_login, identity.passcode, args.vhost)
            finally:
                await client.close()
            opens[kind].append(opened_ms)
            connects[kind].append(connected_ms)
    lines = []
    for kind in identities:
        times, rest = connects[kind], connects[kind][1:]
        lines.append({
            "bench": "auth", "measure": "connect", "auth": kind, "round": args.round, "connections": len(times),
            "interleaved": sorted(identities), "warren_broker_auth": args.auth,
            "first_ms": rounded(times[0]),
            "repeat_2_10_mean_ms": rounded(sum(times[1:10]) / len(times[1:10])),
            "p50_ms": rounded(percentile(rest, 0.50)), "p90_ms": rounded(percentile(rest, 0.90)),
            "p99_ms": rounded(percentile(rest, 0.99)), "max_ms": rounded(max(rest)),
            "ws_open_p50_ms": rounded(percentile(opens[kind], 0.50)),
        })
    return lines


class Browser:
    """One signed-in tab: its STOMP connection, its queue, its window of posts in flight."""

    def __init__(self, args, identity, run):
        self.args = args
        self.identity = identity
        self.run = run
        self.client = StompClient(args.stomp_url, timeout=args.timeout)
        self.window = asyncio.Semaphore(args.window)
        self.sent = 0

    async def join(self):
        """CONNECT, the login request with a /temp-queue/ reply-to, SUBSCRIBE to the tab's queue."""
        started = time.perf_counter()
        await self.client.connect(self.identity.stomp_login, self.identity.passcode, self.args.vhost)
        connected = time.perf_counter()
        session = new_session_id()
        body = json.dumps({"action": "login", "login": self.identity.name, "session": session})
        reply = json.loads(await self.client.request(f"/exchange/{self.args.prefix}.in/{self.args.prefix}.login", body, self.identity.headers()))
        if reply.get("ok") is not True or not reply.get("queue"):
            raise StompFailure(f"the login service refused {self.identity.name}: {reply}")
        logged_in = time.perf_counter()
        self.client.on_message = self.delivered
        await self.client.subscribe(f"/amq/queue/{reply['queue']}", ack="client-individual", prefetch=self.args.prefetch)
        self.session = session
        done = time.perf_counter()
        return [(done - started) * 1000, (connected - started) * 1000, (logged_in - connected) * 1000, (done - logged_in) * 1000]

    def delivered(self, headers, body):
        """Called from the socket's data_received (StompClient.on_message is a plain function)."""
        self.client.ack_now(headers)
        self.run.delivered(self, body)

    async def post_until(self, deadline):
        """Posts as fast as the window allows until the deadline, like the page's outbox."""
        inbox = f"/exchange/{self.args.prefix}.in/{self.args.prefix}.inbox"
        while time.perf_counter() < deadline and self.client.failure is None:
            try:
                async with asyncio.timeout(self.args.timeout):
                    await self.window.acquire()
            except TimeoutError:
                raise StompFailure(f"{self.identity.name}: no post of its window came back within {self.args.timeout} s") from None
            client_id = str(uuid.uuid4())
            text = f"bench {self.sent} from {self.identity.name}"
            body = json.dumps({"text": text, "clientId": client_id, "login": self.identity.name, "session": self.session})
            self.run.sending(client_id, self)
            await self.client.send(inbox, body, self.identity.headers({"persistent": "true"}))
            self.sent += 1


class PostRun:
    """The bookkeeping of one posts measurement: send times, deliveries, latencies."""

    def __init__(self, browsers_count, max_samples=500_000):
        self.browsers_count = browsers_count
        self.pending = {}  # clientId -> [sent at, sender, deliveries so far]
        self.latencies = []
        self.max_samples = max_samples
        self.deliveries = 0
        self.posts_complete = 0
        self.first_sent = None
        self.last_delivery = None
        self.other_events = 0
        self.refusals = []

    def sending(self, client_id, browser):
        now = time.perf_counter()
        if self.first_sent is None:
            self.first_sent = now
        self.pending[client_id] = [now, browser, 0]

    def delivered(self, browser, body):
        now = time.perf_counter()
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            self.other_events += 1
            return
        entry = self.pending.get(event.get("clientId"))
        if event.get("kind") == "error" and len(self.refusals) < 5:
            self.refusals.append(event.get("text"))
        if entry is None or event.get("kind") != "message":
            self.other_events += 1
            return
        if len(self.latencies) < self.max_samples:
            self.latencies.append((now - entry[0]) * 1000)
        self.deliveries += 1
        self.last_delivery = now
        entry[2] += 1
        if entry[1] is browser:
            browser.window.release()
        if entry[2] == self.browsers_count:
            del self.pending[event["clientId"]]
            self.posts_complete += 1


async def measure_posts(args, identities):
    run = PostRun(len(identities))
    browsers = [Browser(args, identity, run) for identity in identities]
    try:
        joins = []
        for browser in browsers:  # one after another, as people arrive
            joins.append(await browser.join())
        await asyncio.sleep(args.settle)  # backfills and presence events arrive and are acked
        deadline = time.perf_counter() + args.seconds
        posters = [asyncio.create_task(browser.post_until(deadline)) for browser in browsers]
        await asyncio.gather(*posters)
        drain_until = time.perf_counter() + args.timeout
        while run.pending and time.perf_counter() < drain_until:
            failed = next((b.client.failure for b in browsers if b.client.failure is not None), None)
            if failed is not None:
                raise failed
            await asyncio.sleep(0.05)
    finally:
        for browser in browsers:
            await browser.client.close()
    sent = sum(browser.sent for browser in browsers)
    elapsed = (run.last_delivery - run.first_sent) if run.last_delivery and run.first_sent else None
    return {
        "bench": "auth", "measure": "posts", "auth": args.auth, "round": args.round, "browsers": len(browsers), "window": args.window,
        "seconds": args.seconds, "posts": sent, "complete": run.posts_complete, "missing_posts": len(run.pending),
        "posts_per_s": rounded(run.posts_complete / elapsed, 1) if elapsed else None,
        "deliveries_per_s": rounded(run.deliveries / elapsed, 1) if elapsed else None,
        "p50_ms": rounded(percentile(run.latencies, 0.50)), "p99_ms": rounded(percentile(run.latencies, 0.99)),
        "join_p50_ms": rounded(percentile([j[0] for j in joins], 0.50)),
        "join_connect_p50_ms": rounded(percentile([j[1] for j in joins], 0.50)),
        "join_login_p50_ms": rounded(percentile([j[2] for j in joins], 0.50)),
        "join_subscribe_p50_ms": rounded(percentile([j[3] for j in joins], 0.50)), "other_events": run.other_events,
        "refusals": run.refusals,
    }


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="auth_bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--auth", choices=["on", "off"], required=True)
    parser.add_argument("--stomp-url", required=True, help="Web-STOMP, e.g. ws://127.0.0.1:15674/ws")
    parser.add_argument("--web-url", help="the web role, e.g. http://127.0.0.1:8080 (--auth on)")
    parser.add_argument("--vhost", default="warren")
    parser.add_argument("--prefix", default="chat")
    parser.add_argument("--internal-user", default="bench-internal", help="the broker user of --auth off")
    parser.add_argument("--internal-password", default=os.environ.get("WARREN_BENCH_AUTH_PASSWORD", ""))
    parser.add_argument("--connects", type=int, default=200, help="sequential CONNECTs of each kind (default 200; 0: none)")
    parser.add_argument("--connect-as", help="the kinds of CONNECT, taking turns: on (a registered person), off "
                        "(the internal user) or on,off (default: --auth); /auth/user answers alike either way")
    parser.add_argument("--browsers", default="1,10", help="browser counts for the posts runs (default 1,10)")
    parser.add_argument("--seconds", type=float, default=10, help="posting time per run (default 10)")
    parser.add_argument("--window", type=int, default=20, help="posts in flight per browser (default 20)")
    parser.add_argument("--prefetch", type=int, default=50, help="the tab subscription's prefetch-count (50, as the page)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds one browser posts, unreported, before the posts runs (default 3)")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before joining and between joining and posting (default 2)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds any one wait may take")
    parser.add_argument("--round", type=int, default=1, help="which round this is (for the JSON lines)")
    parser.add_argument("--check", action="store_true", help="only check the options and exit")
    parser.add_argument("--tag", default=secrets.token_hex(3), help="part of every registered name")
    args = parser.parse_args(argv)
    args.connect_kinds = [k for k in (args.connect_as or args.auth).split(",") if k]
    if not set(args.connect_kinds) <= {"on", "off"}:
        parser.error("--connect-as takes on, off or on,off")
    kinds = set(args.connect_kinds if args.connects > 0 else []) | {args.auth}
    if "on" in kinds and not args.web_url:
        parser.error("auth on needs --web-url")
    if "off" in kinds and not args.internal_password:
        parser.error("auth off needs --internal-password (or WARREN_BENCH_AUTH_PASSWORD)")
    counts = [int(n) for n in args.browsers.split(",") if n.strip()]
    if not counts or min(counts) < 1 or max(counts) > 200:
        parser.error("--browsers takes counts from 1 to 200, e.g. 1,10")
    if args.connects == 1 or args.connects < 0 or args.window < 1 or args.seconds <= 0:
        parser.error("--connects needs 0 or at least 2, --window at least 1, --seconds more than 0")
    args.counts = counts
    return args


def identities_for(args, prefix, count, kind=None):
    """`count` identities: registered people (auth on) or chat names on the internal user (off)."""
    found = []
    for i in range(count):
        name = f"{prefix}{args.tag}-{i}"
        if (kind or args.auth) == "on":
            found.append(Identity(name, name, sign_up(args.web_url, name, args.timeout), send_user_id=True))
        else:
            found.append(Identity(name, args.internal_user, args.internal_password, send_user_id=False))
    return found


async def main(argv):
    args = parse_arguments(argv)
    if args.check:
        return 0
    # Everyone signs up first: registration hashes passwords (PBKDF2), work that would otherwise
    # give the auth-on side quiet time between runs that the auth-off side does not get.
    connectors = {kind: identities_for(args, f"c{kind}", 1, kind)[0] for kind in args.connect_kinds} if args.connects > 0 else {}
    warmers = identities_for(args, "w", 1) if args.warmup > 0 else []
    people = {count: identities_for(args, f"p{count}x", count) for count in args.counts}
    if connectors:
        for line in await measure_connects(args, connectors):
            print(json.dumps(line), flush=True)
    if warmers:
        # A `warren up` just started has cold code paths and connections (in the login service,
        # the history store, the broker's channels): one browser posts for a while first, unreported.
        warmup = copy.copy(args)
        warmup.seconds = args.warmup
        await measure_posts(warmup, warmers)
    for count in args.counts:
        await asyncio.sleep(args.settle)  # what the last run left (replies, history writes) is done
        print(json.dumps(await measure_posts(args, people[count])), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(sys.argv[1:])))
    except StompFailure as failure:
        print(f"auth-bench: {failure}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
