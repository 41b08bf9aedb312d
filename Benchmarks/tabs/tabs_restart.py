"""The reconnect storm: N signed-in tabs while the broker restarts (graceful or kill -9).

One tab posts at a steady rate before, during and after the restart, the way the page does:
a post made while its socket is down waits in its outbox and goes once it is back, and a post
it sent whose echo it did not see before the socket went is sent again with the same client id.
Every tab, when its socket goes, reconnects as the page does (web/stomp-timing.js's backoff:
full jitter), CONNECTs, asks for its own session's queue again with "resume": true and
SUBSCRIBEs; a tab that reads general's stream (tabs_stream.py) subscribes it again first, from
the one after the newest offset it saw. Afterwards each tab's deliveries (live and backfilled)
are counted per post: missing, received once, received under more than one event id ("twice":
the page would show it twice), or the same event delivered again the same way (the page keeps it
once). An event that came by the tab queue and by the stream is counted once, as the page shows it.
"""

import asyncio
import json
import random
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

from figures import percentile, rounded
from stomp_ws import StompClient
from tabs_book import count_reasons, reason_of
from tabs_stream import QUEUE, Arrivals

def say(text):
    print(f"tabs-bench: {text}", file=sys.stderr, flush=True)


STOMP_TIMING = Path(__file__).resolve().parents[2] / "web" / "stomp-timing.js"


def page_backoff(path=STOMP_TIMING):
    """The page's reconnect policy (baseMs, factor, capMs, jitter), read from its one source."""
    text = path.read_text(encoding="utf-8")
    match = re.search(r"DEFAULT_BACKOFF\s*=\s*Object\.freeze\(\{([^}]*)\}\)", text)
    if not match:
        raise SystemExit(f"tabs-bench: no DEFAULT_BACKOFF in {path}")
    policy = {key: float(value) for key, value in re.findall(r"(\w+)\s*:\s*([0-9.]+)", match.group(1))}
    return policy["baseMs"], policy["factor"], policy["capMs"], policy["jitter"]


def backoff_s(attempt, policy, rng=random):
    """How long attempt `attempt` (0 first) waits, as web/stomp-timing.js's nextDelay."""
    base_ms, factor, cap_ms, jitter = policy
    ceiling = min(cap_ms, base_ms * factor ** attempt)
    return ceiling * (1 - jitter * rng.random()) / 1000


class Inbox:
    """What one tab received, per client id: the event ids it came under and how often."""

    def __init__(self):
        self.ids = {}  # clientId -> {event id: deliveries}
        self.arrivals = Arrivals()  # an event that came the other way already is not counted again

    def take(self, body, source=QUEUE):
        try:
            value = json.loads(body)
        except ValueError:
            return []
        events = value.get("events", []) if isinstance(value, dict) and value.get("kind") == "backfill" else [value]
        taken = []
        for event in events:
            if isinstance(event, dict) and event.get("kind") == "message" and event.get("clientId"):
                if not self.arrivals.counts(event.get("id"), source):
                    continue
                per_id = self.ids.setdefault(event["clientId"], {})
                per_id[event.get("id")] = per_id.get(event.get("id"), 0) + 1
                taken.append(event["clientId"])
        return taken


def tally(inboxes, posted):
    """Per post and tab: missing, once, under several event ids, the same event again."""
    missing = twice = again = 0
    for inbox in inboxes:
        for client_id in posted:
            per_id = inbox.ids.get(client_id)
            if not per_id:
                missing += 1
            elif len(per_id) > 1:
                twice += 1
            elif sum(per_id.values()) > 1:
                again += 1
    return {"missing": missing, "twice": twice, "redelivered": again}


class RestartDrill:
    """One restart of the broker under `live` tabs (Tab objects of tabs_bench.py)."""

    def __init__(self, bench, live, how):
        self.bench = bench
        self.args = bench.args
        self.live = live
        self.how = how
        self.policy = page_backoff()
        self.inboxes = [Inbox() for _ in live]
        self.phase_posts = {"before": [], "during": [], "after": []}
        self.phase = "before"
        self.outbox = []  # (clientId, body) made while the poster's socket was down, or unseen
        self.back_at = {}  # tab index -> seconds after the restart began when it was back in
        self.attempts = [0] * len(live)
        self.ready = [True] * len(live)  # signed in on its current client
        self.failures = []
        self.moved = 0  # tabs that came back on another queue than before
        self.restart_started = None

    def received(self, index, tab, headers, body):
        source = tab.source_of(headers)
        self.inboxes[index].take(body, source)
        self.bench.last_event = time.perf_counter()
        return tab.acknowledge(headers, source)

    async def run(self):
        args = self.args
        for index, tab in enumerate(self.live):
            tab.client.on_message = lambda headers, body, i=index, t=tab: self.received(i, t, headers, body)
        watchers = [asyncio.create_task(self.keep_connected(i, tab)) for i, tab in enumerate(self.live)]
        poster = asyncio.create_task(self.post_steadily())
        try:
            await asyncio.sleep(args.restart_before)
            self.phase = "during"
            self.restart_started = time.perf_counter()
            command = args.restart_cmd[self.how]
            say(f"  restart ({self.how}): {command}")
            result = await asyncio.to_thread(subprocess.run, command, shell=True, capture_output=True, text=True, timeout=300)
            restarted_s = time.perf_counter() - self.restart_started
            if result.returncode != 0:
                say(f"  the restart command failed ({result.returncode}): {(result.stdout + result.stderr)[-500:]}")
            await self.until_back(args.restart_timeout)
            all_back_s = max(self.back_at.values()) if len(self.back_at) == len(self.live) else None
            self.phase = "after"
            await asyncio.sleep(args.restart_after)
            self.phase = "done"
            await self.drain()
        finally:
            poster.cancel()
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(poster, *watchers, return_exceptions=True)
        back = sorted(self.back_at.values())
        line = {
            "bench": "tabs", "phase": "restart", "how": self.how, "tabs": len(self.live), "back": len(back),
            "restart_cmd_s": rounded(restarted_s), "all_back_s": rounded(all_back_s),
            "back_p50_s": rounded(percentile(back, 0.50)), "back_p99_s": rounded(percentile(back, 0.99)),
            "attempts": sum(self.attempts), "moved_queue": self.moved,
            "failures": count_reasons(self.failures[-1000:]),
        }
        for name, posted in self.phase_posts.items():
            counts = tally(self.inboxes, posted)
            line[f"posts_{name}"] = len(posted)
            for key, value in counts.items():
                line[f"{key}_{name}"] = value
        return line

    async def until_back(self, timeout):
        ended = time.perf_counter() + timeout
        while len(self.back_at) < len(self.live) and time.perf_counter() < ended:
            await asyncio.sleep(0.1)

    async def drain(self):
        """Until every tab has every post, or nothing came for --drain s (--drain-max in all)."""
        args = self.args
        started = time.perf_counter()
        posted = [client_id for posts in self.phase_posts.values() for client_id in posts]
        while time.perf_counter() - started < args.drain_max:
            if all(client_id in inbox.ids for inbox in self.inboxes for client_id in posted):
                return
            if time.perf_counter() - max(started, self.bench.last_event) >= args.drain:
                return
            await asyncio.sleep(0.1)

    # ---- the tabs ----

    async def keep_connected(self, index, tab):
        """Waits for the tab's socket to go, then signs it in again as the page does."""
        while True:
            while tab.client.failure is None:
                await asyncio.sleep(0.25)
            self.ready[index] = False
            await tab.client.close()
            attempt = 0
            while True:
                await asyncio.sleep(backoff_s(attempt, self.policy))
                attempt += 1
                self.attempts[index] += 1
                try:
                    await self.sign_in_again(index, tab)
                    break
                except Exception as error:  # noqa: BLE001: each failed attempt is counted
                    self.failures.append(reason_of(error))
                    await tab.client.close()
            self.ready[index] = True
            if self.restart_started is not None and index not in self.back_at:
                self.back_at[index] = time.perf_counter() - self.restart_started

    async def sign_in_again(self, index, tab):
        args = self.args
        tab.client = StompClient(tab.url, timeout=args.timeout)  # its own node again, as it signed in
        await tab.client.connect(tab.name, tab.token, args.vhost, heartbeat=(args.heartbeat, args.heartbeat))
        tab.client.on_message = lambda headers, body, i=index, t=tab: self.received(i, t, headers, body)
        if tab.stream is not None:
            await tab.subscribe_general()  # before the login request, from where the tab left off
        body = json.dumps({"action": "login", "login": tab.name, "session": tab.session, "resume": True})
        reply = json.loads(await tab.client.request(f"/exchange/{args.prefix}.in/{args.prefix}.login", body, tab.headers()))
        if not isinstance(reply, dict) or reply.get("ok") is not True or not reply.get("queue"):
            raise RuntimeError(f"the login service refused: {reply}")
        if reply["queue"] != tab.queue:
            self.moved += 1
            tab.queue = reply["queue"]
        await tab.client.subscribe(f"/amq/queue/{tab.queue}", ack="client-individual", prefetch=args.prefetch)

    # ---- the poster ----

    async def post_steadily(self):
        """Posts at --restart-rate from the first tab while the drill runs, through an outbox."""
        args = self.args
        poster = self.live[0]
        inbox = f"/exchange/{args.prefix}.in/{args.prefix}.inbox"
        sent_on = {}  # clientId -> the client it was sent on
        started = time.perf_counter()
        k = 0
        while self.phase != "done":
            delay = started + k / args.restart_rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.phase == "done":
                break
            client_id = str(uuid.uuid4())
            self.phase_posts[self.phase].append(client_id)
            body = json.dumps({"text": f"restart drill {k}", "clientId": client_id, "login": poster.name, "session": poster.session})
            self.outbox.append((client_id, body))
            k += 1
            if not self.ready[0] or poster.client.failure is not None:
                continue  # held until the poster is back
            # The page sends again, once back, what it sent on a socket that went before the
            # post came back to it.
            seen = self.inboxes[0].ids
            for held_id, held_body in list(self.outbox):
                if held_id in seen:
                    self.outbox.remove((held_id, held_body))
                    continue
                if sent_on.get(held_id) is poster.client:
                    continue
                try:
                    await poster.client.send(inbox, held_body, poster.headers({"persistent": "true"}))
                    sent_on[held_id] = poster.client
                except Exception:  # noqa: BLE001: the socket went; held for the next one
                    break
