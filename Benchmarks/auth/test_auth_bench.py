"""Unit tests of the auth benchmark's pieces that need no broker: STOMP frames, the bookkeeping
of posts, percentiles and the table. Standard library only:

  python3 -m unittest discover -s Benchmarks/auth -p 'test_*.py'
"""

import asyncio
import unittest

from auth_bench import PostRun, percentile
from stomp_ws import FrameBuffer, encode_frame, escape, unescape
from table import table


class FrameTests(unittest.TestCase):
    def test_a_frame_split_anywhere_comes_out_whole_with_its_headers_unescaped(self):
        frame = encode_frame("SEND", {"destination": "/amq/queue/chat.inbox", "odd:name": "a\nb\\c"}, "héllo\0x")
        for cut in range(1, len(frame)):
            buffer = FrameBuffer()
            frames = buffer.feed(b"\n" + frame[:cut]) + buffer.feed(frame[cut:])
            self.assertEqual(len(frames), 1, f"cut at {cut}")
            command, headers, body = frames[0]
            self.assertEqual(command, "SEND")
            self.assertEqual(headers["odd:name"], "a\nb\\c")
            self.assertEqual(headers["content-length"], str(len("héllo\0x".encode())))
            self.assertEqual(body.decode(), "héllo\0x")

    def test_heart_beats_between_frames_are_skipped_and_a_body_may_end_at_the_nul(self):
        buffer = FrameBuffer()
        frames = buffer.feed(b"\n\r\nRECEIPT\nreceipt-id:send-1\n\n\0\nMESSAGE\nack:7\n\n{}\0")
        self.assertEqual([(c, h) for c, h, _ in frames], [("RECEIPT", {"receipt-id": "send-1"}), ("MESSAGE", {"ack": "7"})])
        self.assertEqual(frames[1][2], b"{}")

    def test_connect_headers_are_not_escaped(self):
        self.assertIn(b"passcode:a:b\n", encode_frame("CONNECT", {"passcode": "a:b"}))

    def test_escape_and_unescape_are_inverse(self):
        for value in ["plain", "a:b", "line\nbreak\r", "back\\slash", "\\c literal"]:
            self.assertEqual(unescape(escape(value)), value)


class PostRunTests(unittest.TestCase):
    def test_a_post_completes_once_every_browser_has_it_and_its_echo_frees_the_senders_window(self):
        class Sender:
            window = asyncio.Semaphore(1)

        sender, other = Sender(), object()
        run = PostRun(browsers_count=2)
        asyncio.run(sender.window.acquire())
        run.sending("c1", sender)
        run.delivered(other, b'{"kind": "message", "clientId": "c1"}')
        self.assertTrue(sender.window.locked())
        self.assertEqual((run.deliveries, run.posts_complete), (1, 0))
        run.delivered(sender, b'{"kind": "message", "clientId": "c1"}')
        self.assertFalse(sender.window.locked())
        self.assertEqual((run.deliveries, run.posts_complete, len(run.pending)), (2, 1, 0))
        run.delivered(sender, b'{"kind": "reply", "clientId": "c1"}')
        run.delivered(sender, b"not json")
        run.delivered(sender, b"[1, 2]")
        self.assertEqual((run.deliveries, run.other_events, len(run.latencies)), (2, 3, 2))


class FigureTests(unittest.TestCase):
    def test_percentile_is_the_nearest_rank(self):
        values = list(range(1, 201))
        self.assertEqual(percentile(values, 0.50), 100)
        self.assertEqual(percentile(values, 0.99), 198)
        self.assertEqual(percentile([5], 0.99), 5)
        self.assertIsNone(percentile([], 0.5))

    def test_the_table_puts_medians_of_rounds_side_by_side(self):
        def posts(auth, round_, rate):
            return {"measure": "posts", "auth": auth, "round": round_, "browsers": 10, "window": 20,
                    "posts_per_s": rate, "deliveries_per_s": rate * 10, "p50_ms": 4.0, "p99_ms": 9.0,
                    "join_p50_ms": 1.0, "missing_posts": 0}

        lines = [posts("on", 1, 40.0), posts("on", 2, 60.0), posts("on", 3, 80.0), posts("off", 1, 100.0),
                 {"measure": "connect", "auth": "on", "connections": 200, "interleaved": ["off", "on"], "p50_ms": 12.5},
                 {"measure": "connect", "auth": "off", "connections": 200, "interleaved": ["off", "on"], "p50_ms": 10.0}]
        text = table(lines)
        self.assertIn("| 10 browsers, window 20 each: posts/s | 60.0 | 100 | 60% of off | 40.0, 60.0, 80.0 / 100 |", text)
        self.assertIn("| CONNECT→CONNECTED, 200 sequential (on and off taking turns): p50 | 12.50 ms | 10.00 ms | +2.50 ms |", text)
        self.assertNotIn("not delivered", text)


if __name__ == "__main__":
    unittest.main()
