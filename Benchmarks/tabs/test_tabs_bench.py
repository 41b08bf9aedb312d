"""Unit tests of the tabs benchmark's parts that need no broker: option parsing, percentiles,
/proc readings, failure reasons, the fan-out bookkeeping, the table, general's stream as a tab
reads it (tabs_stream.py), and the STOMP frame handling it shares with Benchmarks/auth
(Benchmarks/shared/stomp_ws.py). Standard library only:

  python3 -m unittest discover -s Benchmarks/tabs -p 'test_*.py'
"""

import asyncio
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))

from figures import percentile  # noqa: E402
from stomp_ws import FrameBuffer, StompClient, StompFailure, encode_frame, negotiate_heartbeat  # noqa: E402
from tabs_book import (  # noqa: E402
    CPUMeter, FanoutBook, breakdown_mb, breakdown_per_tab_kib, broker_cpu, broker_pids, brokers_rss_kib, count_reasons, is_post_event,
    parse_counts, parse_pids, parse_rates, reason_of, signin_comparison, stat_cpu_seconds, status_rss_kib, stomp_urls, table,
)


class OptionTests(unittest.TestCase):
    def test_tab_counts_are_a_comma_list_within_bounds(self):
        self.assertEqual(parse_counts("100,1000, 5_000"), [100, 1000, 5000])
        for bad in ["", "0", "100,x", "-5", "20001", "1.5"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_counts(bad)

    def test_rates_are_positive_numbers(self):
        self.assertEqual(parse_rates("1,20"), [1.0, 20.0])
        self.assertEqual(parse_rates("0.5"), [0.5])
        for bad in ["", "0", "fast", "-1", "1001"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_rates(bad)

    def test_the_program_parses_its_defaults(self):
        from tabs_bench import parse_arguments

        args = parse_arguments([])
        self.assertEqual((args.counts, args.rate_list, args.heartbeat, args.prefetch), ([100, 1000], [1.0, 20.0], 10000, 50))


class FigureTests(unittest.TestCase):
    def test_percentile_is_the_nearest_rank(self):
        values = list(range(200, 0, -1))
        self.assertEqual(percentile(values, 0.50), 100)
        self.assertEqual(percentile(values, 0.99), 198)
        self.assertEqual(percentile(values, 1.0), 200)
        self.assertEqual(percentile([7], 0.99), 7)
        self.assertIsNone(percentile([], 0.5))

    def test_cpu_seconds_are_read_after_the_command_name(self):
        line = "4242 (beam.smp (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 30 0 1 0 0"
        self.assertEqual(stat_cpu_seconds(line, 100), 3.0)
        self.assertIsNone(stat_cpu_seconds("garbage", 100))

    def test_rss_is_read_from_status(self):
        self.assertEqual(status_rss_kib("Name:\tbeam.smp\nVmPeak:\t 9 kB\nVmRSS:\t  123456 kB\nThreads: 40\n"), 123456)
        self.assertIsNone(status_rss_kib("Name:\tzombie\n"))

    def test_memory_breakdown_is_read_and_compared_per_tab(self):
        before = breakdown_mb("Reporting memory breakdown on node x...\nbinary: 2.0 mb (3%)\nqueue_procs: 1.0 mb (1%)\n")
        after = breakdown_mb("connection_other: 64.0 mb (21.04%)\nbinary: 2.5 mb (8.52%)\nqueue_procs: 11.0 mb (3%)\n")
        self.assertEqual(before, {"binary": 2.0, "queue_procs": 1.0})
        self.assertEqual(breakdown_per_tab_kib(before, after, 200, top=2), {"connection_other": 327.7, "queue_procs": 51.2})
        self.assertEqual(breakdown_per_tab_kib(before, after, 0), {})

    def test_cpu_meter_reports_what_was_used_between_readings(self):
        readings = {1: [10.0, 12.5], 2: [None, None]}
        meter = CPUMeter({"broker": 1, "warren": 2, "none": None}, read=lambda pid: readings[pid].pop(0) if pid else None)
        self.assertEqual(meter.used(), {"broker": 2.5, "warren": None, "none": None})


class ReasonTests(unittest.TestCase):
    def test_reasons_lose_names_and_ids_so_tabs_share_them(self):
        a = reason_of(StompFailure("no reply from /amq/queue/chat.login within 30 s", "timeout"))
        b = reason_of(StompFailure("the login service refused bench12 for chat.user.bench12.AbC-d_ and req-77"))
        c = reason_of(StompFailure("the login service refused bench3 for chat.user.bench3.xYz and req-1"))
        self.assertEqual(a, "no reply from /amq/queue/chat.login within 30 s")
        self.assertEqual(b, c)
        self.assertEqual(count_reasons([a, b, c]), {b: 2, a: 1})
        self.assertEqual(reason_of(TimeoutError()), "TimeoutError")


class FanoutBookTests(unittest.TestCase):
    def test_every_tab_must_receive_every_post_once(self):
        book = FanoutBook(tabs=3, max_posts=2)
        self.assertEqual(book.sending("p0", 10.0), 0)
        self.assertEqual(book.sending("p1", 11.0), 1)
        self.assertIsNone(book.sending("p2", 12.0))  # the book is full
        for tab in range(3):
            book.delivered(tab, "p0", 10.010 + tab / 1000)
        self.assertFalse(book.complete())
        book.delivered(0, "p1", 11.5)
        book.delivered(0, "p1", 11.6)  # a duplicate
        book.delivered(1, "someone else's", 11.6)
        summary = book.summary()
        self.assertEqual((summary["posts"], summary["deliveries"], summary["missing"]), (2, 4, 2))
        self.assertEqual((summary["duplicates"], summary["strangers"]), (1, 1))
        self.assertEqual(summary["max_ms"], 500.0)
        self.assertEqual(summary["p50_ms"], 11.0)
        book.delivered(1, "p1", 11.7)
        book.delivered(2, "p1", 11.8)
        self.assertTrue(book.complete())
        self.assertEqual(book.missing(), 0)

    def test_room_events_are_read_for_kind_and_client_id(self):
        self.assertEqual(is_post_event(b'{"kind": "message", "id": "e7", "clientId": "c1", "text": "x"}'), ("message", "c1", "e7"))
        self.assertEqual(is_post_event(b'{"kind": "presence", "from": "bench1"}'), ("presence", None, None))
        self.assertEqual(is_post_event(b"[1]"), (None, None, None))
        self.assertEqual(is_post_event(b"\xff not json"), (None, None, None))


class TableTests(unittest.TestCase):
    def test_the_table_has_a_row_per_measurement_and_says_when_not_all_got_in(self):
        lines = [
            {"phase": "tokens", "tokens": 100, "concurrency": 4, "seconds": 9.5, "p50_ms": 350.0, "p99_ms": 700.0, "failed": 0,
             "cpu_s": {"warren": 30.0}},
            {"phase": "join", "tabs": 500, "in": 300, "failed": 200, "concurrency": "all at once", "p50_ms": 2000.0, "p99_ms": 9000.0,
             "reasons": {"login request: no reply from /amq/queue/chat.login within 30 s": 200}, "cpu_s": {"broker": 40.0}},
            {"phase": "settle", "tabs": 500, "rss_before_kib": 150000, "rss_in_kib": 450000, "rss_per_tab_kib": 1000.0,
             "events": 5, "events_since_join": 12345, "seconds": 4.2, "cpu_s": {}},
            {"phase": "fanout", "tabs": 500, "rate": 20.0, "posts": 400, "p50_ms": 40.0, "p99_ms": 90.0, "max_ms": 120.0,
             "missing": 0, "duplicates": 0, "cpu_s": {"broker": 5.0, "warren": 1.0, "bench": 9.0}},
        ]
        text = table(lines)
        self.assertIn("not all in: 300 of 500", text)
        self.assertIn("200× login request: no reply from /amq/queue/chat.login within 30 s", text)
        self.assertIn("**1,000 KiB per tab**; 12,345 deliveries", text)
        self.assertIn("| 500 | fan-out at 20 post/s | 400 posts, p50 40.0 ms, p99 90.0 ms, max 120 ms, missing **0**", text)
        self.assertIn("broker 5.00 s, warren 1.00 s, bench 9.00 s", text)


class ClusterTests(unittest.TestCase):
    """The parts that let the same tabs run on one node or spread over a cluster's nodes."""

    def test_broker_pids_are_one_or_a_comma_list_named_per_node(self):
        self.assertEqual(parse_pids(""), [])
        self.assertEqual(parse_pids("41, 42,43"), [41, 42, 43])
        for bad in ["x", "0", "41,-2"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_pids(bad)
        self.assertEqual(broker_pids([]), {"broker": None})
        self.assertEqual(broker_pids([41]), {"broker": 41})
        self.assertEqual(broker_pids([41, 42, 43]), {"broker1": 41, "broker2": 42, "broker3": 43})

    def test_the_brokers_rss_is_summed_over_the_nodes_and_unknown_when_one_is_unreadable(self):
        sizes = {41: 100, 42: 200, 43: 300, 7: 5000}
        pids = {**broker_pids([41, 42, 43]), "warren": 7}
        self.assertEqual(brokers_rss_kib(pids, read=sizes.get), 600)
        self.assertIsNone(brokers_rss_kib({**pids, "broker3": 99}, read=sizes.get))
        self.assertIsNone(brokers_rss_kib({"broker": None, "warren": 7}, read=lambda pid: None if pid is None else sizes[pid]))

    def test_broker_cpu_is_one_figure_or_the_nodes_sum_with_each(self):
        self.assertEqual(broker_cpu({"broker": 22.1, "warren": 3.0}), "22.1 s")
        self.assertEqual(broker_cpu({"broker1": 8.1, "broker2": 7.9, "broker3": 8.0, "bench": 1.0}), "24.0 s (8.10 + 7.90 + 8.00)")
        self.assertEqual(broker_cpu({"broker1": 8.1, "broker2": None}), "–")
        self.assertEqual(broker_cpu({}), "–")

    def test_the_endpoints_are_the_option_s_list_or_the_page_s_config(self):
        config = {"stompURL": "ws://a/ws", "stompURLs": ["ws://a/ws", "ws://b/ws", "ws://c/ws"]}
        self.assertEqual(stomp_urls("ws://x/ws, ws://y/ws", config), ["ws://x/ws", "ws://y/ws"])
        self.assertEqual(stomp_urls(None, config), ["ws://a/ws", "ws://b/ws", "ws://c/ws"])
        self.assertEqual(stomp_urls("", {"stompURL": "ws://a/ws"}), ["ws://a/ws"])  # a web role before stompURLs

    def test_the_comparison_is_redrawn_from_a_results_file(self):
        import contextlib
        import io
        import json
        import tempfile

        from tabs_bench import main

        joins = [{"phase": "join", "tabs": 10, "nodes": k, "in": 10, "failed": 0, "all_in_s": float(k)} for k in (1, 3)]
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as file:
            file.write("".join(json.dumps(line) + "\n" for line in joins))
        for option, expected in (("--compare", "| all in after | **1.00 s** | **3.00 s** |"), ("--table", "| 10 on 3 nodes | sign-in")):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(main([option, file.name]), 0)
            self.assertIn(expected, out.getvalue())
        Path(file.name).unlink()

    def test_tabs_go_round_the_clusters_web_stomp_endpoints(self):
        from types import SimpleNamespace

        from tabs_bench import Tab

        urls = ["ws://127.0.0.1:1/ws", "ws://127.0.0.1:2/ws", "ws://127.0.0.1:3/ws"]
        bench = SimpleNamespace(args=SimpleNamespace(stomp_urls=urls, timeout=1, general_stream=None))
        tabs = [Tab(bench, i, "bench1", "token") for i in range(7)]
        self.assertEqual([tab.client.url for tab in tabs], urls * 2 + urls[:1])

    def test_the_sign_in_on_one_node_and_on_three_is_shown_side_by_side(self):
        def join(nodes, **more):
            return {"phase": "join", "tabs": 1000, "nodes": nodes, "in": 1000, "failed": 0, "concurrency": "all at once",
                    "all_in_s": 11.9, "p50_ms": 5180.0, "p99_ms": 11800.0, "login_p50_ms": 3850.0, "login_p99_ms": 9610.0,
                    "cpu_s": {"broker": 22.1, "warren": 3.9, "bench": 4.1}, **more}

        lines = [
            join(1),
            {"phase": "settle", "tabs": 1000, "nodes": 1, "events_since_join": 43074, "rss_per_tab_kib": 352.0},
            join(3, failed=2, **{"in": 998, "reasons": {"login request: no reply": 2},
                                 "cpu_s": {"broker1": 9.0, "broker2": 8.0, "broker3": 7.5, "warren": 4.0, "bench": 4.2}}),
            join(1, tabs=50),  # one node count only: no comparison for 50
        ]
        text = signin_comparison(lines)
        rows = ["| | 1 node | 3 nodes |", "| all in after | **11.9 s** | not all in: 998 of 1,000 |",
                "| failed | 0 | 2 (2× login request: no reply) |",
                "| broker CPU in the sign-in (per node) | 22.1 s | 24.5 s (9.00 + 8.00 + 7.50) |",
                "| deliveries until quiet (backfill, presence) | 43,074 | – |"]
        for row in rows:
            self.assertIn(row, text)
        self.assertNotIn("50 tabs", text)
        self.assertEqual(signin_comparison([join(1)]), "")
        self.assertIn("| 1,000 on 3 nodes | sign-in", table(lines))


class FrameTests(unittest.TestCase):
    def test_a_frame_split_anywhere_comes_out_whole_with_its_headers_unescaped(self):
        frame = encode_frame("MESSAGE", {"subscription": "sub-1", "odd:name": "a\nb\\c"}, '{"text":"héllo"}')
        for cut in range(1, len(frame)):
            buffer = FrameBuffer()
            frames = buffer.feed(frame[:cut]) + buffer.feed(b"\n" + frame[cut:] if cut == len(frame) else frame[cut:])
            self.assertEqual(len(frames), 1, f"cut at {cut}")
            command, headers, body = frames[0]
            self.assertEqual((command, headers["odd:name"], body.decode()), ("MESSAGE", "a\nb\\c", '{"text":"héllo"}'))

    def test_a_lone_heart_beat_is_no_frame_and_does_not_stick_to_the_next(self):
        buffer = FrameBuffer()
        self.assertEqual(buffer.feed(b"\n"), [])
        self.assertEqual(buffer.feed(b"\r\n"), [])
        frames = buffer.feed(b"RECEIPT\nreceipt-id:subscribed-3\n\n\0")
        self.assertEqual(frames, [("RECEIPT", {"receipt-id": "subscribed-3"}, b"")])

    def test_heart_beats_are_negotiated_as_stomp_1_2_says(self):
        self.assertEqual(negotiate_heartbeat((10000, 10000), "4000,4000"), (10000, 10000))
        self.assertEqual(negotiate_heartbeat((10000, 10000), "0,20000"), (20000, 0))
        self.assertEqual(negotiate_heartbeat((0, 0), "10000,10000"), (0, 0))
        self.assertEqual(negotiate_heartbeat((10000, 10000), None), (0, 0))
        self.assertEqual(negotiate_heartbeat((10000, 10000), "junk"), (0, 0))

    def test_a_request_expires_when_the_client_stops_waiting(self):
        sent = []

        async def scenario():
            client = StompClient("ws://unused", timeout=1.5)

            def capture(command, headers, body=b""):
                sent.append((command, headers))
                client._replies[headers["correlation-id"]].set_result(b"{}")

            client._send = capture
            await client.request("/amq/queue/chat.login", "{}", {"user-id": "bob"})

        asyncio.run(scenario())
        self.assertEqual(sent[0][1]["expiration"], "1500")
        self.assertEqual(sent[0][1]["user-id"], "bob")

    def test_a_message_reaches_a_plain_handler_and_a_reply_its_request(self):
        received = []

        async def scenario():
            client = StompClient("ws://unused", timeout=1)
            client.on_message = lambda headers, body: received.append((headers["subscription"], body))
            client._dispatch("MESSAGE", {"subscription": "sub-1"}, b"{}")
            reply = asyncio.get_running_loop().create_future()
            client._replies["req-1"] = reply
            client._dispatch("MESSAGE", {"subscription": "/temp-queue/replies", "correlation-id": "req-1"}, b'{"ok":true}')
            self.assertEqual(reply.result(), b'{"ok":true}')
            waiting = asyncio.get_running_loop().create_future()
            client._receipts["subscribed-2"] = waiting
            client._dispatch("ERROR", {"message": "access refused"}, b"no")
            self.assertEqual(waiting.exception().kind, "error")

        asyncio.run(scenario())
        self.assertEqual(received, [("sub-1", b"{}")])


if __name__ == "__main__":
    unittest.main()


class RestartDrillTests(unittest.TestCase):
    def test_the_backoff_is_the_pages(self):
        from tabs_restart import backoff_s, page_backoff

        policy = page_backoff()
        self.assertEqual(policy, (1000.0, 2.0, 8000.0, 1.0))  # web/stomp-timing.js DEFAULT_BACKOFF

        class Fixed:
            def __init__(self, value):
                self.value = value

            def random(self):
                return self.value

        self.assertAlmostEqual(backoff_s(0, policy, Fixed(0.0)), 1.0)
        self.assertAlmostEqual(backoff_s(3, policy, Fixed(0.5)), 4.0)
        self.assertAlmostEqual(backoff_s(10, policy, Fixed(0.0)), 8.0)  # capped
        self.assertAlmostEqual(backoff_s(10, policy, Fixed(0.999999)), 0.0, places=3)  # full jitter

    def test_a_tab_counts_live_and_backfilled_posts_by_event_id(self):
        import json

        from tabs_restart import Inbox, tally

        inbox = Inbox()
        inbox.take(json.dumps({"kind": "message", "id": "e1", "clientId": "a"}))
        inbox.take(json.dumps({"kind": "backfill", "events": [
            {"kind": "message", "id": "e1", "clientId": "a"},  # the same event again
            {"kind": "message", "id": "e2", "clientId": "b"},
            {"kind": "presence", "id": "e3", "text": "x joined"},
        ]}))
        inbox.take(json.dumps({"kind": "message", "id": "e4", "clientId": "b"}))  # b under a second id
        inbox.take("not json")
        self.assertEqual(tally([inbox], ["a", "b", "c"]), {"missing": 1, "twice": 1, "redelivered": 1})

    def test_rates_none_means_no_fanout_and_restarts_need_their_command(self):
        from tabs_bench import parse_arguments

        self.assertEqual(parse_rates("none"), [])
        args = parse_arguments(["--rates", "none", "--restarts", "graceful,kill", "--restart-cmd-graceful", "g", "--restart-cmd-kill", "k"])
        self.assertEqual(args.restart_list, ["graceful", "kill"])
        import contextlib
        import io

        for bad in (["--restarts", "kill"], ["--restarts", "reboot", "--restart-cmd-kill", "k"]):
            with self.assertRaises(SystemExit, msg=bad), contextlib.redirect_stderr(io.StringIO()):
                parse_arguments(bad)


class GeneralStreamPartsTests(unittest.TestCase):
    """tabs_stream.py: whether general comes through one stream (/config.json's word), web/rules.json's
    terms, a tab's offsets and ACK count, and an event counted once whichever way it came."""

    def test_the_stream_is_config_json_s_general_stream_and_absent_means_tab_queues(self):
        from tabs_stream import delivery_path, general_stream

        self.assertEqual(general_stream({"vhost": "warren", "generalStream": "chat.stream.general"}), "chat.stream.general")
        self.assertIsNone(general_stream({"vhost": "warren", "prefix": "chat"}))
        for bad in ("", "  ", 5, ["chat.stream.general"]):
            with self.assertRaises(ValueError, msg=bad):
                general_stream({"generalStream": bad})
        self.assertEqual(delivery_path("chat.stream.general"), "general: stream chat.stream.general")
        self.assertEqual(delivery_path(None), "general: tab queues")

    def test_the_stream_terms_are_read_from_web_rules_json(self):
        import json
        import tempfile

        from tabs_stream import RULES, stream_terms

        rules = json.loads(RULES.read_text(encoding="utf-8"))
        self.assertEqual(stream_terms(), (rules["streamPrefetch"], rules["streamAckEvery"]))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "rules.json"
            path.write_text(json.dumps({"streamPrefetch": 40, "streamAckEvery": 7}))
            self.assertEqual(stream_terms(path), (40, 7))
            for bad in ({"streamPrefetch": 40}, {"streamPrefetch": 10, "streamAckEvery": 10}, {"streamPrefetch": 10, "streamAckEvery": 0},
                        {"streamPrefetch": "100", "streamAckEvery": 10}):
                path.write_text(json.dumps(bad))
                with self.assertRaises(ValueError, msg=bad):
                    stream_terms(path)

    def test_offsets_resume_after_the_newest_seen_and_each_subscribe_starts_the_ack_count_again(self):
        from tabs_stream import StreamReader

        reader = StreamReader("chat.stream.general", 100, 3)
        self.assertEqual(reader.destination, "/amq/queue/chat.stream.general")
        self.assertEqual(reader.start_offset(), "next")
        for offset in (7, 9, 8):  # the newest counts, whatever the order
            reader.taken({"x-stream-offset": str(offset), "ack": "a"})
        reader.taken({"ack": "a"})  # no offset: nothing to resume from
        self.assertEqual(reader.newest, 9)
        self.assertEqual(reader.start_offset(), "offset=10")
        self.assertEqual(reader.unacked, 0)
        self.assertEqual([reader.taken({"x-stream-offset": "10", "ack": "a"}) for _ in range(3)], [False, False, True])

    def test_arrivals_count_an_event_once_across_the_two_ways(self):
        from tabs_stream import QUEUE, STREAM, Arrivals

        arrivals = Arrivals()
        self.assertTrue(arrivals.counts("e1", STREAM))
        self.assertFalse(arrivals.counts("e1", QUEUE))
        self.assertTrue(arrivals.counts("e1", STREAM))  # a redelivery the same way is still seen
        self.assertTrue(arrivals.counts("e2", QUEUE))
        self.assertFalse(arrivals.counts("e2", STREAM))
        self.assertTrue(arrivals.counts(None, QUEUE))
        self.assertTrue(arrivals.counts(None, STREAM))


class FakeClient:
    """Stands in for StompClient in the stream tests: records what a tab sends, in order."""

    def __init__(self, url="ws://unused", timeout=1, reply=None):
        self.url = url
        self.on_message = None
        self.failure = None
        self.calls = []
        self.reply = reply or {"ok": True, "queue": "chat.user.bench1.s1"}

    async def connect(self, login, passcode, host, heartbeat=(0, 0)):
        self.calls.append(("CONNECT", login))
        return 1.0, 2.0

    async def subscribe(self, destination, ack="client-individual", prefetch=50, extra=None, subscription=None):
        self.calls.append(("SUBSCRIBE", destination, ack, prefetch, dict(extra or {}), subscription))

    async def request(self, destination, body, headers):
        import json

        self.calls.append(("SEND", destination, json.loads(body)))
        return json.dumps(self.reply)

    def ack_now(self, headers):
        self.calls.append(("ACK", headers["ack"]))
        return "acked"


def stream_bench(stream="chat.stream.general", terms=(100, 10)):
    """A Bench stand-in with what a Tab reads; stream None: general through the tab queues."""
    from types import SimpleNamespace

    args = SimpleNamespace(stomp_urls=["ws://127.0.0.1:1/ws"], timeout=1, general_stream=stream, stream_terms=terms if stream else None,
                           prefetch=50, vhost="warren", heartbeat=0, prefix="chat", nodes=1)
    return SimpleNamespace(args=args, events=0, last_event=0.0, book=None)


def stream_tab(bench, index=0):
    from tabs_bench import Tab

    tab = Tab(bench, index, "bench1", "token")
    tab.client = FakeClient()
    return tab


def stream_message(offset, ack, event_id=None, client_id=None):
    """(headers, body) of a MESSAGE from general's stream."""
    import json

    body = json.dumps({"kind": "message", "id": event_id, "clientId": client_id}).encode() if event_id else b"{}"
    return {"subscription": "general-stream", "x-stream-offset": str(offset), "ack": ack}, body


class GeneralStreamTabTests(unittest.TestCase):
    """A tab of tabs_bench.py reading general's stream as the page does (WARREN_GENERAL_STREAM=on)."""

    def test_the_run_says_which_way_general_came_and_a_stream_run_cannot_pass_for_the_other(self):
        from tabs_bench import parse_arguments, read_general
        from tabs_stream import stream_terms

        args = parse_arguments([])
        self.assertEqual((args.expect_general_stream, args.general_stream), (False, None))
        self.assertEqual(read_general(args, {"vhost": "warren"}), "general: tab queues")
        self.assertIsNone(args.general_stream)
        header = read_general(args, {"generalStream": "chat.stream.general"})
        prefetch, every = stream_terms()
        self.assertEqual(header, f"general: stream chat.stream.general (prefetch {prefetch}, an ACK every {every}: web/rules.json)")
        self.assertEqual((args.general_stream, args.stream_terms), ("chat.stream.general", (prefetch, every)))
        expecting = parse_arguments(["--general-stream"])
        self.assertTrue(expecting.expect_general_stream)
        with self.assertRaises(SystemExit):
            read_general(expecting, {"vhost": "warren"})  # a warren without the option: no tab-queue figures under a stream's name
        with self.assertRaises(SystemExit):
            read_general(expecting, {"generalStream": ""})

    def test_only_a_stream_run_s_lines_and_rows_carry_the_stream(self):
        import contextlib
        import io

        from tabs_bench import emit

        lines = []
        with contextlib.redirect_stdout(io.StringIO()) as out:
            emit({"phase": "fanout", "tabs": 10}, lines, stream_bench(None).args)
            emit({"phase": "fanout", "tabs": 10}, lines, stream_bench().args)
        self.assertEqual(lines[0], {"phase": "fanout", "tabs": 10, "nodes": 1})  # as before the stream
        self.assertEqual(lines[1]["general_stream"], "chat.stream.general")
        self.assertIn('"general_stream": "chat.stream.general"', out.getvalue().splitlines()[1])
        fanout = {"phase": "fanout", "tabs": 1000, "rate": 1.0, "posts": 20, "missing": 0, "duplicates": 0}
        self.assertIn("| 1,000 | fan-out at 1 post/s |", table([fanout]))
        self.assertIn("| 1,000, general by stream | fan-out at 1 post/s |", table([{**fanout, "general_stream": "chat.stream.general"}]))

    def test_the_stream_is_subscribed_before_the_login_request_from_the_next_event(self):
        tab = stream_tab(stream_bench())
        asyncio.run(tab.sign_in())
        self.assertIsNone(tab.failure)
        commands = [call[0] for call in tab.client.calls]
        self.assertEqual(commands, ["CONNECT", "SUBSCRIBE", "SEND", "SUBSCRIBE"])
        self.assertEqual(tab.client.calls[1], ("SUBSCRIBE", "/amq/queue/chat.stream.general", "client", 100,
                                               {"x-stream-offset": "next"}, "general-stream"))
        self.assertEqual(tab.client.calls[3][1:4], ("/amq/queue/chat.user.bench1.s1", "client-individual", 50))
        self.assertIsNotNone(tab.times[5])

    def test_without_a_stream_the_sign_in_is_as_before(self):
        tab = stream_tab(stream_bench(None))
        asyncio.run(tab.sign_in())
        self.assertEqual([call[0] for call in tab.client.calls], ["CONNECT", "SEND", "SUBSCRIBE"])
        self.assertIsNone(tab.stream)
        self.assertIsNone(tab.times[5])
        self.assertEqual(tab.acknowledge({"ack": "q1"}, tab.source_of({"subscription": "sub-3", "ack": "q1"})), "acked")

    def test_the_stream_is_acked_cumulatively_every_stream_ack_every_and_the_tab_queue_every_time(self):
        tab = stream_tab(stream_bench(terms=(100, 4)))
        results = []
        for offset in range(10):
            headers, body = stream_message(offset, f"s{offset}")
            results.append(tab.received(headers, body))
        tab.received({"subscription": "sub-2", "ack": "q1"}, b"{}")  # the tab queue's own
        acks = [call[1] for call in tab.client.calls if call[0] == "ACK"]
        self.assertEqual(acks, ["s3", "s7", "q1"])  # one ACK per 4, with the newest message's id
        self.assertEqual(results.count("acked"), 2)
        self.assertEqual(tab.stream.newest, 9)
        self.assertEqual(tab.bench.events, 11)

    def test_a_post_is_counted_once_per_event_id_whichever_way_it_came(self):
        from tabs_bench import Tab
        from tabs_stream import Arrivals

        bench = stream_bench()
        bench.book = FanoutBook(tabs=2, max_posts=3)
        for k in range(3):
            bench.book.sending(f"p{k}", 0.0)
        tabs = [stream_tab(bench, i) for i in range(2)]
        for tab in tabs:
            tab.arrivals = Arrivals()
        queue = {"subscription": "sub-2", "ack": "q"}
        import json

        def post(k, event_id):
            return json.dumps({"kind": "message", "id": event_id, "clientId": f"p{k}"}).encode()

        tabs[0].received(*stream_message(1, "s1", "e0", "p0"))
        tabs[0].received(queue, post(0, "e0"))  # the backfill's copy of the same event: shown once
        tabs[1].received(queue, post(0, "e0"))
        tabs[1].received(*stream_message(1, "s1", "e0", "p0"))  # the other order
        tabs[0].received(*stream_message(2, "s2", "e1", "p1"))
        tabs[0].received(*stream_message(2, "s2", "e1", "p1"))  # the same way again: a duplicate, as before
        tabs[1].received(*stream_message(3, "s3", "e2", "p2"))
        tabs[1].received(queue, post(2, "e9"))  # under another event id: the page would show it twice
        self.assertEqual((bench.book.deliveries, bench.book.duplicates, bench.book.missing()), (4, 2, 2))
        self.assertFalse(Tab(stream_bench(None), 0, "bench1", "t").arrivals)  # no bookkeeping without a stream


class GeneralStreamRestartTests(unittest.TestCase):
    """The restart storm with general's stream: offsets resumed, the two ways counted once."""

    def test_the_restart_storm_counts_the_two_ways_once_per_event_id(self):
        import json

        from tabs_restart import Inbox, tally
        from tabs_stream import STREAM

        inbox = Inbox()
        inbox.take(json.dumps({"kind": "message", "id": "e1", "clientId": "a"}), STREAM)
        inbox.take(json.dumps({"kind": "backfill", "events": [{"kind": "message", "id": "e1", "clientId": "a"}]}))  # shown once
        inbox.take(json.dumps({"kind": "message", "id": "e2", "clientId": "b"}), STREAM)
        inbox.take(json.dumps({"kind": "message", "id": "e2", "clientId": "b"}), STREAM)  # the stream again: redelivered
        self.assertEqual(tally([inbox], ["a", "b"]), {"missing": 0, "twice": 0, "redelivered": 1})

    def test_a_reconnecting_tab_subscribes_the_stream_again_after_the_newest_offset_before_its_login(self):
        from unittest import mock

        import tabs_restart
        from tabs_restart import RestartDrill

        bench = stream_bench()
        tab = stream_tab(bench)
        asyncio.run(tab.sign_in())
        for offset in (40, 41):
            tab.received(*stream_message(offset, f"s{offset}"))
        drill = RestartDrill(bench, [tab], "kill")
        with mock.patch.object(tabs_restart, "StompClient", FakeClient):
            asyncio.run(drill.sign_in_again(0, tab))
        calls = tab.client.calls
        self.assertEqual([call[0] for call in calls], ["CONNECT", "SUBSCRIBE", "SEND", "SUBSCRIBE"])
        self.assertEqual(calls[1][1:], ("/amq/queue/chat.stream.general", "client", 100, {"x-stream-offset": "offset=42"}, "general-stream"))
        self.assertTrue(calls[2][2]["resume"])
        headers, body = stream_message(42, "s42")
        drill.received(0, tab, headers, body)  # the drill's deliveries go through the same cumulative ACKs
        self.assertEqual(tab.stream.newest, 42)
        self.assertEqual(tab.stream.unacked, 1)
