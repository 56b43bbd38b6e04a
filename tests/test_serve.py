"""A real `appliance serve` process (granian, one worker) on a free loopback port."""

import json
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from .helpers import (
    APPLIANCE,
    free_port,
    start_server,
    stop,
    wait_healthy,
)

pytestmark = pytest.mark.slow


def test_serve_answers_healthz_and_refuses_a_second_copy(data_dir: Path, default_model: Path) -> None:
    port = free_port()
    proc = start_server(data_dir, port)
    try:
        body = wait_healthy(port, proc)
        assert body["status"] == "ok" and body["mode"] == "model"
        assert body["model"]["state"] == "ready"
        # a second copy on the same data directory refuses, clearly, and harms nothing
        second = subprocess.run(
            [APPLIANCE, "serve", "--data-dir", str(data_dir), "--port", str(free_port())],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert "already running" in second.stderr and "Traceback" not in second.stderr
        assert wait_healthy(port, proc)["status"] == "ok"
    finally:
        out = stop(proc)
    assert f"http://127.0.0.1:{port}/admin/setup?token=" in out  # first run prints the setup link
    assert f"http://127.0.0.1:{port}/admin/" in out


def test_restart_after_kill_9(data_dir: Path) -> None:
    port = free_port()
    proc = start_server(data_dir, port, "--model", "none")
    wait_healthy(port, proc)
    stop(proc, signal.SIGKILL)
    proc = start_server(data_dir, port, "--model", "none")
    try:
        body = wait_healthy(port, proc)
        assert body["mode"] == "knowledge-base-only" and body["model"]["state"] == "none"
    finally:
        stop(proc)


def test_demo_loads_the_bookshop(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo-data"
    port = free_port()
    proc = start_server(data_dir, port, "--demo", "--model", "none")
    try:
        wait_healthy(port, proc)
    finally:
        out = stop(proc)
    assert "Demo bookshop:" in out
    conn = sqlite3.connect(data_dir / "appliance.db")
    assert conn.execute("SELECT count(*) FROM kb_entries").fetchone()[0] >= 25
    assert "Demo Bookshop" in (data_dir / "settings.toml").read_text(encoding="utf-8")


def test_port_in_use_is_a_clear_error(data_dir: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = subprocess.run(
            [APPLIANCE, "serve", "--data-dir", str(data_dir), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1 and "can't listen" in result.stderr


def test_every_forwarded_for_line_is_read_and_the_proxys_own_hop_wins(data_dir: Path) -> None:
    """Behind a trusted proxy, a client that sends its own X-Forwarded-For line first was believed
    (only the first line was read): a fresh address for every conversation. Raw requests, since
    HTTP client libraries merge repeated header lines before sending."""
    import socket

    (data_dir / "settings.toml").write_text('trusted_proxies = ["127.0.0.1"]\nip_conversations_per_day = 1\n')
    port = free_port()
    proc = start_server(data_dir, port, "--model", "none")

    def open_with(*lines: str) -> int:
        body = json.dumps({"lang": "en"}).encode()
        head = "".join(f"X-Forwarded-For: {line}\r\n" for line in lines)
        raw = (
            f"POST /api/v1/conversations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(raw + body)
            status_line = s.makefile("rb").readline().decode()
        return int(status_line.split()[1])

    try:
        wait_healthy(port, proc)
        assert open_with("198.51.100.1, 203.0.113.7") == 201  # the proxy saw 203.0.113.7
        # The same real client, with a line of its own before the proxy's line.
        assert open_with("198.51.100.99", "198.51.100.2, 203.0.113.7") == 429
        assert open_with("203.0.113.8") == 201  # another real client
    finally:
        stop(proc)


def test_a_slow_or_abandoned_body_is_refused_and_logged_in_one_line(data_dir: Path) -> None:
    """A body trickling in was held with no timeout; a client gone halfway logged a traceback."""
    import socket

    (data_dir / "settings.toml").write_text("body_idle_timeout_s = 1.5\n")
    port = free_port()
    proc = start_server(data_dir, port, "--model", "none")

    def head(length: int) -> bytes:
        return (
            f"POST /api/v1/conversations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
        ).encode()

    try:
        wait_healthy(port, proc)
        with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
            began = time.monotonic()
            s.sendall(head(100) + b'{"lang": ')  # ... and nothing more
            status_line = s.makefile("rb").readline().decode()
            waited = time.monotonic() - began
        assert status_line.split()[1] == "408", status_line
        assert waited < 10, waited
        with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
            s.sendall(head(100) + b'{"lang": ')
            time.sleep(0.3)
        time.sleep(1.0)
        # The server is fine, and goes on answering.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200
    finally:
        out = stop(proc)
    assert "request body too slow" in out
    assert "Traceback" not in out and "disconnected prematurely" not in out, out
