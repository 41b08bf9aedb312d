#!/usr/bin/env python3
"""Warren's real-browser end-to-end test: headless Chromium sessions (alice and bob, later carol,
a new tab; then rooms and direct messages among the three, rooms_steps.py; then the operator's
page, ops_steps.py) against a running `warren up` (with its history role) and its broker. They register through the page and chat as themselves: the
page connects to the broker with its name and access token, and the broker asks that warren
(with broker auth, WARREN_BROKER_AUTH, on as by default: scripts/test-browser leaves it unset).

    python3 tests/browser/test_chat.py --url http://127.0.0.1:18080/ [--artifacts DIR]
        [--close-connections "COMMAND"]

--close-connections is a shell command that makes the broker force-close every connection of
the chat's vhost (scripts/test-browser passes `scripts/broker ctl close_all_connections -p
warren ...`); without it the reconnect step fails. Screenshots of both pages go to DIR.

Every step is bounded (WebDriverWait with a timeout). The steps run in order; one that fails is
counted and the run goes on where that still makes sense. The last line is
`browser: N passed, N failed`; the exit status is 0 only when nothing failed.

Console messages allowed (everything else at level SEVERE fails the console step):
  * ALLOWED_SEVERE below, anywhere;
  * Chromium's "net::ERR_INTERNET_DISCONNECTED" for the WebSocket, only while the reconnect step
    holds alice's page offline (it is what the page's reconnect attempts meet then).
  WARNING-level lines (the page's own console.warn for dropped messages or an unconfirmed
  logout, or a "STOMP died" when the broker closes the connections) are printed but do not
  fail the run.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import uuid

from selenium.webdriver.common.by import By

import ops_steps
import rooms_steps
from browser_user import WAIT, WATCH_BANNER_JS, Failure, User, assert_shown_once, close_pages, has_reply, make_driver
from step_run import Run, console_problems

# Severe console lines that are expected and allowed, with why. Kept empty unless a run shows
# a reason; each entry is a regex matched against the log message.
ALLOWED_SEVERE = [
    # A WebSocket that the page closes while it is being unloaded (the reload step) may be
    # reported by Chromium as an error on the dying page; it is not the page's fault.
    r"WebSocket connection to '.*' failed: WebSocket is closed before the connection is established",
    # The rooms step R6 asks for a direct message with nobody: the server answers 404 (and the
    # page shows its refusal), which Chromium reports as a failed resource.
    r"/api/dm - Failed to load resource: the server responded with a status of 404",
    # The operator's page step O2: bob is no operator, and /api/ops answers him 403.
    r"/api/ops - Failed to load resource: the server responded with a status of 403",
]


# Records, from before a post is sent, whether the page ever showed the "working on proof of
# work" state (with 12 bits the proof can take milliseconds, so polling could miss it).
WATCH_WORKING_JS = r"""
const text = arguments[0];
window.__warrenWorking = window.__warrenWorking || {};
window.__warrenWorking[text] = false;
const look = () => {
  for (const li of document.querySelectorAll('#events > li.pending')) {
    const p = li.querySelector(':scope > p.text');
    const label = li.querySelector('.pending-label')?.textContent || '';
    if (!p || p.textContent !== text) continue;
    if (li.classList.contains('working') && /working on proof of work/i.test(label)) window.__warrenWorking[text] = 'working';
    else if (!window.__warrenWorking[text]) window.__warrenWorking[text] = 'pending';
  }
};
const observer = new MutationObserver(look);
observer.observe(document.getElementById('events'), { childList: true, subtree: true, attributes: true, characterData: true });
look();
"""


WORKING_MUST_SHOW_MS = 250


# Records in sessionStorage (which survives the navigation) how the page left and came back.
WATCH_NAVIGATION_JS = r"""
sessionStorage.removeItem('test.pagehide');
sessionStorage.removeItem('test.pageshow');
addEventListener('pagehide', (e) => sessionStorage.setItem('test.pagehide', String(e.persisted)));
addEventListener('pageshow', (e) => sessionStorage.setItem('test.pageshow', String(e.persisted)));
"""

# Sends one post to the inbox over a STOMP connection of its own, as a page that skipped its own
# checks would: the server must refuse it. It signs in for a token of its own (without touching
# the page's refresh cookie: credentials 'omit' stores no cookie) and posts as that person, with
# user-id. Resolves with "ok" on the broker's RECEIPT.
RAW_POST_JS = r"""
const [text, clientId, password, done] = arguments;
const fail = (why) => done(`failed: ${why}`);
(async () => {
  const config = await (await fetch('/config.json')).json();
  const { login, session } = JSON.parse(sessionStorage.getItem('warren.session'));
  const signIn = await fetch('/api/login', { method: 'POST', credentials: 'omit', headers: { 'content-type': 'application/json' },
                                             body: JSON.stringify({ name: login, password }) });
  if (!signIn.ok) return fail(`sign-in answered ${signIn.status}`);
  const token = (await signIn.json()).accessToken;
  const body = JSON.stringify({ text, clientId, login, session });
  const ws = new WebSocket(config.stompURL, ['v12.stomp']);
  ws.binaryType = 'arraybuffer';
  let received = '';
  ws.onerror = () => fail('socket error');
  ws.onopen = () => ws.send(`CONNECT\naccept-version:1.2\nhost:${config.vhost}\nlogin:${login}\npasscode:${token}\n\n\0`);
  ws.onmessage = (e) => {
    received += typeof e.data === 'string' ? e.data : new TextDecoder().decode(e.data);
    if (received.startsWith('CONNECTED') && received.includes('\0')) {
      received = '';
      ws.send(`SEND\ndestination:/exchange/${config.prefix}.in/${config.prefix}.inbox\ncontent-type:application/json\npersistent:true\nuser-id:${login}\nreceipt:raw-1\n\n${body}\0`);
    } else if (received.startsWith('RECEIPT')) {
      ws.close();
      done('ok');
    } else if (received.startsWith('ERROR')) {
      fail(received.slice(0, 300));
    }
  };
})().catch((error) => fail(error.message));
"""

# Scrolls the room list to its top (where earlier messages load) and reports what the history
# status line says.
SCROLL_TOP_JS = r"""
const list = document.getElementById('events');
list.scrollTop = 0;
list.dispatchEvent(new Event('scroll'));
const line = list.querySelector(':scope > li.history-status');
return line && !line.hidden ? line.textContent : '';
"""


def parse_ms(text):
    """'10 ms' / '1.2 s' (format.js formatDuration) in milliseconds, or None."""
    m = re.match(r"^\s*([\d.,]+)\s*(ms|s)\b", text or "")
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    return value if m.group(2) == "ms" else value * 1000


def proof_verified(via):
    return lambda e: bool(e["proof"]) and e["proof"]["status"] == "verified" and e["proof"]["facts"].get("via") == via


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--artifacts", default=None, help="folder for the screenshots")
    parser.add_argument("--close-connections", default=None, help="shell command that force-closes the broker's connections")
    parser.add_argument("--cron-text", default=os.environ.get("WARREN_CRON_TEXT") or "Hello world!")
    args = parser.parse_args()

    run = Run("browser")
    users = run.pages(("alice", "bob"), args.url)
    if not users:
        return run.report()
    alice, bob = users

    try:
        def s1():
            alice.login(register=True)
            bob.login(register=True)

        def s2():
            alice.post("hello bob")
            for u in (alice, bob):
                u.wait_entry("'hello bob' with the reply 'bob olleh' threaded under it",
                             "hello bob", has_reply("bob olleh"))
            for u in (alice, bob):
                n = len(u.entries("hello bob"))
                assert n == 1, f"{u.name} shows 'hello bob' {n} times"

        evil = "<img src=x onerror=alert(1)>"

        def s3():
            bob.post(evil)
            alice.wait_entry("bob's markup as literal text", evil)
            for u in (alice, bob):
                imgs = u.driver.execute_script("return document.querySelectorAll('#events img').length")
                assert imgs == 0, f"{u.name}'s room list has {imgs} <img> element(s)"
            # The reverser answers it too, reversed; still text.
            alice.wait_entry("the reversed markup as a reply", evil, has_reply(evil[::-1]))

        def proof_step(posted, via, shot=None):
            # The proven post reaches the room without its "!pow"/"!rpc"/"!grpc" suffix.
            text = posted.rsplit(" ", 1)[0]

            def s():
                alice.driver.execute_script(WATCH_WORKING_JS, posted)
                alice.post(posted)
                alice.wait_entry(f"'{text}' (posted as '{posted}') with a verified proof via {via}", text,
                                 proof_verified(via), kind="proof", timeout=WAIT + 10)
                saw = alice.driver.execute_script("return window.__warrenWorking[arguments[0]]", posted)
                assert saw, f"alice's page never showed '{posted}' as a pending post"
                proven = next(iter(alice.entries(text, "proof")))
                # The working state is drawn between the broker's RECEIPT and the proven echo; a
                # proof of a few ms (12 bits) can beat the next render, so it is required only when
                # the proof took long enough to be drawn.
                took = parse_ms(proven["proof"]["facts"].get("time", ""))
                if saw != "working":
                    assert took is not None and took < WORKING_MUST_SHOW_MS, \
                        f"the proof took {proven['proof']['facts'].get('time')} but alice's page never showed 'Working on proof of work…'"
                    print(f"  note: the proof took {proven['proof']['facts'].get('time')}; the page showed '{posted}' pending, too briefly to draw the working state")
                bob.wait_entry(f"'{text}' with a verified proof via {via}", text, proof_verified(via), kind="proof")
                time.sleep(1.0)  # a duplicate would arrive right behind the first
                for u in (alice, bob):
                    n = len(u.entries(text, "proof")) + len(u.entries(text)) + len(u.entries(posted))
                    assert n == 1, f"{u.name} shows '{text}' {n} times"
                    pend = [e for e in u.snapshot() if e["pending"]]
                    assert not pend, f"{u.name} still shows pending posts: {pend}"
                if shot:
                    alice.screenshot(args.artifacts, shot)
            return s

        def s5():
            for u in (alice, bob):
                u.wait(f"the cron's system line '{args.cron_text}'",
                       lambda u: any(e["kind"] == "system" and e["text"] == args.cron_text for e in u.snapshot()),
                       timeout=WAIT)

        def s6():
            session = alice.driver.execute_script("return JSON.stringify(Object.entries(sessionStorage))")
            away = f"while you were away {int(time.time())}"
            back = f"after your reload {int(time.time())}"
            # alice's tab reloads (same tab, so the same sessionStorage); bob posts at once, while
            # her page is going down and coming back, and once more a moment later.
            alice.drain_log()
            alice.driver.execute_script("setTimeout(() => location.reload(), 0)")
            bob.post(away)
            bob.wait_entry(f"'{away}' in bob's own page", away)
            alice.wait("the room after the reload, without logging in again", lambda u: u.room_shown())
            bob.post(back)
            for text in (away, back):
                alice.wait_entry(f"'{text}', posted by bob around her reload", text)
            now = alice.driver.execute_script("return JSON.stringify(Object.entries(sessionStorage))")
            before, after = dict(json.loads(session)), dict(json.loads(now))
            # The session (login and session id) stays; general's stream position, when the
            # deployment has one, only moves on, and stays this session's.
            stream_before, stream_after = before.pop("warren.stream", None), after.pop("warren.stream", None)
            assert after == before, f"sessionStorage changed across reloads: {session} -> {now}"
            if stream_before is not None:
                old, new = json.loads(stream_before), json.loads(stream_after or "{}")
                assert new.get("session") == old["session"] and int(new.get("offset", -1)) >= int(old.get("offset", -1)), \
                    f"general's stream position went back across the reload: {stream_before} -> {stream_after}"
            for text in (away, back):
                n = len(alice.entries(text))
                assert n == 1, f"alice shows '{text}' {n} times"

        def s7():
            stamp = int(time.time())
            long_text = ("too long " * 223)[:2001]  # 2,001 characters, one over the limit
            before = len(bob.snapshot())
            for bad, what, expected in (("", "an empty post", r"empty"),
                                        ("  \n\t ", "a post of only whitespace", r"empty"),
                                        (long_text, "a post of 2,001 characters", r"2001 characters long; at most 2000")):
                alice.post(bad)
                message = alice.wait(f"a visible error for {what}",
                                     lambda u: re.search(expected, u.compose_error()) and u.compose_error())
                print(f"  {what}: '{message}'")
                pend = [e for e in alice.snapshot() if e["pending"]]
                assert not pend, f"{what} was queued as a post: {pend}"
            alice.screenshot(args.artifacts, "alice-refused-post")
            kept = alice.driver.find_element(By.ID, "compose-text").get_attribute("value")
            assert kept == long_text, "the over-long text was not kept in the box for shortening"
            follow = f"after the refused posts {stamp}"
            alice.post(follow)
            for u in (alice, bob):
                u.wait_entry(f"'{follow}'", follow)
            assert alice.compose_error() == "", f"the error stayed after a good post: {alice.compose_error()}"
            # Nothing reached anybody before the good post: bob's new entries (cron and presence
            # lines aside) are that post alone, and neither page shows the bad texts or an error.
            added = [e for e in bob.snapshot()[before:] if e["kind"] not in ("system", "presence")]
            assert [e["text"] for e in added] == [follow], f"bob's page got more than '{follow}': {added}"
            for u in (alice, bob):
                for e in u.snapshot():
                    assert e["text"] not in ("", long_text) and e["kind"] != "error", f"{u.name} shows {e}"

        def s7b():
            stamp = int(time.time())
            before = len(bob.snapshot())
            refused = []
            for text, expected in (("", "The post is empty"), ("y" * 2001, "The post is 2001 characters long; at most 2000")):
                answer = alice.driver.execute_async_script(RAW_POST_JS, text, str(uuid.uuid4()), alice.password)
                assert answer == "ok", f"the raw post did not reach the broker: {answer}"
                line = alice.wait(f"the server's refusal '{expected}…' on alice's page",
                                  lambda u: next((e for e in u.snapshot() if e["kind"] == "error" and expected in (e["text"] or "")), None))
                refused.append(text)
                print(f"  alice sees: Error: {line['text']}")
            alice.screenshot(args.artifacts, "alice-server-refusal")
            follow = f"after the posts the server refused {stamp}"
            alice.post(follow)
            bob.wait_entry(f"'{follow}'", follow)
            added = [e for e in bob.snapshot()[before:] if e["kind"] not in ("system", "presence")]
            assert [e["text"] for e in added] == [follow], f"bob's page got more than '{follow}': {added}"
            for e in alice.snapshot():
                assert e["text"] not in refused or e["kind"] == "error", f"alice shows a refused post as a post: {e}"

        def cut_alice_off():
            """The broker closes every connection; alice's page stays cut off (her reconnect
            attempts fail) so that what she writes has to wait in the outbox; bob's comes back."""
            if not args.close_connections:
                raise Failure("no --close-connections command was given")
            for u in (alice, bob):
                u.drain_log()
                u.driver.execute_script(WATCH_BANNER_JS)
            alice.set_offline(True)
            done = subprocess.run(args.close_connections, shell=True, capture_output=True, text=True, timeout=180)
            if done.returncode != 0:
                raise Failure(f"'{args.close_connections}' failed ({done.returncode}): {done.stderr.strip()[-500:]}")
            print(f"  {done.stdout.strip().splitlines()[-1] if done.stdout.strip() else '(closed)'}")
            for u in (alice, bob):
                u.wait("the reconnecting banner", lambda u: u.driver.execute_script("return window.__warrenBanner.seen"))
            bob.wait("bob's page connected again", lambda u: u.room_shown() and not u.driver.find_element(By.ID, "banner").is_displayed())
            alice.wait("alice's page reconnecting, banner shown",
                       lambda u: u.status() == "reconnecting" and u.driver.find_element(By.ID, "banner").is_displayed())

        def post_while_cut_off(text):
            alice.post(text)
            alice.wait(f"'{text}' waiting for the connection",
                       lambda u: any(e["pending"] and e["text"] == text and e["pendingLabel"] == "Waiting for the connection…"
                                     for e in u.snapshot()))

        def shown_once(texts):
            assert_shown_once((alice, bob), texts)

        def s8():
            stamp = int(time.time())
            cut_off = f"bob, while alice is cut off {stamp}"
            outboxed = f"typed while disconnected {stamp}"
            after = f"after the reconnect {stamp}"
            try:
                cut_alice_off()
                bob.post(cut_off)
                bob.wait_entry(f"'{cut_off}' on bob's page", cut_off)
                post_while_cut_off(outboxed)
                assert not bob.entries(outboxed), "bob has alice's post before she reconnected"
                alice.screenshot(args.artifacts, "alice-disconnected")
            finally:
                alice.set_offline(False)
            alice.wait("alice's page connected again, banner gone",
                       lambda u: u.room_shown() and not u.driver.find_element(By.ID, "banner").is_displayed(), timeout=WAIT + 30)
            for u in (alice, bob):
                u.wait_entry(f"alice's outbox post '{outboxed}'", outboxed)
            alice.wait_entry(f"'{cut_off}', posted while she was cut off", cut_off)
            bob.post(after)
            for u in (alice, bob):
                u.wait_entry(f"'{after}' with the reverser's reply (the services reconnected too)", after, has_reply(after[::-1]))
            shown_once((cut_off, outboxed, after))

        def s8b():
            stamp = int(time.time())
            texts = [f"queued, then reloaded {i} {stamp}" for i in range(3)]
            try:
                cut_alice_off()
                for text in texts:
                    post_while_cut_off(text)
            finally:
                alice.set_offline(False)
            # At once, before the page's next reconnect attempt (a second or more away): the
            # page that held the three posts goes, and a new one must send them.
            alice.driver.execute_script("location.reload()")
            alice.wait("the room after the reload, connected", lambda u: u.room_shown(), timeout=WAIT + 15)
            for u in (alice, bob):
                for text in texts:
                    u.wait_entry(f"'{text}', written while disconnected, after alice's reload", text)
            shown_once(texts)

        def s9():
            stamp = int(time.time())
            texts = [f"while alice is on another page {i} {stamp}" for i in range(3)]
            alice.driver.execute_script(WATCH_NAVIGATION_JS)
            alice.driver.execute_script("setTimeout(() => { location.href = 'about:blank'; }, 0)")
            bob.post(texts[0])  # while her page is going
            alice.wait("alice on about:blank", lambda u: u.driver.current_url == "about:blank")
            for text in texts[1:]:
                bob.post(text)
                bob.wait_entry(f"'{text}' on bob's page", text)
            alice.driver.back()
            alice.wait("alice's room again, connected", lambda u: u.room_shown())
            for text in texts:
                alice.wait_entry(f"'{text}', posted while she was away", text)
            hide, show = (alice.driver.execute_script(f"return sessionStorage.getItem('test.{k}')") for k in ("pagehide", "pageshow"))
            print(f"  pagehide persisted={hide}, pageshow persisted={show}: "
                  + ("restored from the back/forward cache" if show == "true" else "loaded afresh"))
            time.sleep(1.0)
            for text in texts:
                n = len(alice.entries(text))
                assert n == 1, f"alice shows '{text}' {n} times"

        def s11():
            alice.driver.set_window_size(390, 844)
            alice.wait("the room laid out for the narrow window",
                       lambda u: u.driver.execute_script("return innerWidth") <= 400)
            wide = alice.driver.execute_script(r"""
                const width = document.documentElement.clientWidth;
                return [...document.querySelectorAll('body *')]
                  .filter((n) => n.getClientRects().length > 0 && n.getBoundingClientRect().right > width + 1)
                  .slice(0, 5).map((n) => `${n.tagName.toLowerCase()}#${n.id}.${n.className}`);""")
            alice.screenshot(args.artifacts, "alice-phone")
            overflow = alice.driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            alice.driver.set_window_size(1100, 1000)  # back to the size of the final screenshot
            assert not wide, f"at 390 px wide these stick out on the right: {wide}"
            assert overflow <= 0, f"the page scrolls sideways by {overflow} px at 390 px wide"

        def s12():
            alice.driver.find_element(By.ID, "logout").click()
            alice.wait("the sign-in form after logging out", lambda u: u.sign_in_view())
            alice.wait("the status 'disconnected'", lambda u: u.status() == "disconnected")
            alice.driver.refresh()
            alice.wait("the sign-in form after a reload", lambda u: u.sign_in_view())
            time.sleep(1.0)  # a page that resumed the sign-in would show the room by now
            assert alice.sign_in_view(), "alice's page left the sign-in form after the reload"
            assert not alice.driver.find_element(By.ID, "room-view").is_displayed()

        def s13():
            for password, expected in (("short", r"5 characters long; use at least 8"),
                                       ("a wrong password", r"The name or the password is wrong")):
                alice.fill_sign_in(password, "login-submit")
                message = alice.wait(f"the error for the password '{password}'",
                                     lambda u: re.search(expected, u.login_error()) and u.login_error())
                print(f"  '{password}': {message}")
                assert alice.sign_in_view(), f"alice's page left the sign-in form with the password '{password}'"
            alice.screenshot(args.artifacts, "alice-wrong-password")
            alice.fill_sign_in(alice.password, "login-submit")
            alice.wait("the room after signing in again", lambda u: u.room_shown())
            text = f"back after signing in {int(time.time())}"
            alice.post(text)
            bob.wait_entry(f"'{text}' from alice, signed in again", text)

        stamp = int(time.time())
        early = [f"early {i} {stamp}" for i in range(55)]

        def h12():
            # More than a backfill's worth of posts (55 posts, 55 replies), then a new tab.
            for text in early:
                bob.post(text)
            bob.wait_entry(f"'{early[-1]}' on bob's page", early[-1], has_reply(early[-1][::-1]), timeout=WAIT + 20)
            carol = User("carol", make_driver("carol", run.tmp), args.url)
            users.append(carol)
            carol.login(register=True)
            carol.wait_entry(f"'{early[-1]}', posted before carol's tab existed (backfill)", early[-1])
            shown = [e for e in carol.snapshot() if e["kind"] == "message"]
            assert "hello bob" not in [e["text"] for e in shown], "carol was sent the whole room at once, not its latest events"
            time.sleep(1.0)  # a second copy (backfill and live overlapping) would come by now
            for e in shown:
                n = len(carol.entries(e["text"]))
                assert n == 1, f"carol shows '{e['text']}' {n} times"

        def h13():
            carol = users[-1]
            assert carol.name == "carol", "carol's tab did not start"
            said = carol.wait("'Beginning of the room' after scrolling to the top",
                              lambda u: (lambda t: t == "Beginning of the room" and t)(u.driver.execute_script(SCROLL_TOP_JS)),
                              timeout=WAIT + 20)
            print(f"  carol's history line: '{said}'")
            carol.screenshot(args.artifacts, "carol-beginning")
            messages = [e["text"] for e in carol.snapshot() if e["kind"] == "message"]
            for text in early + ["hello bob"]:
                n = messages.count(text)
                assert n == 1, f"carol shows '{text}' {n} times after scrolling back"
            order = [messages.index(t) for t in early]
            assert order == sorted(order), "carol's earlier posts are out of order"
            assert messages.index("hello bob") < order[0], "'hello bob' is not before the later posts"
            assert carol.entries("hello bob") and has_reply("bob olleh")(carol.entries("hello bob")[0]), \
                "'hello bob' came back without its reply"

        def h14():
            carol = users[-1]
            assert carol.name == "carol", "carol's tab did not start"
            field = carol.driver.find_element(By.ID, "search-text")
            field.clear()
            field.send_keys("onerror")
            carol.driver.find_element(By.ID, "search-submit").click()
            panel = carol.driver.find_element(By.ID, "search-panel")
            results = carol.wait("search results for 'onerror'", lambda u: u.driver.execute_script(
                "return [...document.querySelectorAll('#search-results > li.result > p.text')].map((p) => p.textContent)") or None)
            assert evil in results, f"the search did not find bob's earlier post: {results}"
            imgs = carol.driver.execute_script("return document.querySelectorAll('#search-panel img').length")
            assert imgs == 0, f"the search panel has {imgs} <img> element(s)"
            carol.screenshot(args.artifacts, "carol-search")
            field.send_keys("\ue00c")  # Escape
            carol.wait("the search panel closed by Escape", lambda u: not panel.is_displayed())

        def s10():
            bad = console_problems(users, ALLOWED_SEVERE)
            assert not bad, "JavaScript errors in the console:\n    " + "\n    ".join(bad)

        run.step("1. alice and bob register through the page and see the room", s1, essential=True)
        run.step("2. 'hello bob' reaches both, with 'bob olleh' threaded under it", s2)
        run.step("3. bob's <img onerror> shows as literal text, no <img> in the list", s3)
        run.step("4a. '!pow': working state, then one verified proof (job queue) in both pages", proof_step("prove it !pow", "job queue"))
        run.step("4b. '!rpc': working state, then one verified proof (RPC) in both pages", proof_step("prove this too !rpc", "RPC"))
        run.step("4c. '!grpc': working state, then one verified proof (gRPC) in both pages",
                 proof_step("and prove this one !grpc", "gRPC", shot="alice-grpc-proof"))
        run.step("5. the cron's system line appears", s5)
        run.step("6. alice reloads: still logged in, sees what bob posted meanwhile", s6)
        run.step("7. an empty and an over-long post: a visible error for alice, nothing reaches anybody", s7)
        run.step("7b. the same posts sent past the page's checks: the server refuses them to alice, bob sees nothing", s7b)
        run.step("8. the broker closes every connection: banners, reconnect, the outbox post once, nothing lost", s8)
        run.step("8b. posts written while disconnected survive a reload: each reaches both pages once", s8b)
        run.step("9. alice goes to another page and back while bob posts: nothing lost, nothing twice", s9)
        run.step("12. carol, a new tab, sees the latest posts at once (backfill), each once", h12)
        run.step("13. carol scrolls to the top: earlier posts load, in order, up to 'Beginning of the room'", h13)
        run.step("14. carol's search finds bob's earlier post, as text; Escape closes the results", h14)
        if len(users) > 2 and users[2].name == "carol":
            rooms_steps.steps(run, alice, bob, users[2], args.artifacts)
        else:
            run.step("R. rooms (alice, bob and carol)", lambda: (_ for _ in ()).throw(Failure("carol's tab did not start")))
        ops_steps.steps(run, alice, bob, args.artifacts)
        run.step("10. no JavaScript errors in any console", s10)
        run.step("11. at phone width (390 px) nothing sticks out sideways", s11)
        run.step("15. alice logs out: the sign-in form, also after a reload (the sign-in is revoked)", s12)
        run.step("16. a short and a wrong password show an error; the right one signs alice in again", s13)

        if args.artifacts:
            try:
                os.makedirs(args.artifacts, exist_ok=True)
                for u in users:
                    path = os.path.abspath(os.path.join(args.artifacts, f"{u.name}.png"))
                    u.driver.execute_script("const l = document.getElementById('events'); if (l) l.scrollTop = l.scrollHeight;")
                    u.driver.save_screenshot(path)
                    print(f"screenshot: {path} ({u.name})")
            except Exception as error:  # noqa: BLE001
                print(f"(no screenshot: {error})")
    finally:
        close_pages(users)

    return run.report()


if __name__ == "__main__":
    sys.exit(main())
