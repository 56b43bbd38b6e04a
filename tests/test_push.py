"""The owner's words reach an open widget at once: one server-sent-events stream per open chat,
woken when the owner replies, resumed after a dropped connection without losing or repeating a
message, refused (the widget polls) past the appliance's limits. A real `appliance serve` on
loopback, read with a real HTTP client; the hub on its own for its limits."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from appliance.conversations import push

from .helpers import PASSWORD, SAME, free_port, reset_password, start_server, stop, wait_healthy


def test_the_hub_keeps_its_limits_and_wakes_only_the_conversations_listeners() -> None:
    async def run() -> None:
        hub = push.Hub(max_streams=4, per_address=2, per_visitor=2)
        a1 = hub.listen("c1", "10.0.0.1", "v1")
        a2 = hub.listen("c1", "10.0.0.1", "v1")
        with pytest.raises(push.Full) as full:
            hub.listen("c2", "10.0.0.1", "v2")
        assert full.value.reason == "address"
        b = hub.listen("c2", "10.0.0.2", "v2")
        hub.listen("c3", "10.0.0.3", "v3")
        with pytest.raises(push.Full) as full:
            hub.listen("c4", "10.0.0.4", "v4")
        assert full.value.reason == "total"
        # from another thread, as the admin's handlers write
        threading.Thread(target=hub.notify, args=("c1",)).start()
        assert await asyncio.wait_for(a1.wake.get(), 2) == push.CHANGED
        assert await asyncio.wait_for(a2.wake.get(), 2) == push.CHANGED
        assert b.wake.empty()
        hub.leave(a1)
        hub.leave(a1)  # twice is harmless
        assert hub.open_streams == 3
        third = hub.listen("c1", "10.0.0.9", "v1")  # v1's second tab still open, so no one closed
        assert not a2.closed
        hub.leave(third)
        hub.listen("c1", "10.0.0.8", "v1")
        assert hub.open_streams == 4

    asyncio.run(run())


def test_a_visitors_oldest_stream_ends_when_it_opens_too_many() -> None:
    async def run() -> None:
        hub = push.Hub(per_visitor=2)
        first = hub.listen("c1", "a", "v")
        hub.listen("c1", "a", "v")
        hub.listen("c1", "a", "v")
        assert first.closed and await asyncio.wait_for(first.wake.get(), 1) == push.CHANGED

    asyncio.run(run())


# -- a real server -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("push-data")
    (data_dir / "settings.toml").write_text(
        'model = "none"\nshop_name = "Book Nook"\nmax_open_chats = 6\nmax_open_chats_per_address = 4\n',
        encoding="utf-8",
    )
    reset_password(data_dir, PASSWORD, "--demo")
    port = free_port()
    proc = start_server(data_dir, port, "--demo", "--model", "none")
    wait_healthy(port, proc, timeout=120)
    yield f"http://127.0.0.1:{port}"
    stop(proc)


def _owner(base: str) -> httpx.Client:
    owner = httpx.Client(base_url=base, timeout=30)
    r = owner.post("/admin/login", data={"password": PASSWORD, "next": "/admin/"}, headers=SAME)
    assert r.status_code in {200, 303}, r.text
    page = owner.get("/admin/").text
    marker = '"X-CSRF-Token": "'
    token = page[page.index(marker) + len(marker) :].split('"')[0]
    owner.headers.update({**SAME, "x-csrf-token": token, "hx-request": "true"})
    return owner


def _customer(base: str) -> tuple[str, dict[str, str]]:
    started = httpx.post(f"{base}/api/v1/conversations", json={"lang": "fa"}).json()
    auth = {"authorization": f"Bearer {started['visitor_token']}"}
    r = httpx.post(
        f"{base}/api/v1/conversations/{started['conversation_id']}/messages",
        json={"text": "می‌خوام با یه آدم واقعی حرف بزنم"},
        headers=auth,
        timeout=60,
    )
    assert r.status_code == 200
    return started["conversation_id"], auth


class Stream:
    """An open widget's stream, read in a thread: (event, id, data) as they come."""

    def __init__(self, base: str, conversation: str, auth: dict[str, str], last_id: int | None = None):
        self.events: queue.Queue[tuple[str, str, dict]] = queue.Queue()
        headers = {**auth, "accept": "text/event-stream"}
        if last_id is not None:
            headers["last-event-id"] = str(last_id)
        self.client = httpx.Client(timeout=httpx.Timeout(60, read=None))
        self.response = self.client.send(
            self.client.build_request("GET", f"{base}/api/v1/conversations/{conversation}/events", headers=headers),
            stream=True,
        )
        self.status = self.response.status_code
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name, ident, data = "message", "", ""
        try:
            for line in self.response.iter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("id:"):
                    ident = line[3:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif not line:
                    if data:
                        self.events.put((name, ident, json.loads(data)))
                    name, ident, data = "message", "", ""
        except httpx.HTTPError:
            pass

    def next(self, kind: str, timeout: float = 10) -> tuple[str, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                name, ident, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if name == kind:
                return ident, data
        raise AssertionError(f"no {kind!r} event within {timeout} s")

    def close(self) -> None:
        """As a browser closing the tab: the socket goes at once (closing the response alone
        waits for the reading thread's next line, up to a heartbeat later)."""
        sock = self.response.extensions["network_stream"].get_extra_info("socket")
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        self.response.close()
        self.client.close()


def test_the_owners_reply_is_pushed_and_a_dropped_stream_resumes_without_loss_or_repeat(server: str) -> None:
    conversation, auth = _customer(server)
    owner = _owner(server)
    stream = Stream(server, conversation, auth)
    try:
        assert stream.status == 200 and stream.response.headers["content-type"].startswith("text/event-stream")
        _, state = stream.next("state")
        assert state["status"] == "waiting" and state["unread"] == 0 and state["seen_by_owner"] == 0
        owner.get(f"/admin/conversations/{conversation}")  # the owner opens it: "seen" reaches the chat
        _, state = stream.next("state")
        assert state["seen_by_owner"] > 0
        owner.post(f"/admin/conversations/{conversation}/typing")
        stream.next("typing")
        sent = time.monotonic()
        r = owner.post(f"/admin/conversations/{conversation}/reply", data={"text": "سلام، بله ارسال داریم."})
        assert r.status_code == 200
        ident, message = stream.next("message")
        took = time.monotonic() - sent
        assert message["role"] == "owner" and message["text"] == "سلام، بله ارسال داریم."
        assert ident == str(message["id"])
        print(f"owner reply reached the stream in {took * 1000:.0f} ms")  # a figure, not an assertion
        last = int(ident)
    finally:
        stream.close()

    # the connection drops; the owner replies twice and takes the conversation over meanwhile
    for text in ("پیام دوم", "پیام سوم"):
        owner.post(f"/admin/conversations/{conversation}/reply", data={"text": text})
    owner.post(f"/admin/conversations/{conversation}/takeover", data={"on": "1"})
    resumed = Stream(server, conversation, auth, last_id=last)
    try:
        got = [resumed.next("message")[1] for _ in range(3)]
        assert [m["text"] for m in got[:2]] == ["پیام دوم", "پیام سوم"] and got[2]["role"] == "system"
        assert all(m["id"] > last for m in got)
        _, state = resumed.next("state")
        assert state["status"] == "human" and state["unread"] == 3
        assert state["person"] == "online"  # the owner took it over: a person is there
        with pytest.raises(AssertionError):
            resumed.next("message", timeout=1)  # nothing repeated
    finally:
        resumed.close()


def test_streams_are_the_visitors_own_and_refused_past_the_limit(server: str) -> None:
    conversation, auth = _customer(server)
    other, other_auth = _customer(server)
    for who, status in [(other_auth, 404), ({}, 401)]:  # not this visitor's; no visitor at all
        refused = Stream(server, conversation, who)
        assert refused.status == status
        refused.close()
    streams = [Stream(server, c, a) for c, a in [(conversation, auth), (other, other_auth)] * 2]
    try:
        assert [s.status for s in streams] == [200, 200, 200, 200]
        refused = Stream(server, conversation, auth)  # a fifth from one address (the limit is 4)
        assert refused.status == 503
        body = json.loads(refused.response.read())
        assert body["error"] == "streams_full" and refused.response.headers["retry-after"]
        refused.close()
    finally:
        for s in streams:
            s.close()
    deadline = time.monotonic() + 20  # closed streams give their places back
    while time.monotonic() < deadline:
        again = Stream(server, conversation, auth)
        again.close()
        if again.status == 200:
            break
        time.sleep(0.5)
    assert again.status == 200


def test_a_bad_resume_point_is_a_clear_error(server: str) -> None:
    conversation, auth = _customer(server)
    for after in ("-1", "abc", str(2**64)):
        r = httpx.get(f"{server}/api/v1/conversations/{conversation}/events", params={"after": after}, headers=auth)
        assert r.status_code == 400 and r.json()["error"], (after, r.text)
    # a Last-Event-ID header that isn't a message id (browsers resend the ids we sent, all numbers)
    for header in ("not-a-number", b"\xb2"):  # "²" passes str.isdigit() and was a 500
        refused = Stream(server, conversation, {**auth, "last-event-id": header})
        assert refused.status == 400 and json.loads(refused.response.read())["error"] == "bad_last_event_id"
        refused.close()
    stream = Stream(server, conversation, {**auth, "last-event-id": "0"})
    try:
        assert stream.status == 200
        stream.next("state")
    finally:
        stream.close()


def test_streams_closed_before_they_began_give_their_places_back(server: str) -> None:
    """A client gone before its stream's first event kept its place for good (the stream's
    finally never ran): 21 of 150 quick connect-and-close requests leaked under load."""
    conversation, auth = _customer(server)
    port = int(server.rsplit(":", 1)[1])

    def streams() -> int:
        # Until the server has noticed the closed sockets they count as this address's requests in
        # progress, so /healthz itself may be refused (429): not yet.
        response = httpx.get(f"{server}/healthz")
        return -1 if response.status_code == 429 else response.json()["open_chats"]["streams"]

    before = streams()
    request = (
        f"GET /api/v1/conversations/{conversation}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: {auth['authorization']}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    for _ in range(150):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(request)
    deadline = time.monotonic() + 30  # the server notices each closed socket
    while streams() != before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert streams() == before


def test_the_streams_are_in_the_openapi_schema_with_their_media_type(server: str) -> None:
    schema = httpx.get(f"{server}/api/schema/openapi.json").json()
    events = schema["paths"]["/api/v1/conversations/{conversation_id}/events"]["get"]
    assert "text/event-stream" in events["responses"]["200"]["content"]
    sent = schema["paths"]["/api/v1/conversations/{conversation_id}/messages"]["post"]
    assert "text/event-stream" in sent["responses"]["200"]["content"]


def test_the_number_of_streams_fits_the_open_files_limit() -> None:
    """A service starts with 1,024 open files (systemd's default soft limit): 1,000 streams would
    have run the process out of descriptors. In a child process, not to change this one's."""
    import subprocess
    import sys

    code = (
        "import resource\n"
        "from appliance.web.services import room_for_streams\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))\n"
        "print(room_for_streams(1000), room_for_streams(100))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["384", "100"]  # (1024 - 256) / 2 with a hard limit of 1,024: fitted, not raised past it


# -- the owner's presence -------------------------------------------------------------------------


def test_presence_needs_the_switch_and_an_open_page_and_is_remembered(store) -> None:
    from appliance.conversations.presence import ONLINE_S, Presence

    now = [1000.0]
    changes: list[bool] = []
    presence = Presence(store, clock=lambda: now[0])
    presence.on_change = lambda: changes.append(presence.online)
    assert not presence.online
    presence.beat()  # a page open, but not available: away
    assert not presence.online and changes == []
    presence.set_available(True)
    assert presence.online and changes == [True]
    now[0] += ONLINE_S + 1  # the laptop closed: no beat for a while
    assert not presence.online
    presence.beat()
    assert presence.online and changes == [True, True]
    assert Presence(store).available  # after a restart the switch is as the owner left it
    presence.set_available(False)
    assert not presence.online and not Presence(store).available


def test_an_open_chat_is_told_when_a_person_comes_online_and_goes(server: str) -> None:
    conversation, auth = _customer(server)
    polled = httpx.get(f"{server}/api/v1/conversations/{conversation}/messages", headers=auth).json()
    assert polled["person"] == "away" and polled["reply_by"]  # when a person will reply, in words
    stream = Stream(server, conversation, auth)
    owner = _owner(server)
    try:
        _, state = stream.next("state")
        assert state["person"] == "away"
        owner.post("/admin/presence", data={"available": "1"})
        _, state = stream.next("state")
        assert state["person"] == "online" and "reply_by" not in state
        owner.post("/admin/presence", data={"available": "0"})
        _, state = stream.next("state")
        assert state["person"] == "away"
    finally:
        stream.close()
        owner.post("/admin/presence", data={"available": "0"})


def test_the_widget_says_whether_a_person_is_there_before_anything_is_asked(admin) -> None:
    from .helpers import csrf, sign_in

    away = admin.get("/widget?lang=en").text
    assert 'class="presence"' in away and "A person from Book Nook will reply" in away
    sign_in(admin)
    admin.post("/admin/presence", data={"available": "1"}, headers={**SAME, "x-csrf-token": csrf(admin)})
    online = admin.get("/widget?lang=fa").text
    assert 'class="presence online"' in online and "یکی از همکاران Book Nook الان آنلاین است." in online
    assert "در دسترسم" in admin.get("/admin/?lang=fa").text  # the switch, as the owner left it
