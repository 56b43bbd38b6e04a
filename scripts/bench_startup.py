#!/usr/bin/env python3
"""Cold start: from `appliance serve` to answering, on a fresh data directory and on a restart.

    .venv/bin/python scripts/bench_startup.py [--runs 3] [--model default]

For each run it starts a real server and reports the time until the port answers /healthz, until
the model is ready (or knowledge-base-only mode is settled), and until the first customer
question is answered, plus the server's resident memory (granian and its worker) once ready.
"First start" is a new data directory with the demo shop: migrations, the demo import and its
embeddings. "Restart" is the same directory again: what a shop sees after a reboot.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadtest import cmdline, free_port, rss_mib, tree_pids, tree_rss_mib

APPLIANCE = str(Path(sys.executable).with_name("appliance"))


def one_start(data_dir: Path, model: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    proc = subprocess.Popen(
        [APPLIANCE, "serve", "--demo", "--data-dir", str(data_dir), "--port", str(port), "--model", model],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        listening = ready = None
        while time.monotonic() - started < 300:
            try:
                body = httpx.get(f"{base}/healthz", timeout=2).json()
                listening = listening or time.monotonic() - started
                if body["model"]["state"] != "loading":
                    ready = time.monotonic() - started
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        if ready is None:
            raise SystemExit("the server did not become ready")
        conv = httpx.post(f"{base}/api/v1/conversations", json={"lang": "en"}).json()
        with httpx.stream(
            "POST",
            f"{base}/api/v1/conversations/{conv['conversation_id']}/messages",
            headers={"authorization": f"Bearer {conv['visitor_token']}"},
            json={"text": "How much is shipping?"},
            timeout=60,
        ) as r:
            for line in r.iter_lines():
                if line.startswith("event: done"):
                    break
        answered = time.monotonic() - started
        # Each process on its own: granian's supervisor, the web worker (the app), the model.
        model_pid = httpx.get(f"{base}/healthz").json()["model"].get("pid")
        pids = tree_pids(proc.pid)
        web = [p for p in pids if p not in (proc.pid, model_pid) and "appliance.ops.calibration_fit" not in cmdline(p)]
        return {
            "listening_s": round(listening, 2),
            "ready_s": round(ready, 2),
            "first_answer_s": round(answered, 2),
            "rss_mib": round(tree_rss_mib(proc.pid), 1),
            "supervisor_mib": round(rss_mib(proc.pid), 1),
            "web_worker_mib": round(sum(rss_mib(p) for p in web), 1),
            "model_mib": round(rss_mib(model_pid), 1) if model_pid else 0.0,
            "mode": body["mode"],
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default="default")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, list[dict]] = {"first start": [], "restart": []}
    for _ in range(args.runs):
        data_dir = Path(tempfile.mkdtemp(prefix="bench-startup-"))
        try:
            results["first start"].append(one_start(data_dir, args.model))
            results["restart"].append(one_start(data_dir, args.model))
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(f"{platform.platform()}, {os.cpu_count()} CPUs, model {args.model}, median of {args.runs} runs")
    summary = {}
    for kind, runs in results.items():
        med = {
            k: statistics.median(r[k] for r in runs)
            for k in (
                "listening_s",
                "ready_s",
                "first_answer_s",
                "rss_mib",
                "supervisor_mib",
                "web_worker_mib",
                "model_mib",
            )
        }
        summary[kind] = med
        print(
            f"  {kind:12} port answers {med['listening_s']:.2f} s   ready {med['ready_s']:.2f} s   "
            f"first answer {med['first_answer_s']:.2f} s   RSS {med['rss_mib']:.0f} MiB = supervisor "
            f"{med['supervisor_mib']:.0f} + web worker {med['web_worker_mib']:.0f} + model {med['model_mib']:.0f}"
            f"   ({runs[0]['mode']})"
        )
    if args.json:
        args.json.write_text(json.dumps({"runs": results, "median": summary}, indent=1))


if __name__ == "__main__":
    main()
