"""Unit tests of the fan-out probe's parts that need no broker: modes, message bodies, the
stream subscription's headers, options and the table. Standard library only:

  python3 -m unittest discover -s Benchmarks/tabs -p 'test_*.py'
"""

import asyncio
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))

from fanout_probe import Probe, Tab, make_body, parse_arguments, parse_delivery, table, topology_of  # noqa: E402


class ModeTests(unittest.TestCase):
    def test_a_mode_is_a_topology_with_an_optional_broker_setting(self):
        self.assertEqual(topology_of("queues"), "queues")
        self.assertEqual(topology_of("stream-nometrics"), "stream")
        for bad in ["", "quorum", "streams"]:
            with self.assertRaises(ValueError, msg=bad):
                topology_of(bad)

    def test_options_are_checked(self):
        args = parse_arguments(["--mode", "stream", "--connections", "5000"])
        self.assertEqual((args.mode, args.connections, args.rate, args.prefetch), ("stream", 5000, 2, 50))
        self.assertEqual(parse_arguments(["--ack", "client", "--ack-every", "10"]).ack_every, 10)
        for bad in [["--mode", "lazy"], ["--connections", "0"], ["--rate", "0"], ["--concurrency", "-1"],
                    ["--ack-every", "10"], ["--ack", "client", "--ack-every", "51"], ["--ack", "client", "--ack-every", "0"]]:
            with self.assertRaises(SystemExit, msg=bad):
                parse_arguments(bad)


class BodyTests(unittest.TestCase):
    def test_a_body_holds_its_number_and_time_and_has_the_size_asked(self):
        body = make_body(41, 300)
        self.assertEqual(len(body), 300)
        number, sent, _ = body.split(" ", 2)
        self.assertEqual(number, "41")
        self.assertGreater(float(sent), 1e9)
        self.assertEqual(parse_delivery(body.encode()), "41")
        self.assertTrue(make_body(7, 1).startswith("7 "))  # never cut short of its number


class SubscriptionTests(unittest.TestCase):
    def subscribed(self, mode, index):
        sent = []

        async def scenario():
            probe = Probe(parse_arguments(["--mode", mode, "--prefetch", "7"]))
            tab = Tab(probe, index)

            def capture(command, headers, body=b""):
                sent.append((command, headers))
                tab.client._receipts[headers["receipt"]].set_result({})

            tab.client._send = capture
            destination, extra = tab.destination()
            await tab.client.subscribe(destination, ack="client-individual", prefetch=7, extra=extra)

        asyncio.run(scenario())
        return sent[0][1]

    def test_a_stream_is_read_from_the_next_message_with_acks_and_a_prefetch(self):
        headers = self.subscribed("stream-nometrics", 3)
        self.assertEqual(headers["destination"], "/amq/queue/probe.stream")
        self.assertEqual(headers["x-stream-offset"], "next")
        self.assertEqual((headers["ack"], headers["prefetch-count"]), ("client-individual", "7"))

    def test_each_connection_reads_its_own_queue(self):
        headers = self.subscribed("queues", 12)
        self.assertEqual(headers["destination"], "/amq/queue/probe.tab.12")
        self.assertNotIn("x-stream-offset", headers)


class AckTests(unittest.TestCase):
    def test_with_ack_every_k_only_every_kth_message_is_acknowledged(self):
        acked = []

        async def scenario():
            probe = Probe(parse_arguments(["--mode", "stream", "--ack", "client", "--ack-every", "3"]))
            tab = Tab(probe, 0)

            def capture(frame, command):
                self.assertEqual(command, "ACK")
                acked.append(frame.split(b"\nid:")[1].split(b"\n")[0].decode())

            tab.client._write = capture
            for number in range(7):
                tab.received({"ack": f"m{number}"}, f"{number} 0 x".encode())  # a plain function: ACKs written at once

        asyncio.run(scenario())
        self.assertEqual(acked, ["m2", "m5"])


class TableTests(unittest.TestCase):
    def test_the_first_mode_is_the_baseline_of_the_others(self):
        base = {"mode": "queues", "connections": 1000, "rate": 2, "seconds": 30, "connected": 1000, "connect_all_s": 1.4,
                "deliveries_per_s": 2000, "needed_per_s": 2000, "latency_p50_ms": 135.0, "latency_p99_ms": 750.0,
                "latency_max_ms": 1209.0, "missing": 0, "broker_cpu_ms_per_1000": 336.0, "fanout_cpu_s": {"broker": 20.2, "probe": 3.2}}
        other = {**base, "mode": "stream", "latency_p99_ms": 375.0, "broker_cpu_ms_per_1000": 168.0, "missing": 5, "connect_all_s": None}
        rows = table([base, other]).splitlines()
        self.assertIn("Baseline: the first row (queues)", rows[0])
        self.assertEqual(len(rows), 6)
        self.assertIn("| stream |", rows[5])
        self.assertIn("375 (×0.50)", rows[5])
        self.assertIn("168 (×0.50)", rows[5])
        self.assertIn("1,000 (–)", rows[5])  # not all in: no all-in time
        self.assertIn("| 5 |", rows[5])
        self.assertEqual(table([]), "(no runs)")


if __name__ == "__main__":
    unittest.main()
