#!/usr/bin/env python3
"""Hostile photos against a real `appliance serve` on loopback: what they cost the web process.
Figures, not assertions (issue #31, finding 1):

    .venv/bin/python scripts/bench_hostile_photos.py [--uploads 10]

It starts its own server (no model) and sends, all at once:

1. ``--uploads`` copies of a 7,000 x 7,000 RGBA PNG (49 MP, a few hundred kB) from one visitor:
   the probe's case (ten of them took the web worker from 82 MB to 7,291 MB);
2. the same from ``--uploads`` visitors on 8 loopback addresses (127.0.0.2-9);
3. a 20-megapixel PNG (under the cap: really drawn) from ``--uploads`` visitors at once.

For each it reports the answers, the web worker's peak RSS (VmHWM, from /proc, the worker being
granian's child that runs the app) and the highest RSS sampled of the drawing children, the time
taken, and whether /healthz still answers.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port, start_server


def start(data_dir: Path, port: int) -> subprocess.Popen:
    return start_server(data_dir, port, "--model", "none", quiet=True)


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit("the server did not start")


def children(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                out += [int(p) for p in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return out


def status_kib(pid: int, field: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def web_worker(server: int) -> int:
    """granian's worker: the serve process's child that runs the app (the one with the most memory)."""
    return max(children(server), key=lambda p: status_kib(p, "VmRSS"))


def png(size: tuple[int, int]) -> bytes:
    img = Image.linear_gradient("L").resize(size).convert("RGBA")  # compresses well, isn't one colour
    out = io.BytesIO()
    img.save(out, "PNG", optimize=False)
    return out.getvalue()


def visitor(base: str, source: str) -> tuple[str, dict[str, str]]:
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as c:
        body = c.post(f"{base}/api/v1/conversations", json={"lang": "en"}).json()
    return body["conversation_id"], {"authorization": f"Bearer {body['visitor_token']}"}


def upload(base: str, source: str, conv: str, auth: dict[str, str], data: bytes) -> str:
    try:
        with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=180) as c:
            r = c.post(
                f"{base}/api/v1/conversations/{conv}/attachments",
                files={"file": ("x.png", data, "image/png")},
                data={"lang": "en"},
                headers=auth,
            )
        code = r.json().get("error", "") if r.status_code != 200 else ""
        return f"{r.status_code} {code}".strip()
    except httpx.HTTPError as exc:
        return type(exc).__name__


def scenario(base: str, server: int, name: str, data: bytes, senders: list[tuple[str, str, dict[str, str]]]) -> dict:
    worker = web_worker(server)
    before = status_kib(worker, "VmRSS")
    stop = threading.Event()
    peak_children = [0]

    def sample() -> None:  # the drawing children come and go: sampled
        while not stop.is_set():
            for child in children(worker):
                peak_children[0] = max(peak_children[0], status_kib(child, "VmRSS"))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.monotonic()
    with ThreadPoolExecutor(len(senders)) as pool:
        answers = list(pool.map(lambda s: upload(base, s[0], s[1], s[2], data), senders))
    took = time.monotonic() - began
    stop.set()
    sampler.join()
    alive = web_worker(server) == worker and httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    return {
        "scenario": name,
        "file_kb": round(len(data) / 1000),
        "answers": dict(Counter(answers)),
        "worker_rss_before_mib": round(before / 1024),
        "worker_peak_rss_mib": round(status_kib(worker, "VmHWM") / 1024),  # since the worker started
        "worker_rss_after_mib": round(status_kib(worker, "VmRSS") / 1024),
        "drawing_child_peak_rss_mib": round(peak_children[0] / 1024),
        "seconds": round(took, 1),
        "alive": alive,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=10, help="uploads sent at once in each scenario (at most 40)")
    args = parser.parse_args()
    n = max(1, min(args.uploads, 40))
    huge, big = png((7000, 7000)), png((5000, 4000))
    with tempfile.TemporaryDirectory(prefix="bench-photos-") as tmp:
        data_dir = Path(tmp)
        # The hourly and per-address photo limits would stop the run before memory is measured.
        (data_dir / "settings.toml").write_text("attachments_per_hour = 1000\nip_messages_per_minute = 1000\n")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start(data_dir, port)
        try:
            wait_ready(base, proc)
            results = []
            conv, auth = visitor(base, "127.0.0.1")
            results.append(scenario(base, proc.pid, "49 MP PNG, one visitor", huge, [("127.0.0.1", conv, auth)] * n))
            many = [(f"127.0.0.{2 + i % 8}", *visitor(base, f"127.0.0.{2 + i % 8}")) for i in range(n)]
            results.append(scenario(base, proc.pid, "49 MP PNG, a visitor each, 8 addresses", huge, many))
            many = [(f"127.0.0.{2 + i % 8}", *visitor(base, f"127.0.0.{2 + i % 8}")) for i in range(n)]
            results.append(scenario(base, proc.pid, "20 MP PNG (drawn), a visitor each", big, many))
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
    for r in results:
        print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
