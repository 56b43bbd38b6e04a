#!/usr/bin/env python3
"""Slow request bodies against a real `appliance serve` on loopback: does everyone else still get
an answer? Figures, not assertions (issue #31, finding 2):

    .venv/bin/python scripts/bench_slow_bodies.py [--slow 1030] [--seconds 35]

It starts its own server (no model), then from 127.0.0.1 opens ``--slow`` connections that each
send the headers of `POST /api/v1/conversations` (Content-Length 100) and one byte of body, then
one more byte every 10 s, as the probe did (it filled granian's 1,024 requests and `/healthz` from
another address timed out after 30 s). Meanwhile, from 127.0.0.2, it asks `/healthz` once a
second. It reports how the slow requests were answered (and when), and the health checks' times.
Bounded: at most 2,000 connections, at most 120 s, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port, start_server


def start(data_dir: Path, port: int) -> subprocess.Popen:
    return start_server(data_dir, port, "--model", "none", quiet=True)


async def status_of(port: int, source: str, raw: bytes, timeout: float) -> tuple[int, float]:
    began = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
            writer.write(raw)
            line = await reader.readline()
            writer.close()
        return int(line.split()[1]) if line else 0, time.monotonic() - began
    except (TimeoutError, OSError, ValueError, IndexError):
        return 0, time.monotonic() - began


async def wait_ready(port: int, proc: subprocess.Popen) -> None:
    health = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    for _ in range(400):
        if proc.poll() is not None:
            raise SystemExit("the server exited")
        if (await status_of(port, "127.0.0.1", health, 2))[0] == 200:
            return
        await asyncio.sleep(0.3)
    raise SystemExit("the server did not start")


async def run(port: int, slow: int, seconds: float) -> dict:
    head = (
        f"POST /api/v1/conversations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n"
    ).encode()
    began = time.monotonic()
    answers: list[tuple[int, float]] = []
    writers: list[asyncio.StreamWriter] = []

    async def slow_one() -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.1", 0))
        except OSError:
            answers.append((-1, time.monotonic() - began))
            return
        writer.write(head + b"{")
        writers.append(writer)
        try:
            async with asyncio.timeout(seconds):
                line = await reader.readline()
            answers.append((int(line.split()[1]) if line else 0, time.monotonic() - began))
        except (TimeoutError, OSError, ValueError, IndexError):
            answers.append((-2, time.monotonic() - began))  # still held when the run ended
        finally:
            writer.close()

    async def trickle() -> None:
        while True:
            await asyncio.sleep(10)
            for w in list(writers):
                if not w.is_closing():
                    with contextlib.suppress(OSError):
                        w.write(b" ")

    health = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    checks: list[tuple[int, float]] = []

    async def probe() -> None:
        await asyncio.sleep(1.0)  # after the slow ones are in
        while time.monotonic() - began < seconds - 1:
            checks.append(await status_of(port, "127.0.0.2", health, 30))
            await asyncio.sleep(1.0)

    trickler = asyncio.create_task(trickle())
    await asyncio.gather(*(slow_one() for _ in range(slow)), probe())
    trickler.cancel()
    kinds = Counter(
        {200: "answered", 201: "answered", 408: "408 too slow", 429: "429 at once", 0: "closed", -1: "not connected",
         -2: "held to the end"}.get(code, str(code))
        for code, _ in answers
    )  # fmt: skip
    when = {
        name: round(max(t for c, t in answers if c == code), 1)
        for code, name in ((429, "last_429_s"), (408, "last_408_s"))
        if any(c == code for c, _ in answers)
    }
    times = [t * 1000 for code, t in checks if code == 200]
    return {
        "slow_bodies": slow,
        "outcomes": dict(kinds),
        **when,
        "healthz_from_127.0.0.2": {
            "asked": len(checks),
            "answered_200": len(times),
            "median_ms": round(statistics.median(times), 1) if times else None,
            "max_ms": round(max(times), 1) if times else None,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slow", type=int, default=1030, help="slow bodies from 127.0.0.1 (at most 2,000)")
    parser.add_argument("--seconds", type=float, default=35.0, help="how long to hold them (at most 120)")
    args = parser.parse_args()
    slow, seconds = max(1, min(args.slow, 2000)), max(5.0, min(args.seconds, 120.0))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, slow + 512)), hard))
    with tempfile.TemporaryDirectory(prefix="bench-slow-") as tmp:
        port = free_port()
        proc = start(Path(tmp), port)
        try:
            asyncio.run(wait_ready(port, proc))
            result = asyncio.run(run(port, slow, seconds))
            result["server_alive"] = proc.poll() is None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
