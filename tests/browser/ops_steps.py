"""The operator's page steps of the real-browser test (test_chat.py runs them after the rooms
steps): alice, named in WARREN_ADMINS by scripts/test-browser, opens /ops and sees every role of
`warren up` online (from the broker's consumers) and the shared queues; bob, who is not an
operator, is refused with the server's words and sees no figures. Each then goes back to the chat.
Screenshots: ops-1-alice-sees-roles.png, ops-2-bob-refused.png.
"""

# What the operator's page shows, read from the DOM in one script (it is drawn again every 5 s).
OPS_JS = r"""
const board = document.getElementById('ops-board');
const rows = (id) => [...document.querySelectorAll(`#${id} tbody tr`)].map((tr) => [...tr.cells].map((c) => c.textContent));
const message = document.getElementById('ops-message');
return {
  board: Boolean(board) && !board.hidden,
  roles: rows('ops-roles'),
  queues: rows('ops-queues'),
  message: message && !message.hidden ? message.textContent : '',
  status: document.getElementById('ops-status')?.textContent ?? '',
  path: location.pathname,
};
"""

ROLES = ["login", "reverser", "pow-worker", "history", "cron"]


def ops_view(user):
    return user.driver.execute_script(OPS_JS)


def back_to_chat(user):
    user.driver.get(user.url)
    user.wait(f"{user.name}'s room again after the operator's page", lambda u: u.room_shown())


def steps(run, alice, bob, artifacts):
    """Adds the operator's page steps to `run` (test_chat.Run)."""

    def o1():
        alice.driver.get(alice.url.rstrip("/") + "/ops")

        def roles_online(u):
            view = ops_view(u)
            online = {row[0] for row in view["roles"] if row[1].startswith("online")}
            return view if view["board"] and set(ROLES) <= online else None

        view = alice.wait("every role online on alice's operator's page", roles_online, timeout=40)
        assert view["path"] == "/ops.html", f"/ops led to {view['path']}"
        queues = {row[0] for row in view["queues"]}
        assert {"login", "inbox", "bot.reverser", "history", "dead"} <= queues, f"shared queues shown: {sorted(queues)}"
        assert not any("user." in q for q in queues), f"a tab's queue is shown: {sorted(queues)}"
        alice.screenshot(artifacts, "ops-1-alice-sees-roles")
        back_to_chat(alice)

    def o2():
        bob.driver.get(bob.url.rstrip("/") + "/ops")
        view = bob.wait("bob refused on the operator's page",
                        lambda u: (lambda v: v if "not an operator" in v["message"] else None)(ops_view(u)))
        assert not view["board"], "bob sees the figures"
        assert not view["roles"], f"bob's page holds roles: {view['roles']}"
        bob.screenshot(artifacts, "ops-2-bob-refused")
        back_to_chat(bob)

    run.step("O1. alice, an operator, opens /ops: every role online and the shared queues", o1)
    run.step("O2. bob, not an operator, opens /ops: refused with the server's words, no figures", o2)
