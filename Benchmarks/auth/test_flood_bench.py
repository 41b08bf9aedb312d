"""Unit tests of the flood benchmark's bookkeeping (no server). Standard library only:

  python3 -m unittest discover -s Benchmarks/auth -p 'test_*.py'
"""

import unittest

from flood_bench import summary, table


def line(side, phase, p99, **extra):
    figures = {"n": 100, "p50_ms": 1.0, "p99_ms": p99, "max_ms": p99 * 2, "failed": 0}
    return {"side": side, "round": 1, "phase": phase, "config": dict(figures), "auth_user": dict(figures), **extra}


class FloodTests(unittest.TestCase):
    def test_a_summary_gives_the_percentiles_and_keeps_failures(self):
        figures = summary([float(value) for value in range(1, 101)], failed=3)
        self.assertEqual(figures, {"n": 100, "p50_ms": 50.0, "p99_ms": 99.0, "max_ms": 100.0, "failed": 3})
        self.assertEqual(summary([], failed=0)["p99_ms"], None)

    def test_the_table_puts_the_pool_off_beside_the_pool_on(self):
        lines = [
            line("off", "idle", 2.0), line("off", "flood", 4000.0, registered_per_s=2.4, statuses={"201": 50}),
            line("on", "idle", 2.5), line("on", "flood", 9.0, registered_per_s=2.9, statuses={"201": 42, "503": 900}),
        ]
        text = table(lines)
        self.assertIn("| GET /config.json, flood, p99 (ms) | 4,000.0 | 9.0 |", text)
        self.assertIn("| POST /auth/user, idle, p99 (ms) | 2.0 | 2.5 |", text)
        self.assertIn("| registrations made per second | 2.4 | 2.9 |", text)


if __name__ == "__main__":
    unittest.main()
