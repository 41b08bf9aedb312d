"""The rooms steps of the real-browser test (test_chat.py runs them once alice, bob and carol are
signed in): alice makes a private room and invites bob, they chat there, carol neither sees the
room nor its posts; unread badges and the @mention mark; "alice is typing…"; who is online; a
direct message between alice and carol; a refusal shown as the server words it. Screenshots of
each in the artifacts folder (rooms-*.png).
"""

import time

# What the sidebar shows, read from the DOM: each room's id, name, unread badge, mention mark,
# whether it is open; the open room's title, who is online and who is typing.
SIDEBAR_JS = r"""
const rooms = [...document.querySelectorAll('#room-list button[data-room]')].map((b) => ({
  id: b.dataset.room,
  name: b.querySelector('.room-name')?.textContent ?? '',
  unread: b.querySelector('.unread')?.textContent ?? '',
  mentioned: Boolean(b.querySelector('.mention')),
  open: b.getAttribute('aria-current') === 'true',
}));
return {
  rooms,
  title: document.getElementById('room-title').textContent,
  online: [...document.querySelectorAll('#online-list .person.is-online')].map((p) => p.textContent),
  members: [...document.querySelectorAll('#online-list .person')].map((p) => p.textContent),
  typing: document.getElementById('typing').textContent,
  message: document.getElementById('rooms-message').hidden ? '' : document.getElementById('rooms-message').textContent,
};
"""

# Types into the compose box as a person does (an input event per key), without sending.
TYPE_JS = r"""
const box = document.getElementById('compose-text');
box.value = arguments[0];
box.dispatchEvent(new Event('input', { bubbles: true }));
"""


def sidebar(user):
    return user.driver.execute_script(SIDEBAR_JS)


def room_of(user, name):
    """The sidebar entry shown as `name`, or None."""
    return next((r for r in sidebar(user)["rooms"] if r["name"] == name), None)


# Finds the sidebar button shown as arguments[0] and clicks it, in one step: the sidebar is
# drawn again whenever a count changes, so an element found in one call may be gone in the next.
CLICK_ROOM_JS = """
const button = [...document.querySelectorAll('#room-list button[data-room]')]
  .find((b) => b.querySelector('.room-name')?.textContent.trim() === arguments[0]);
if (!button) return false;
button.click();
return true;
"""


def open_room(user, name):
    user.wait(f"'{name}' in {user.name}'s sidebar", lambda u: room_of(u, name))
    user.wait(f"'{name}' clicked in {user.name}'s sidebar", lambda u: u.driver.execute_script(CLICK_ROOM_JS, name))
    user.wait(f"'{name}' open in {user.name}'s page", lambda u: (room_of(u, name) or {}).get("open"))


# Fills a sidebar form's fields (id -> value; a <select> takes its option's value) and clicks its
# submit button, in one step, for the same reason as CLICK_ROOM_JS. Input and change events go as
# a person's typing and choosing would send them.
SUBMIT_FORM_JS = """
const [fields, submitId] = arguments;
for (const [id, value] of Object.entries(fields)) {
  const field = document.getElementById(id);
  if (!field) return false;
  field.value = value;
  field.dispatchEvent(new Event('input', { bubbles: true }));
  field.dispatchEvent(new Event('change', { bubbles: true }));
  if (field.value !== value) return false;
}
const submit = document.getElementById(submitId);
if (!submit || submit.disabled) return false;
submit.click();
return true;
"""


def submit_form(user, fields, submit_id):
    """Fills `fields` and clicks `submit_id` in one script, retried until the page takes it."""
    user.wait(f"{user.name}'s form {submit_id} sent", lambda u: u.driver.execute_script(SUBMIT_FORM_JS, fields, submit_id))


def steps(run, alice, bob, carol, artifacts):
    """Adds the rooms steps to `run` (test_chat.Run)."""
    stamp = int(time.time()) % 100000
    room = f"ops-{stamp}"
    said = f"only for ops {stamp}"
    answered = f"bob answers in ops {stamp}"
    mention = f"@bob look at this {stamp}"
    direct = f"hi carol, just you {stamp}"

    def r1():
        submit_form(alice, {"create-room-name": room, "create-room-visibility": "private"}, "create-room-submit")
        alice.wait(f"'{room}' made and open", lambda u: (room_of(u, room) or {}).get("open") and sidebar(u)["title"] == room)
        submit_form(alice, {"invite-name": "bob"}, "invite-submit")
        alice.wait("'You invited bob…'", lambda u: sidebar(u)["message"].startswith("You invited bob"))
        open_room(bob, room)  # bob's sidebar learnt of it from his personal notice
        alice.screenshot(artifacts, "rooms-1-alice-made-private-room")

    def r2():
        alice.post(said)
        bob.wait_entry(f"'{said}' in bob's {room}", said)
        alice.wait_entry(f"'{said}' in alice's {room}", said)
        bob.post(answered)
        alice.wait_entry(f"'{answered}' in alice's {room}", answered)
        # carol: no such room in her sidebar, and the posts reached none of her rooms.
        time.sleep(1.0)
        assert room_of(carol, room) is None, f"carol's sidebar shows {room}"
        public = carol.driver.execute_script(
            "return [...document.querySelectorAll('#public-rooms button')].map((b) => b.textContent)")
        assert not any(room in text for text in public), f"carol may join the private room: {public}"
        for text in (said, answered):
            assert not carol.entries(text), f"carol's page shows '{text}'"
            shown = carol.driver.execute_script("return document.body.textContent.includes(arguments[0])", text)
            assert not shown, f"'{text}' is somewhere on carol's page"
        bob.screenshot(artifacts, "rooms-2-bob-in-private-room")
        carol.screenshot(artifacts, "rooms-2-carol-does-not-see-it")

    def r3():
        # Who is online in the room: both have a tab signed in.
        for u in (alice, bob):
            u.wait(f"alice and bob online in {u.name}'s {room}", lambda u: sorted(sidebar(u)["online"]) == ["alice", "bob"])
        open_room(bob, "general")
        alice.post(mention)
        bob.wait(f"an unread badge and the @mention mark on {room} in bob's sidebar",
                 lambda u: (lambda r: r and r["unread"] == "1" and r["mentioned"])(room_of(u, room)))
        bob.screenshot(artifacts, "rooms-3-bob-unread-and-mention")
        open_room(bob, room)
        bob.wait_entry(f"'{mention}' once bob opens {room}", mention)
        bob.wait("the badge gone once read", lambda u: (lambda r: r and r["unread"] == "" and not r["mentioned"])(room_of(u, room)))

    def r4():
        # A tab sends one typing notice per 3 s (rules.json typingIntervalMs), and alice's last
        # post was typed (an input event) moments ago.
        time.sleep(3.5)
        alice.driver.execute_script(TYPE_JS, "I am writing someth")
        bob.wait("'alice is typing…' in bob's page", lambda u: sidebar(u)["typing"] == "alice is typing…")
        bob.screenshot(artifacts, "rooms-4-bob-sees-alice-typing")
        assert sidebar(alice)["typing"] == "", "alice sees herself typing"
        bob.wait("the typing line gone a few seconds later", lambda u: sidebar(u)["typing"] == "", timeout=15)
        alice.driver.execute_script(TYPE_JS, "")

    def r5():
        submit_form(alice, {"dm-name": "carol"}, "dm-submit")
        alice.wait("the direct message with carol open", lambda u: sidebar(u)["title"] == "@carol")
        alice.post(direct)
        alice.wait_entry(f"'{direct}' in alice's direct message", direct)
        carol.wait("the direct message from alice in carol's sidebar, unread",
                   lambda u: (lambda r: r and r["unread"] == "1")(room_of(u, "alice")))
        carol.screenshot(artifacts, "rooms-5-carol-direct-message-unread")
        open_room(carol, "alice")
        carol.wait_entry(f"'{direct}' in carol's direct message", direct)
        time.sleep(1.0)
        assert room_of(bob, "carol") is None and room_of(bob, "alice") is None, "bob's sidebar shows the direct message"
        assert not bob.driver.execute_script("return document.body.textContent.includes(arguments[0])", direct), \
            "bob's page shows the direct message"
        carol.screenshot(artifacts, "rooms-5-carol-reads-direct-message")

    def r6():
        nobody = f"nobody{stamp}"
        submit_form(carol, {"dm-name": nobody}, "dm-submit")
        message = carol.wait("the server's refusal in carol's sidebar",
                             lambda u: (lambda m: nobody in m and m)(sidebar(u)["message"]))
        print(f"  refusal: '{message}'")
        carol.screenshot(artifacts, "rooms-6-carol-refused")

    def r7():
        for u in (alice, bob, carol):  # the steps after these read general
            open_room(u, "general")

    run.step(f"R1. alice makes the private room {room} and invites bob, who finds it in his sidebar", r1)
    run.step("R2. alice and bob chat there; carol sees neither the room nor its posts", r2)
    run.step("R3. both online in the room; bob, in general, gets an unread badge and the @mention mark, gone once read", r3)
    run.step("R4. 'alice is typing…' shows in bob's page for a few seconds", r4)
    run.step("R5. alice and carol: a direct message, unread in carol's sidebar, unseen by bob", r5)
    run.step("R6. a direct message to nobody: the server's refusal, in words", r6)
    run.step("R7. everyone back in general", r7)
