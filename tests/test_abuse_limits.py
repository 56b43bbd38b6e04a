"""Issue #31's abuse holes, each with what shuts it: photos decoded at full size (memory), request
bodies trickled in and requests held open per address (the server's queue), stream places leaked
by clients gone before their stream started, and the owner's PDFs passed on with their scripts.

Through the real app: Litestar's test client, or the ASGI app itself where a client must do what
no HTTP client library does (vanish before the response, trickle a body)."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from PIL import Image
from pypdf import PdfReader

from appliance import i18n
from appliance.conversations import attachments
from appliance.web import guards as body_guard

from .helpers import bearer, make_api_client, pdf, pdf_of, start_chat


def _png(size: tuple[int, int], mode: str = "L") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def _jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, 128).save(out, "JPEG", quality=50)
    return out.getvalue()


# -- photos ---------------------------------------------------------------------------------------


def test_a_picture_that_cant_be_decoded_small_is_refused_above_the_decoded_pixel_cap() -> None:
    """A 7,000 x 7,000 PNG is a few hundred kB and 196 MB decoded (RGBA): ten at once took the
    web process to 7 GB. Refused from its header; a JPEG as large is decoded at a reduced scale."""
    huge = _png((7000, 7000))
    assert len(huge) < 1_000_000
    with pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.clean_image(huge, "screen.png", 8_000_000)
    assert refused.value.key == "attachment.too_many_pixels"
    over = _png((5000, 5000))  # 25 MP: over the cap for what is decoded whole
    with pytest.raises(attachments.AttachmentRefused):
        attachments.clean_image(over, "screen.png", 8_000_000)
    photo = attachments.clean_image(_jpeg((5000, 5000)), "photo.jpg", 8_000_000)  # decoded at 1/2
    assert (photo.width, photo.height) == (2000, 2000)


def _address_space_after_imports() -> int:
    code = (
        "import appliance.conversations.photo_worker\n"
        "print([int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmSize')][0])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_a_picture_is_drawn_in_a_child_whose_memory_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A picture that needs more memory than the drawing process may have costs that process
    only: refused, and this one (the web process) is untouched."""
    baseline = _address_space_after_imports()
    monkeypatch.setattr(attachments, "DECODE_MEMORY_BYTES", baseline + 40 * 2**20)
    small = attachments.clean_image(_png((300, 200)), "small.png", 8_000_000)
    assert (small.width, small.height) == (300, 200)
    # 16 MP: 16 MB decoded and 64 MB drawn again in RGB, more than the 40 MB it may add.
    with pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.clean_image(_png((4000, 4000)), "big.png", 8_000_000)
    assert refused.value.key in {"attachment.too_many_pixels", "attachment.damaged"}
    monkeypatch.undo()
    assert attachments.clean_image(_png((4000, 4000)), "big.png", 8_000_000).width == 2000


def test_one_picture_per_visitor_and_two_in_the_process_at_a_time() -> None:
    async def run() -> None:
        turns = attachments.PhotoTurns(at_once=2, wait_s=0.2)
        inside: list[str] = []
        release = asyncio.Event()

        async def hold(visitor: str) -> None:
            async with turns.turn(visitor):
                inside.append(visitor)
                await release.wait()

        a, b = asyncio.create_task(hold("A")), asyncio.create_task(hold("B"))
        await asyncio.sleep(0.05)
        assert sorted(inside) == ["A", "B"]
        with pytest.raises(attachments.AttachmentRefused) as refused:  # A's second, at once
            async with turns.turn("A"):
                pass
        assert refused.value.key == "attachment.one_at_a_time"
        with pytest.raises(attachments.AttachmentRefused) as refused:  # a third visitor waits, then busy
            async with turns.turn("C"):
                pass
        assert refused.value.key == "attachment.busy"
        release.set()
        await asyncio.gather(a, b)
        async with turns.turn("A"):  # A's turn again once the first is done
            pass

    asyncio.run(run())


def test_the_api_refuses_a_huge_picture_clearly_in_the_customers_language(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db) as c:
        conv, token, _ = start_chat(c, "fa")
        r = c.post(
            f"/api/v1/conversations/{conv}/attachments",
            files={"file": ("screen.png", _png((7000, 7000)), "image/png")},
            data={"lang": "fa"},
            headers=bearer(token),
        )
        assert r.status_code == 422 and r.json()["error"] == "attachment.too_many_pixels", r.text
        widget = c.get("/widget?lang=fa").text
        words = json.dumps(i18n.t("fa", "widget.error.photo_too_many_pixels"))[1:-1]
        assert words in widget and "ابعاد این عکس" in i18n.t("fa", "widget.error.photo_too_many_pixels")
        assert not c.app.state.services.store.read().execute("SELECT COUNT(*) FROM attachments").fetchone()[0]


# -- the owner's PDFs -----------------------------------------------------------------------------


def _active_pdf() -> bytes:
    """A one-page PDF that acts when opened: a script on opening, page and document actions,
    a named script, an attached file, a link that launches a program; an HTML page after its end."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R /AA << /WC 4 0 R >> "
        b"/Names << /JavaScript << /Names [(x) 4 0 R] >> /EmbeddedFiles << /Names [(a.exe) 5 0 R] >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /AA << /O 4 0 R >> /Annots [6 0 R] >>",
        b"<< /Type /Action /S /JavaScript /JS (app.alert\\('hi'\\)) >>",
        b"<< /Type /Filespec /F (a.exe) /EF << /F 7 0 R >> >>",
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A << /S /Launch /F (calc.exe) >> >>",
        b"<< /Length 4 >>\nstream\nMZ..\nendstream",
    ]
    return pdf_of(objects) + b"<html><script>alert(document.cookie)</script></html>"


def test_the_owners_pdf_is_written_again_without_what_acts_or_follows_its_end() -> None:
    sent = _active_pdf()
    assert PdfReader(io.BytesIO(sent)).pages[0]  # a PDF a reader opens
    clean = attachments.clean_owner_file(sent, "guide.pdf", 1_000_000)
    for active in (b"/OpenAction", b"/AA", b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFiles", b"calc.exe"):
        assert active not in clean.data, active
    assert b"<html" not in clean.data and clean.data.rstrip().endswith(b"%%EOF")
    reader = PdfReader(io.BytesIO(clean.data))
    assert len(reader.pages) == 1 and reader.pages[0].mediabox.width == 200
    # a plain one keeps its page
    assert len(PdfReader(io.BytesIO(attachments.clean_owner_file(pdf(), "a.pdf", 1_000_000).data)).pages) == 1


# -- the raw ASGI app, for clients no HTTP library imitates ---------------------------------------


def _scope(method: str, path: str, client: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in {"host": "testserver", **headers}.items()],
        "client": (client, 50000),
        "server": ("testserver", 80),
        "state": {},
    }


Receive = Callable[[], Awaitable[dict[str, Any]]]


async def _call(c: TestClient, scope: dict[str, Any], receive: Receive) -> int:
    status = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await c.app(scope, receive, send)  # type: ignore[arg-type]
    return status


def _run(c: TestClient, fn: Callable[[], Awaitable[Any]]) -> Any:
    """On the app's own event loop (the hub and the limits belong to it)."""
    with c.portal() as portal:
        return portal.call(fn)


def test_a_stream_whose_client_left_before_it_began_gives_its_place_back(data_dir: Path, demo_db: Path) -> None:
    """push.listen() ran in the handler and push.leave() only in the stream's finally, which a
    stream that never started never reaches: each such client kept a place for good."""
    with make_api_client(data_dir, demo_db) as c:
        conv, token, _ = start_chat(c, "en")
        hub = c.app.state.services.push
        before = hub.open_streams
        scope = _scope("GET", f"/api/v1/conversations/{conv}/events", "127.0.0.1", bearer(token))

        async def gone() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def closed_socket(message: dict[str, Any]) -> None:
            raise OSError("the client closed the connection")

        async def connect_and_close() -> None:
            for _ in range(5):
                with pytest.raises(Exception):  # noqa: B017 (the server sees the error, whatever its kind)
                    await c.app(scope, gone, closed_socket)  # type: ignore[arg-type]

        _run(c, connect_and_close)
        assert hub.open_streams == before


# Header bytes are read as Latin-1: b"\xb2" is "²", which passes str.isdigit() and broke int().
@pytest.mark.parametrize("value", [b"\xb2", b"\xb9\xb2", b"1e3", b"-1", b"99999999999999999999", b"not-a-number"])
def test_a_last_event_id_that_isnt_a_message_id_is_a_400(data_dir: Path, demo_db: Path, value: bytes) -> None:
    with make_api_client(data_dir, demo_db) as c:
        conv, token, _ = start_chat(c, "en")
        scope = _scope("GET", f"/api/v1/conversations/{conv}/events", "127.0.0.1", bearer(token))
        scope["headers"].append((b"last-event-id", value))

        async def leaves_soon() -> dict[str, Any]:  # a stream opened by mistake ends with its client
            await asyncio.sleep(0.5)
            return {"type": "http.disconnect"}

        assert _run(c, lambda: _call(c, scope, leaves_soon)) == 400
        assert c.app.state.services.push.open_streams == 0


def test_a_trickled_body_is_refused_when_it_falls_below_the_minimum_rate(
    data_dir: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A byte every so often kept within the idle limit for 300 s: now the body must keep an
    average rate (after a grace period, shortened here)."""
    monkeypatch.setattr(body_guard, "RATE_GRACE_S", 0.2)
    body = b'{"lang": "en"}' + b" " * 26
    with make_api_client(data_dir, demo_db, body_min_bytes_per_s=100.0) as c:
        scope = _scope(
            "POST",
            "/api/v1/conversations",
            "127.0.0.1",
            {"content-type": "application/json", "content-length": str(len(body))},
        )

        async def trickle() -> int:
            sent = 0

            async def receive() -> dict[str, Any]:
                nonlocal sent
                if sent >= len(body):
                    await asyncio.Event().wait()  # the client waits for its answer
                await asyncio.sleep(0.05)  # 20 bytes a second
                sent += 1
                return {"type": "http.request", "body": body[sent - 1 : sent], "more_body": sent < len(body)}

            status = await _call(c, scope, receive)
            assert sent < len(body)  # refused before the body was all there
            return status

        assert _run(c, trickle) == 408
        fast = c.post("/api/v1/conversations", json={"lang": "en"})  # a whole body at once is fine
        assert fast.status_code == 201


def test_requests_held_open_from_one_address_are_capped_and_others_are_served(data_dir: Path, demo_db: Path) -> None:
    """1,030 slow bodies from one address filled the server's queue and /healthz from elsewhere
    timed out: past its cap an address is answered 429 at once, before its body is read."""
    with make_api_client(data_dir, demo_db, max_open_chats_per_address=2, requests_per_address=1) as c:
        cap = 3
        post = {"content-type": "application/json", "content-length": "100"}

        async def run() -> tuple[list[int], int, int]:
            never = asyncio.Event()

            async def silent() -> dict[str, Any]:  # headers sent, the body never comes
                await never.wait()
                return {"type": "http.disconnect"}

            held = [
                asyncio.create_task(_call(c, _scope("POST", "/api/v1/conversations", "127.0.0.1", post), silent))
                for _ in range(cap)
            ]
            await asyncio.sleep(0.1)
            refused = [
                await asyncio.wait_for(_call(c, _scope("POST", "/api/v1/conversations", "127.0.0.1", post), silent), 10)
                for _ in range(3)
            ]

            async def empty() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            other = await asyncio.wait_for(_call(c, _scope("GET", "/healthz", "127.0.0.2", {}), empty), 10)
            never.set()
            await asyncio.gather(*held, return_exceptions=True)
            again = await asyncio.wait_for(_call(c, _scope("GET", "/healthz", "127.0.0.1", {}), empty), 10)
            return refused, other, again

        refused, other, again = _run(c, run)
        assert refused == [429, 429, 429] and other == 200 and again == 200
