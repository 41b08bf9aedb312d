"""A person in the real-browser tests: a headless Chromium session (make_driver) driven by
Selenium through the chat page as a person would (User: sign in, post, read the room list from
the DOM, cut the page off the network), with bounded waits (WAIT seconds per condition).
test_chat.py and test_cluster.py use it.
"""

import os
import re
import time
import uuid

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = float(os.environ.get("WARREN_BROWSER_WAIT", "20"))  # seconds, per waited-for condition

# A structured picture of the room list, read from the DOM (what a person sees).
SNAPSHOT_JS = r"""
const list = document.getElementById('events');
if (!list) return null;
const own = (node, sel) => [...node.children].filter((c) => c.matches(sel));
const textOf = (node) => { const p = own(node, 'p.text')[0] || node.querySelector('.line .text'); return p ? p.textContent : null; };
const proofOf = (node) => {
  const box = own(node, 'div.proof')[0];
  if (!box) return null;
  const facts = {};
  for (const pair of box.querySelectorAll('.fact')) {
    const dt = pair.querySelector('dt'), dd = pair.querySelector('dd');
    if (dt && dd) facts[dt.textContent] = dd.textContent;
  }
  const status = [...box.classList].find((c) => c.startsWith('check-'));
  return { status: status ? status.slice(6) : null, label: box.querySelector('.proof-status')?.textContent, facts };
};
return [...list.children].map((li) => ({
  cls: li.className,
  kind: ([...li.classList].find((c) => c.startsWith('kind-')) || '').slice(5),
  pending: li.classList.contains('pending'),
  working: li.classList.contains('working'),
  text: textOf(li),
  pendingLabel: li.querySelector('.pending-label')?.textContent ?? null,
  proof: proofOf(li),
  replies: [...li.querySelectorAll(':scope > ol.replies > li.reply')].map((r) => ({ text: textOf(r), proof: proofOf(r) })),
}));
"""

# Records whether the reconnecting banner was ever shown (the page may reconnect within a second,
# faster than polling could see), with its text.
WATCH_BANNER_JS = r"""
const banner = document.getElementById('banner');
window.__warrenBanner = { seen: false, text: '' };
const look = () => {
  const text = document.getElementById('banner-text').textContent;
  if (!banner.hidden && /reconnecting/i.test(text)) window.__warrenBanner = { seen: true, text };
};
new MutationObserver(look).observe(banner, { attributes: true, childList: true, subtree: true, characterData: true });
look();
"""

# The WebSocket's reconnect attempts, and the rooms API's requests (the read position), fail so
# while the page is cut off.
OFFLINE_SEVERE = r"(WebSocket connection to '.*' failed: |/api/rooms/.* - Failed to load resource: ).*net::ERR_INTERNET_DISCONNECTED"

class Failure(Exception):
    pass


def make_driver(name, tmp):
    options = webdriver.ChromeOptions()
    binary = os.environ.get("WARREN_CHROMIUM", "/usr/bin/chromium")
    if os.path.exists(binary):
        options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1100,1000", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking",
                f"--user-data-dir={os.path.join(tmp, name)}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("WARREN_CHROMEDRIVER", "/usr/bin/chromedriver"),
                      log_output=os.path.join(tmp, f"chromedriver-{name}.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    return driver


class User:
    def __init__(self, name, driver, url):
        self.name, self.driver, self.url = name, driver, url
        self.password = f"{name}'s password {uuid.uuid4().hex[:8]}"
        self.console = []  # every browser log entry seen, in order
        self.offline = []  # [start, end] epoch ms of the times this page was cut off

    def drain_log(self):
        try:
            self.console.extend(self.driver.get_log("browser"))
        except Exception as error:  # noqa: BLE001 - the log is diagnostics, never the failure
            print(f"  ({self.name}: could not read the console log: {error})")

    def set_offline(self, offline):
        """Cuts the page off the network (new connections fail) or puts it back, via DevTools."""
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        now = time.time() * 1000
        if offline:
            self.offline.append([now, None])
        elif self.offline and self.offline[-1][1] is None:
            self.offline[-1][1] = now

    def expected_offline(self, entry):
        """Whether a console entry is a failed connection attempt made while the page was cut off."""
        at = entry.get("timestamp", 0)
        return bool(re.search(OFFLINE_SEVERE, entry.get("message", ""))) and any(
            start - 1000 <= at <= (end or float("inf")) + 5000 for start, end in self.offline)

    def screenshot(self, folder, name):
        if not folder:
            return
        os.makedirs(folder, exist_ok=True)
        path = os.path.abspath(os.path.join(folder, f"{name}.png"))
        self.driver.save_screenshot(path)
        print(f"  screenshot: {path}")

    def compose_error(self):
        node = self.driver.find_element(By.ID, "compose-error")
        return node.text if node.is_displayed() else ""

    def status(self):
        return self.driver.find_element(By.ID, "status").get_attribute("data-state")

    def snapshot(self):
        return self.driver.execute_script(SNAPSHOT_JS) or []

    def wait(self, what, predicate, timeout=WAIT):
        last = {}

        def check(_):
            value = predicate(self)
            last["value"] = value
            return value

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(check)
        except TimeoutException:
            raise Failure(f"{self.name}: timed out after {timeout:.0f} s waiting for {what}") from None

    def banner_shown(self):
        return self.driver.find_element(By.ID, "banner").is_displayed()

    def room_shown(self):
        d = self.driver
        return (d.find_element(By.ID, "room-view").is_displayed()
                and d.find_element(By.ID, "me-name").text == self.name
                and d.find_element(By.ID, "status").get_attribute("data-state") == "connected")

    def sign_in_view(self):
        d = self.driver
        return d.find_element(By.ID, "login-view").is_displayed() and not d.find_element(By.ID, "me").is_displayed()

    def login_error(self):
        return self.driver.find_element(By.ID, "login-error").text

    def fill_sign_in(self, password, button):
        """Types the name and `password` into the sign-in form and presses `button`."""
        self.wait("the sign-in form", lambda u: u.sign_in_view())
        for field_id, value in (("login-name", self.name), ("login-password", password)):
            field = self.driver.find_element(By.ID, field_id)
            field.clear()
            field.send_keys(value)
        self.driver.find_element(By.ID, button).click()

    def login(self, register=False):
        """Registers (or signs in) through the page's form and waits for the room."""
        self.driver.get(self.url)
        self.fill_sign_in(self.password, "register-submit" if register else "login-submit")
        self.wait("the room after signing in", lambda u: u.room_shown())

    def post(self, text):
        box = self.driver.find_element(By.ID, "compose-text")
        box.clear()
        # send_keys would type "(" etc. fine, but a value set by script is exact; then submit
        # with the button, as a person would.
        self.driver.execute_script(
            "const t = arguments[0]; t.value = arguments[1]; t.dispatchEvent(new Event('input', {bubbles: true}));",
            box, text)
        self.driver.find_element(By.ID, "compose-submit").click()

    def entries(self, text, kind="message"):
        return [e for e in self.snapshot() if e["text"] == text and e["kind"] == kind and not e["pending"]]

    def wait_entry(self, what, text, predicate=lambda e: True, kind="message", timeout=WAIT):
        try:
            return self.wait(what, lambda u: next((e for e in u.entries(text, kind) if predicate(e)), None), timeout)
        except Failure as failure:
            seen = [e for e in self.snapshot() if e["text"] == text]
            kinds = sorted({e["kind"] + (" pending" if e["pending"] else "") for e in self.snapshot()})
            raise Failure(f"{failure}; entries with that text: {seen or 'none'}; kinds shown: {kinds}") from None


def open_pages(names, url, tmp):
    """A Chromium session (a User) for each name; when one cannot start, those started are closed
    and the error raised."""
    users = []
    try:
        for name in names:
            users.append(User(name, make_driver(name, tmp), url))
    except Exception:
        close_pages(users)
        raise
    return users


def close_pages(users):
    for u in users:
        try:
            u.driver.quit()
        except Exception:  # noqa: BLE001 - a session that is gone already
            pass


def has_reply(text):
    return lambda e: any(r["text"] == text for r in e["replies"])


def assert_shown_once(users, texts, settle=2.0):
    """After `settle` seconds (the outbox resends an unconfirmed post 1.5 s after reconnecting, so
    a duplicate would come by then), each text is shown once on every page, and nothing is
    pending any more."""
    time.sleep(settle)
    for u in users:
        for text in texts:
            n = len(u.entries(text))
            assert n == 1, f"{u.name} shows '{text}' {n} times"
        pend = [e for e in u.snapshot() if e["pending"]]
        assert not pend, f"{u.name} still shows pending posts: {pend}"
