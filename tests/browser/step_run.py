"""The steps of a real-browser test run in order, each counted passed or failed (Run, which also
starts the pages and prints the last line), and the
check of the pages' consoles (console_problems). test_chat.py and test_cluster.py use them.
"""

import re
import tempfile
import time
import traceback

from selenium.common.exceptions import UnexpectedAlertPresentException

from browser_user import Failure, open_pages


class Run:
    def __init__(self, summary):
        self.summary = summary  # the last line's name: `SUMMARY: N passed, N failed`
        self.passed, self.failed = 0, 0
        self.blocked = None  # set when a step fails that later steps depend on

    def step(self, name, fn, *, essential=False):
        if self.blocked:
            print(f"SKIP {name} (after: {self.blocked})")
            self.failed += 1
            return
        started = time.monotonic()
        try:
            fn()
        except (Failure, AssertionError) as error:
            self.failed += 1
            print(f"FAIL {name} ({time.monotonic() - started:.1f} s): {error}")
            if essential:
                self.blocked = name
        except UnexpectedAlertPresentException as error:
            self.failed += 1
            print(f"FAIL {name}: a JavaScript alert opened (script injection?): {error.alert_text}")
            if essential:
                self.blocked = name
        except Exception:  # noqa: BLE001 - a crashed step is a failed step
            self.failed += 1
            print(f"FAIL {name}: unexpected error")
            traceback.print_exc(limit=4)
            if essential:
                self.blocked = name
        else:
            self.passed += 1
            print(f"ok   {name} ({time.monotonic() - started:.1f} s)")

    def pages(self, names, url):
        """The Users of `names` (open_pages; their profiles in a new temporary folder, self.tmp),
        or None when Chromium did not start (counted failed)."""
        self.tmp = tempfile.mkdtemp(prefix="warren-browser-")
        try:
            return open_pages(names, url, self.tmp)
        except Exception as error:  # noqa: BLE001
            self.failed += 1
            print(f"FAIL starting Chromium: {error}")
            return None

    def report(self):
        """Prints the last line, `SUMMARY: N passed, N failed`, and returns the exit status."""
        print(f"{self.summary}: {self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1


def console_problems(users, allowed):
    """Reads every page's console and returns the SEVERE lines that are neither a failed
    connection attempt while that page was cut off (User.expected_offline) nor matched by a regex
    of `allowed`; prints the expected, allowed and WARNING lines."""
    bad = []
    for u in users:
        u.drain_log()
        for entry in u.console:
            line = f"{u.name} {entry.get('level')} {entry.get('source', '')}: {entry.get('message')}"
            if entry.get("level") == "SEVERE":
                if u.expected_offline(entry):
                    print(f"  expected: {line}")
                elif any(re.search(p, entry.get("message", "")) for p in allowed):
                    print(f"  allowed: {line}")
                else:
                    bad.append(line)
            elif entry.get("level") == "WARNING":
                print(f"  warning: {line}")
    return bad
