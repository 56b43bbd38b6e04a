#!/usr/bin/env python3
"""Open widgets on the push stream: how fast the owner's reply reaches them, and what holding
them costs. Figures, not assertions (machines here are shared and noisy):

    .venv/bin/python scripts/bench_push.py [--idle 100 500] [--replies 40]

For each size N it starts its own `appliance serve --demo` (no model; behind a pretend reverse
proxy so that each widget comes from an address of its own, as customers do), starts N
conversations and opens N event streams that then sit idle, as open widgets do. It reports the
server's memory (RSS of granian and its worker) and open file descriptors before and with the
N streams, then lets the owner reply (through the admin, as the inbox does) to some of them,
timing each reply from the owner's request to the event arriving on the customer's stream.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadtest import PASSWORD, free_port, latency, start_server, stop_server, tree_fds, tree_rss_mib, wait_ready


async def open_widget(client: httpx.AsyncClient, base: str, n: int) -> tuple[str, dict[str, str]]:
    address = {"x-forwarded-for": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256 or 1}"}
    started = (await client.post(f"{base}/api/v1/conversations", json={"lang": "fa"}, headers=address)).json()
    return started["conversation_id"], {**address, "authorization": f"Bearer {started['visitor_token']}"}


async def listen(client: httpx.AsyncClient, base: str, conversation: str, headers: dict, inbox: asyncio.Queue) -> None:
    async with client.stream("GET", f"{base}/api/v1/conversations/{conversation}/events", headers=headers) as r:
        if r.status_code != 200:
            await inbox.put((conversation, "refused", r.status_code))
            return
        await inbox.put((conversation, "open", 0))
        async for line in r.aiter_lines():
            if line.startswith("data:") and '"role": "owner"' in line:
                await inbox.put((conversation, "message", time.monotonic()))


async def owner_client(base: str) -> httpx.AsyncClient:
    owner = httpx.AsyncClient(base_url=base, timeout=60, headers={"origin": base})
    await owner.post("/admin/login", data={"password": PASSWORD, "next": "/admin/"})
    page = (await owner.get("/admin/")).text
    marker = '"X-CSRF-Token": "'
    owner.headers["x-csrf-token"] = page[page.index(marker) + len(marker) :].split('"')[0]
    return owner


async def run(size: int, replies: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(Path(tmp) / "data", port, "none", ["max_open_chats_per_address=10"])
        try:
            wait_ready(base, proc)
            limits = httpx.Limits(max_connections=size + 20, max_keepalive_connections=size + 20)
            async with httpx.AsyncClient(timeout=httpx.Timeout(60, read=None), limits=limits) as client:
                widgets = [await open_widget(client, base, n) for n in range(size)]
                await asyncio.sleep(1)
                before = {"rss_mib": tree_rss_mib(proc.pid), "fds": tree_fds(proc.pid)}
                inbox: asyncio.Queue = asyncio.Queue()
                tasks = [asyncio.create_task(listen(client, base, c, h, inbox)) for c, h in widgets]
                opened = refused = 0
                while opened + refused < size:
                    _, what, _ = await asyncio.wait_for(inbox.get(), 60)
                    opened += what == "open"
                    refused += what == "refused"
                await asyncio.sleep(2)
                held = {"rss_mib": tree_rss_mib(proc.pid), "fds": tree_fds(proc.pid)}
                health = httpx.get(f"{base}/healthz").json()["open_chats"]
                owner = await owner_client(base)
                took = []
                for conversation, _ in widgets[: min(replies, size)]:
                    sent = time.monotonic()
                    r = await owner.post(f"/admin/conversations/{conversation}/reply", data={"text": "سلام، بله."})
                    if r.status_code != 200:
                        raise SystemExit(f"the owner's reply failed: HTTP {r.status_code}")
                    while True:
                        got, what, at = await asyncio.wait_for(inbox.get(), 30)
                        if got == conversation and what == "message":
                            took.append(at - sent)
                            break
                await owner.aclose()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            stop_server(proc)
    return {
        "idle_streams": size,
        "opened": opened,
        "refused": refused,
        "server_counts": health,
        "before": before,
        "with_streams": held,
        "per_stream_kib": round((held["rss_mib"] - before["rss_mib"]) * 1024 / max(1, opened), 1),
        "owner_reply_to_widget_ms": latency(took),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--replies", type=int, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = [asyncio.run(run(size, args.replies)) for size in args.idle]
    print(
        "| open widgets | streams held | RSS MiB before → with | fds before → with | per stream | owner reply → widget p50 / p95 / max |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        lat = r["owner_reply_to_widget_ms"]
        print(
            f"| {r['idle_streams']} | {r['opened']} (refused {r['refused']}) "
            f"| {r['before']['rss_mib']:.0f} → {r['with_streams']['rss_mib']:.0f} "
            f"| {r['before']['fds']} → {r['with_streams']['fds']} | {r['per_stream_kib']} KiB "
            f"| {lat['p50']} / {lat['p95']} / {lat['max']} ms |"
        )
    if args.json:
        with contextlib.suppress(OSError):
            args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
