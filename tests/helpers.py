"""What many test modules use: the owner's sign-in, the customer's chat calls, a real server
process. Fixtures are in conftest.py; these are plain functions and constants, imported."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from litestar.testing import TestClient

from appliance.app import create_app
from appliance.kb import embedder
from appliance.kb import store as kb
from appliance.kb.entry import Entry
from appliance.owner import account as owner
from appliance.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
APPLIANCE = str(Path(sys.executable).with_name("appliance"))

PASSWORD = "correct horse battery"
SAME = {"sec-fetch-site": "same-origin"}
HOSTILE = '<script>alert("kb")</script><img src=x onerror=alert(1)>'


@functools.cache
def password_hash() -> str:
    """The argon2 hash of PASSWORD, computed once: hashing is slow on purpose (about 0.1 s), and
    a hundred tests set the same password."""
    return owner.hash_password(PASSWORD)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime | None = None) -> None:
        self.now = at or datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


# -- the owner ------------------------------------------------------------------------------------


def sign_in(c: TestClient, password: str = PASSWORD, **headers: str):
    return c.post(
        "/admin/login",
        data={"password": password, "next": "/admin/kb"},
        headers={**SAME, **headers},
        follow_redirects=False,
    )


def csrf(c: TestClient) -> str:
    page = c.get("/admin/")
    marker = '"X-CSRF-Token": "'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def post(c: TestClient, path: str, **kwargs):
    """An htmx form post from the admin, with its CSRF token."""
    headers = {**SAME, "x-csrf-token": csrf(c), "hx-request": "true", **kwargs.pop("headers", {})}
    return c.post(path, headers=headers, **kwargs)


def seed(c: TestClient) -> None:
    """Two English entries, for inbox and learning-loop tests."""
    kb.save(
        c.app.state.services.store,
        [
            Entry(
                "hours",
                "Opening hours",
                "We open 9:00-18:00, Saturday to Wednesday.",
                "en",
                ["when are you open", "what are your opening hours"],
            ),
            Entry(
                "returns",
                "Returns",
                "Unused books can be returned within 7 days.",
                "en",
                ["can i return a book", "what is your return policy"],
            ),
        ],
        embedder=embedder.shared(),
        now="t0",
    )


# -- the customer ---------------------------------------------------------------------------------


def events(text: str) -> list[tuple[str, dict]]:
    """A server-sent event stream as (event, data) pairs."""
    out = []
    for block in text.strip().split("\r\n\r\n" if "\r\n\r\n" in text else "\n\n"):
        name, data = "message", ""
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
        if data:
            out.append((name, json.loads(data)))
    return out


def reply_of(stream: str) -> dict:
    """A reply's ``done`` event, with its text (sent before it in pieces) as ``text``."""
    got = events(stream)
    return {**got[-1][1], "text": "".join(d.get("text", "") for name, d in got if name == "delta")}


def store_on_copy(demo_db: Path, directory: Path):
    """A Store on a copy of the indexed demo bookshop (the ``demo_db`` fixture), in ``directory``."""
    from appliance.db import Store

    path = directory / "appliance.db"
    shutil.copy(demo_db, path)
    return Store(path)


def make_api_client(data_dir: Path, demo_db: Path, clock=None, **overrides) -> TestClient:
    """The app on a copy of the indexed demo bookshop (the ``demo_db`` fixture), on ``clock``
    if given."""
    shutil.copy(demo_db, data_dir / "appliance.db")
    settings = Settings(
        data_dir=data_dir, model="none", shop_name="Book Nook", allowed_origins=("https://shop.example",), **overrides
    )
    return TestClient(create_app(settings) if clock is None else create_app(settings, clock=clock))


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def start_chat(c: TestClient, lang: str = "fa", token: str | None = None) -> tuple[str, str, dict]:
    """A new conversation: (its id, the visitor's token, the whole answer)."""
    r = c.post("/api/v1/conversations", json={"lang": lang}, headers=bearer(token) if token else {})
    assert r.status_code == 201, r.text
    body = r.json()
    return body["conversation_id"], body["visitor_token"], body


def send(c: TestClient, conv: str, token: str, text: str, client_id: str | None = None):
    body = {"text": text} if client_id is None else {"text": text, "client_id": client_id}
    return c.post(f"/api/v1/conversations/{conv}/messages", json=body, headers=bearer(token))


def customer_asks(c: TestClient, text: str, token: str | None = None) -> tuple[str, str, dict]:
    """A customer starts a conversation and asks: (conversation, token, the reply's done event)."""
    conv, token, _ = start_chat(c, "en", token)
    return conv, token, events(send(c, conv, token, text).text)[-1][1]


# -- the model -----------------------------------------------------------------------------------


def stream_reply(runtime, messages: list[dict], **kwargs) -> tuple[list[str], dict]:
    """A model runtime's reply, streamed to the end: its pieces and its stats."""
    import asyncio
    import contextlib

    async def go():
        pieces: list[str] = []
        stats: dict = {}
        async with contextlib.aclosing(runtime.stream(messages, stats=stats, **kwargs)) as it:
            async for piece in it:
                pieces.append(piece)
        return pieces, stats

    return asyncio.run(go())


# -- a real browser --------------------------------------------------------------------------------

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
)  # fmt: skip


def chromium_paths() -> tuple[str, str] | None:
    """Debian's chromium and chromedriver, or None when they aren't installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_chromium(user_data_dir: Path, *extra_flags: str):
    """Real headless Chromium (selenium), started as the developers' guide says."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    assert paths, "Chromium and chromedriver are missing: ./install.sh --dev installs them"
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}", *extra_flags):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(paths[1]), options=options)
    driver.set_page_load_timeout(30)
    return driver


def wait(driver, timeout: float = 20):
    """Selenium's wait on ``driver``, for ``.until(...)``."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout)


def owner_session(appliance_server):
    """The owner signed in over HTTP, as the admin page would be (CSRF token included)."""
    import httpx

    reset_password(appliance_server["db"].parent, PASSWORD, "--demo")
    owner = httpx.Client(base_url=appliance_server["base"], timeout=30)
    owner.post("/admin/login", data={"password": PASSWORD, "next": "/admin/"}, headers=SAME)
    page = owner.get("/admin/").text
    marker = '"X-CSRF-Token": "'
    owner.headers.update({**SAME, "x-csrf-token": page[page.index(marker) + len(marker) :].split('"')[0]})
    return owner


# The proactive messages' bubbles shown on the shop's page, read in the browser.
BUBBLE = (
    "return [...document.querySelectorAll('div[role=status]')]"
    ".filter(d => getComputedStyle(d).display !== 'none').map(d => d.textContent)"
)


# -- a real server process ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    data_dir: Path,
    port: int,
    *extra: str,
    command: tuple[str, ...] = (APPLIANCE,),
    cwd: Path | None = None,
    quiet: bool = False,
    settings: dict[str, str] | None = None,
) -> subprocess.Popen:
    """`appliance serve` on loopback, with none of the developer's APPLIANCE_ settings but
    ``settings`` (APPLIANCE_<NAME> variables). ``quiet``: its output thrown away (a benchmark's
    long run would fill an unread pipe)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    env.update({f"APPLIANCE_{name.upper()}": value for name, value in (settings or {}).items()})
    return subprocess.Popen(
        [*command, "serve", "--data-dir", str(data_dir), "--port", str(port), *extra],
        stdout=subprocess.DEVNULL if quiet else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )


def reset_password(data_dir: Path, password: str, *extra: str, timeout: float = 300) -> None:
    """`appliance reset-password` (with ``extra``, e.g. --demo) in ``data_dir``, as an owner would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    done = subprocess.run(
        [APPLIANCE, "reset-password", *extra, "--data-dir", str(data_dir)],
        input=f"{password}\n{password}\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr


@contextmanager
def demo_server(data_dir: Path, password: str) -> Iterator[str]:
    """A real `appliance serve --demo` (no model) whose owner's password is ``password``, for the
    browser tests: its address while the block runs, stopped after."""
    reset_password(data_dir, password, "--demo")
    port = free_port()
    proc = start_server(data_dir, port, "--demo", "--model", "none")
    try:
        wait_healthy(port, proc, timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early:\n{proc.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                body = json.load(r)
                if body["model"]["state"] != "loading":
                    return body
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become healthy")


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> str:
    """Stop the server's whole process group: a parent already gone (killed by a test) may have
    left granian's worker running, answering beside the next server and holding its CPU."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    return out


def asgi_get(app, raw_path: str) -> tuple[int, bytes]:
    """A GET sent with its path exactly as written: httpx (the test client) collapses ``..`` and
    decodes ``%2e`` before sending, so a traversal test through it never sends the traversal."""
    import asyncio
    from urllib.parse import unquote

    async def go() -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": unquote(raw_path),
            "raw_path": raw_path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver.local")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver.local", 80),
            "state": {},
        }
        status, body = 0, b""

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body += message.get("body", b"")

        await app(scope, receive, send)
        return status, body

    return asyncio.run(go())


def pdf() -> bytes:
    """A one-page PDF, written object by object."""
    return pdf_of(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        ]
    )


def make_pdf(pages: list[str | None]) -> bytes:
    """A real PDF, written object by object (text pages in Helvetica; None: a page with no text,
    as a scan has)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        page_no = len(objects) + 1
        kids.append(f"{page_no} 0 R")
        if text is None:
            objects.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")
            continue
        lines = " ".join(f"({line}) Tj 0 -16 Td" for line in text.split("\n"))
        stream = f"BT /F1 12 Tf 72 720 Td {lines} ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_no + 1} 0 R "
            f"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def pdf_of(objects: list[bytes]) -> bytes:
    """A PDF written object by object (object n is objects[n - 1]; 1 is the catalogue), with its
    cross-reference table: small hostile or plain PDFs for the tests."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


class QuietHandler(BaseHTTPRequestHandler):
    """A test web server's pages: ``_send`` one answer; nothing logged."""

    def _send(self, status: int, media: str, body: bytes, location: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


# -- small shops' files ---------------------------------------------------------------------------

# A knowledge base of four English entries and questions about it, for `appliance eval`.
KB = [
    {
        "id": "kb-0",
        "intent": "shipping_time",
        "lang": "en",
        "marker": "KB-0-AAAA",
        "questions": ["how long does delivery take", "when will my order arrive", "delivery time to shiraz"],
        "answer": "Orders arrive in 3-5 business days. Reference code: KB-0-AAAA.",
    },
    {
        "id": "kb-1",
        "intent": "returns",
        "lang": "en",
        "marker": "KB-1-BBBB",
        "questions": ["can i return a book", "what is your return policy", "how do i send a book back"],
        "answer": "Unused books can be returned within 7 days. Reference code: KB-1-BBBB.",
    },
    {
        "id": "kb-2",
        "intent": "payment_methods",
        "lang": "en",
        "marker": "KB-2-CCCC",
        "questions": ["how can i pay", "do you take cash on delivery", "which cards do you accept"],
        "answer": "We accept bank cards and cash on delivery in Tehran. Reference code: KB-2-CCCC.",
    },
    {
        "id": "kb-3",
        "intent": "opening_hours",
        "lang": "en",
        "marker": "KB-3-DDDD",
        "questions": ["what are your opening hours", "are you open on friday", "when does the shop open"],
        "answer": "Open Saturday to Wednesday 9:00-18:00. Reference code: KB-3-DDDD.",
    },
]
QUESTIONS = [
    {"query": "how long does delivery take", "gold": "kb-0", "kind": "in_scope"},
    {"query": "can i return a book", "gold": "kb-1", "kind": "in_scope"},
    {"query": "what are your opening hours", "gold": "kb-3", "kind": "in_scope"},
    {"query": "which cards do you accept", "gold": "kb-2", "kind": "in_scope"},
    {"query": "what is the weather in paris tomorrow", "gold": None, "kind": "ood_oos"},
    {"query": "please book me a flight to london", "gold": None, "kind": "ood_oos"},
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# WooCommerce's product export, as it really comes: a byte-order mark, a quoted multi-line
# description, a variable product whose price and stock live on its variation rows.
WOO = (
    '\ufeffID,Type,SKU,Name,Published,"Short description","In stock?",Stock,"Sale price","Regular price",'
    'Parent,"Attribute 1 name","Attribute 1 value(s)","Attribute 2 name","Attribute 2 value(s)"\n'
    '11,simple,BOOF,بوف کور,1,"رمان صادق هدایت.\nچاپ جدید، جلد نرم",1,12,,"185,000",,,,,\n'
    '12,variable,HOOD,Classic Hoodie,1,Warm.,1,,,,,Color,"Blue, Black",Size,"M, L"\n'
    '13,variation,HOOD-BL-M,"Classic Hoodie - Blue, M",1,,1,2,,890000,id:12,Color,Blue,Size,M\n'
    '14,variation,HOOD-BL-L,"Classic Hoodie - Blue, L",1,,0,0,,890000,id:12,Color,Blue,Size,L\n'
    '15,variation,HOOD-BK-M,"Classic Hoodie - Black, M",1,,1,9,850000,890000,id:12,Color,Black,Size,M\n'
    "16,simple,ZIP,Zip Hoodie,1,,1,4,,990000,,,,,\n"
)


# Every field of the admin's settings form, as a browser sends it (tests of the settings page and
# of Persian input in every form).
SETTINGS_FORM = {
    "shop_name": "Book Nook 2",
    "default_language": "en",
    "typical_reply_time": "by noon",
    "allowed_origins": "https://a.example, https://b.example",
    "widget_color": "#112233",
    "privacy_policy_url": "https://a.example/privacy",
    "privacy_notice": "",
    "phrase_with_model": "on",
    "phrase_budget_s": "0.5",
    "answer_threshold": "0",
    "clarify_threshold": "0",
    "model": "none",
    "smtp_host": "",
    "smtp_port": "587",
    "smtp_security": "starttls",
    "smtp_user": "",
    "smtp_password": "",
    "smtp_from": "",
    "owner_email": "",
    "backup_time": "03:00",
    "backups_daily": "7",
    "backups_weekly": "4",
    "backups_monthly": "6",
    "retention_days": "365",
    "digest_time": "07:30",
}
