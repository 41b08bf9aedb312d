"""General through one stream (WARREN_GENERAL_STREAM=on): what a tab does as the page does.

When /config.json names `generalStream`, every event of the room general goes to that one stream
queue instead of each tab's queue, and every tab reads it: SUBSCRIBE /amq/queue/<stream> with
ack client, prefetch-count streamPrefetch and x-stream-offset next, on its connection and before
its login request (what the backfill misses comes live). Every MESSAGE carries its
x-stream-offset; after a reconnect the tab subscribes again from the one after the newest it saw
(offset=<n + 1>). It ACKs cumulatively: one ACK, with the newest message's ack id, once
streamAckEvery deliveries are un-acked. An event may reach a tab both ways (the backfill on its
queue, and the stream); the page shows it once, by event id. The numbers are web/rules.json's.
Pure parts, tested in test_tabs_bench.py; Benchmarks/tabs/fanout_probe.py measured the topology
with the broker alone.
"""

import json
from pathlib import Path

RULES = Path(__file__).resolve().parents[2] / "web" / "rules.json"
QUEUE, STREAM = "queue", "stream"  # the two ways an event reaches a tab
SUBSCRIPTION = "general-stream"  # the stream subscription's id, which its MESSAGE frames carry


def general_stream(config):
    """The stream queue general is read from (/config.json's generalStream), or None when the
    option is off and general comes through the tab queues."""
    name = config.get("generalStream")
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"/config.json's generalStream is not a queue name: {name!r}")
    return name


def delivery_path(stream):
    """How general reaches the tabs, for the run's header: never mix the two up."""
    return f"general: stream {stream}" if stream else "general: tab queues"


def stream_terms(path=RULES):
    """(streamPrefetch, streamAckEvery) of web/rules.json, the page's one source for them."""
    rules = json.loads(Path(path).read_text(encoding="utf-8"))
    try:
        prefetch, every = rules["streamPrefetch"], rules["streamAckEvery"]
    except KeyError:
        raise ValueError(f"{path} has no streamPrefetch and streamAckEvery") from None
    if not all(isinstance(value, int) for value in (prefetch, every)) or not 1 <= every < prefetch:
        raise ValueError(f"{path}: streamAckEvery ({every}) must be at least 1 and fewer than streamPrefetch ({prefetch})")
    return prefetch, every


class StreamReader:
    """One tab's place in general's stream and its cumulative ACKs."""

    def __init__(self, name, prefetch, ack_every):
        self.destination = f"/amq/queue/{name}"
        self.prefetch = prefetch
        self.ack_every = ack_every
        self.newest = None  # the newest x-stream-offset delivered, over every connection of the tab
        self.unacked = 0

    async def subscribe(self, client):
        """SUBSCRIBE the stream on `client` (a stomp_ws.StompClient) as the page does: ack client,
        prefetch, from start_offset(), with the id SUBSCRIPTION its MESSAGE frames carry."""
        await client.subscribe(self.destination, ack="client", prefetch=self.prefetch,
                               extra={"x-stream-offset": self.start_offset()}, subscription=SUBSCRIPTION)

    def start_offset(self):
        """x-stream-offset of a new SUBSCRIBE: "next" the first time, the one after the newest
        seen after a reconnect. Un-acked deliveries went with the old connection."""
        self.unacked = 0
        return "next" if self.newest is None else f"offset={self.newest + 1}"

    def taken(self, headers):
        """Records one MESSAGE of the stream; True when it is time for the cumulative ACK (with
        this message's ack id: the newest)."""
        offset = headers.get("x-stream-offset", "")
        if offset.isdigit() and (self.newest is None or int(offset) > self.newest):
            self.newest = int(offset)
        self.unacked += 1
        if self.unacked < self.ack_every:
            return False
        self.unacked = 0
        return True


class Arrivals:
    """Which way each event first reached one tab, by event id. The page shows an event once
    whichever way it came, so one that already came the other way is not counted again; the
    same event again the same way is (a redelivery, as without the stream)."""

    def __init__(self):
        self.way = {}

    def counts(self, event_id, source):
        """Whether this delivery of `event_id` by `source` (QUEUE or STREAM) is counted."""
        if event_id is None:
            return True
        return self.way.setdefault(event_id, source) == source
