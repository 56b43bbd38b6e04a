#!/usr/bin/env python3
"""Many customers chatting at once with a real `appliance serve` on loopback.

    .venv/bin/python scripts/loadtest.py                       # 50 customers, demo shop, default model
    .venv/bin/python scripts/loadtest.py --soak-minutes 30 --customers 10   # memory over time
    .venv/bin/python scripts/loadtest.py --json load.json      # figures for docs/BENCHMARKS.md

It starts its own server (`serve --demo` in a fresh data directory, behind a pretend reverse proxy
so that each customer has an address of their own and the per-IP limits apply as in a shop), signs
the owner in, and lets N customers hold conversations through the public API: questions from the
knowledge base in Persian and English written differently from the owner's phrasings, follow-ups,
questions the shop can't answer, "talk to a person", and the widget's handoff button. Customers
start within the first second and pause between messages as people do (--think).

While they write, it samples the model queue (/healthz) and the server's memory (RSS of granian
and its worker) and times admin pages as the owner would open them. Afterwards it stops the
server and checks the database: every message the server acknowledged (the `accepted` event) must
be stored, and must have a reply or an escalation ("lost" otherwise).

It is bounded: each customer sends --messages messages (or, with --soak-minutes, keeps chatting
until the time is up) and the whole run stops by itself after --max-seconds. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
APPLIANCE = str(Path(sys.executable).with_name("appliance"))
PASSWORD = "load test owner password"

# Written differently from the demo shop's own phrasings, as customers write.
KB_QUESTIONS = {
    "en": [
        "how many days until my books get to me?",
        "what does delivery cost",
        "where's my parcel now",
        "can I send a book back if I don't like it",
        "how long before my refund shows up",
        "which ways can I pay",
        "the payment failed but my card was charged",
        "when are you open",
        "any discount for students?",
        "how do I make an account",
        "I want to cancel what I ordered",
        "what's your phone number",
        "do you deliver outside Iran",
    ],
    "fa": [
        "کتاب‌ها چند روزه به دستم می‌رسه؟",
        "هزینه پست کتاب چنده؟",
        "بسته‌ام الان کجاست؟",
        "اگر کتاب را نخواستم می‌تونم برگردونم؟",
        "پول مرجوعی کی به حسابم برمی‌گرده؟",
        "چه روش‌هایی برای پرداخت دارید؟",
        "پول کم شد ولی سفارش ثبت نشد",
        "ساعت کاری شما چیه؟",
        "برای دانشجوها تخفیف هست؟",
        "رمز عبورم یادم رفته",
        "می‌خوام سفارشم رو لغو کنم",
        "کادوپیچ هم انجام می‌دید؟",
        "آدرس فروشگاه کجاست؟",
        "فاکتور رسمی میدید؟",
    ],
}
FOLLOW_UPS = {
    "en": ["and to Shiraz?", "what about Mashhad?", "ok and how much does it cost?"],
    "fa": ["برای مشهد چی؟", "و به شیراز؟", "هزینه‌اش چقدره؟"],
}
OUT_OF_SCOPE = {
    "en": [
        "what's the weather like in Tehran tomorrow?",
        "can you fix my laptop?",
        "who won the football match yesterday",
    ],
    "fa": ["فردا هوای تهران چطوره؟", "بهترین رستوران شیراز کجاست؟", "لپ‌تاپ من رو تعمیر می‌کنید؟"],
}
PERSON = {
    "en": ["I want to talk to a real person", "can a human help me please"],
    "fa": ["می‌خوام با یک آدم واقعی صحبت کنم", "لطفا وصلم کنید به پشتیبان"],
}
ADMIN_PAGES = [
    "/admin/",
    "/admin/inbox",
    "/admin/kb",
    "/admin/analytics",
    "/admin/inbox?view=all",
    TWO_PANES := "two-panes",
]
# "two-panes": the inbox with its first conversation open beside the list (found at run time).


@dataclass
class Sent:
    customer: int
    category: str
    lang: str
    started: float
    status: int = 0
    accepted_at: float | None = None  # first streamed byte: the `accepted` event
    first_text_at: float | None = None  # first reply text the customer sees
    done_at: float | None = None
    message_id: int | None = None
    kind: str | None = None
    composed_by: str | None = None
    error: str | None = None


@dataclass
class Run:
    sent: list[Sent] = field(default_factory=list)
    queue: list[tuple[float, int, bool]] = field(default_factory=list)  # (t, queue length, busy)
    rss: list[tuple[float, float]] = field(default_factory=list)  # (t, MiB)
    rss_split: list[tuple[float, float]] = field(default_factory=list)  # (web MiB, model MiB)
    fds: list[tuple[float, int]] = field(default_factory=list)  # (t, open file descriptors)
    admin: list[tuple[str, float, int]] = field(default_factory=list)  # (page, ms, status)
    model_counters: dict = field(default_factory=dict)


# -- the server ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int, model: str, settings: list[str] = ()) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    env["APPLIANCE_TRUSTED_PROXIES"] = "127.0.0.1"  # customers arrive "through a proxy", each with an address
    for item in settings:  # --set phrase_budget_s=0.5: the setting as the server reads it
        name, _, value = item.partition("=")
        env[f"APPLIANCE_{name.upper()}"] = value
    subprocess.run(
        [APPLIANCE, "reset-password", "--demo", "--data-dir", str(data_dir)],
        env=env,
        check=True,
        input=f"{PASSWORD}\n{PASSWORD}\n",
        text=True,
        capture_output=True,
        timeout=300,
    )
    return subprocess.Popen(
        [APPLIANCE, "serve", "--demo", "--data-dir", str(data_dir), "--port", str(port), "--model", model],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 300) -> tuple[dict, float]:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            body = httpx.get(f"{base}/healthz", timeout=2).json()
            if body["model"]["state"] != "loading":
                return body, time.monotonic() - started
        time.sleep(0.1)
    raise SystemExit("the server did not become ready")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def tree_pids(pid: int) -> list[int]:
    """A process and its descendants (granian runs the app in a worker process)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_rss_mib(pid: int) -> float:
    total = 0
    for p in tree_pids(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def rss_mib(pid: int | None) -> float:
    with contextlib.suppress(OSError, TypeError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return ""


def tree_fds(pid: int) -> int:
    """Open file descriptors (a leaked database connection shows here first)."""
    total = 0
    for p in tree_pids(pid):
        with contextlib.suppress(OSError):
            total += len(os.listdir(f"/proc/{p}/fd"))
    return total


# -- customers -------------------------------------------------------------------------------------
async def send(client: httpx.AsyncClient, base: str, headers: dict, conversation: str, text: str, item: Sent) -> None:
    body = {"text": text, "client_id": f"{item.customer}-{item.started}"}
    try:
        async with client.stream(
            "POST", f"{base}/api/v1/conversations/{conversation}/messages", json=body, headers=headers
        ) as response:
            item.status = response.status_code
            if response.status_code != 200:
                await response.aread()
                item.error = f"HTTP {response.status_code}: {response.text[:120]}"
                return
            event = ""
            async for line in response.aiter_lines():
                now = time.monotonic()
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data = json.loads(line[5:])
                    if event == "accepted":
                        item.accepted_at, item.message_id = now, data["message_id"]
                    elif event == "delta" and item.first_text_at is None:
                        item.first_text_at = now
                    elif event == "done":
                        item.done_at, item.kind = now, data.get("kind")
                        item.composed_by = data.get("composed_by")
                    elif event == "error":
                        item.error = f"error event: {data.get('code')}"
    except httpx.HTTPError as exc:
        item.error = f"{type(exc).__name__}: {exc}"
    if item.done_at is None and item.error is None:
        item.error = "stream ended without a reply"


async def handoff(
    client: httpx.AsyncClient, base: str, headers: dict, conversation: str, lang: str, item: Sent
) -> None:
    try:
        response = await client.post(
            f"{base}/api/v1/conversations/{conversation}/handoff", json={"lang": lang}, headers=headers
        )
        item.status = response.status_code
        now = time.monotonic()
        if response.status_code == 200:
            body = response.json()
            item.accepted_at = item.first_text_at = item.done_at = now
            item.message_id, item.kind = body["message_id"], "escalate"
        else:
            item.error = f"HTTP {response.status_code}: {response.text[:120]}"
    except httpx.HTTPError as exc:
        item.error = f"{type(exc).__name__}: {exc}"


def script_for(rng: random.Random, lang: str, n: int) -> list[tuple[str, str]]:
    """A customer's conversation: mostly knowledge-base questions, now and then a follow-up, an
    unanswerable question or a request for a person (as text or with the handoff button)."""
    out = []
    for i in range(n):
        roll = rng.random()
        if i > 0 and roll < 0.15:
            out.append(("follow_up", rng.choice(FOLLOW_UPS[lang])))
        elif roll < 0.30:
            out.append(("out_of_scope", rng.choice(OUT_OF_SCOPE[lang])))
        elif roll < 0.36:
            out.append(("person", rng.choice(PERSON[lang])))
        elif roll < 0.40:
            out.append(("handoff_button", ""))
        else:
            out.append(("kb", rng.choice(KB_QUESTIONS[lang])))
    return out


async def customer(
    n: int, args: argparse.Namespace, base: str, client: httpx.AsyncClient, run: Run, until: float
) -> None:
    rng = random.Random(args.seed * 1000 + n)
    lang = "fa" if rng.random() < args.persian_share else "en"
    headers = {"x-forwarded-for": f"10.{n // 250}.{n % 250}.{rng.randint(1, 250)}"}
    await asyncio.sleep(rng.uniform(0, args.ramp))
    while time.monotonic() < until:
        response = await client.post(f"{base}/api/v1/conversations", json={"lang": lang}, headers=headers)
        if response.status_code != 201:
            run.sent.append(
                Sent(
                    n,
                    "start",
                    lang,
                    time.monotonic(),
                    response.status_code,
                    error=f"HTTP {response.status_code} starting: {response.text[:120]}",
                )
            )
            return
        body = response.json()
        headers["authorization"] = f"Bearer {body['visitor_token']}"
        for category, text in script_for(rng, lang, args.messages):
            if time.monotonic() >= until:
                return
            item = Sent(n, category, lang, time.monotonic())
            run.sent.append(item)
            if category == "handoff_button":
                await handoff(client, base, headers, body["conversation_id"], lang, item)
            else:
                await send(client, base, headers, body["conversation_id"], text, item)
            await asyncio.sleep(rng.uniform(*args.think))
        if not args.soak_minutes:
            return


# -- samplers --------------------------------------------------------------------------------------
async def sample_server(base: str, pid: int, client: httpx.AsyncClient, run: Run, t0: float, every: float) -> None:
    while True:
        model_pid = None
        with contextlib.suppress(httpx.HTTPError):
            model = (await client.get(f"{base}/healthz")).json()["model"]
            run.queue.append((time.monotonic() - t0, model["queue_length"], model["busy"]))
            run.model_counters = model["counters"]
            model_pid = model.get("pid")
        total, in_model = tree_rss_mib(pid), rss_mib(model_pid) if model_pid else 0.0
        helpers = sum(rss_mib(p) for p in tree_pids(pid) if "appliance.ops.calibration_fit" in cmdline(p))
        run.rss.append((time.monotonic() - t0, total))
        # (granian + web worker, model process); the calibration's short-lived fit is left out
        run.rss_split.append((total - in_model - helpers, in_model))
        run.fds.append((time.monotonic() - t0, tree_fds(pid)))
        await asyncio.sleep(every)


async def sign_in(base: str) -> httpx.AsyncClient:
    admin = httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False)
    response = await admin.post(
        "/admin/login", data={"password": PASSWORD, "next": "/admin/"}, headers={"origin": base}
    )
    if (await admin.get("/admin/")).status_code != 200:  # the first view also builds caches
        raise SystemExit(f"could not sign in: HTTP {response.status_code}")
    return admin


async def sample_admin(admin: httpx.AsyncClient, run: Run, every: float) -> None:
    i = 0
    while True:
        page = ADMIN_PAGES[i % len(ADMIN_PAGES)]
        url = "/admin/inbox?view=all" if page == TWO_PANES else page
        if page == TWO_PANES:
            with contextlib.suppress(httpx.HTTPError, IndexError):  # no conversation yet: the list
                listing = (await admin.get("/admin/inbox?view=all")).text
                url = "/admin/inbox?view=all&c=" + listing.split("&amp;c=")[1].split("&amp;")[0]
        started = time.perf_counter()
        with contextlib.suppress(httpx.HTTPError):
            response = await admin.get(url)
            run.admin.append((page, (time.perf_counter() - started) * 1000, response.status_code))
        i += 1
        await asyncio.sleep(every)


# -- the check afterwards --------------------------------------------------------------------------
def lost_messages(db_path: Path, run: Run) -> list[str]:
    """Acknowledged messages missing from the database, or stored with neither reply nor escalation."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    problems = []
    for item in run.sent:
        if item.message_id is None:
            continue
        if (
            db.execute("SELECT 1 FROM messages WHERE id = ? AND role = 'customer'", [item.message_id]).fetchone()
            is None
        ):
            problems.append(f"message {item.message_id} acknowledged but not stored")
            continue
        row = db.execute("SELECT kind, reply_id FROM decisions WHERE message_id = ?", [item.message_id]).fetchone()
        if row is None or (row[1] is None and row[0] != "held"):
            problems.append(f"message {item.message_id} stored without a reply or escalation")
    db.close()
    return problems


# -- the report ------------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * len(values) + 0.5) - 1))]


def latency(values: list[float]) -> dict:
    return {
        "n": len(values),
        **{f"p{q}": None if not values else round(pct(values, q) * 1000) for q in (50, 95, 99)},
        "max": None if not values else round(max(values) * 1000),
    }


def summarise(run: Run, args: argparse.Namespace, lost: list[str], ready: dict, cold_s: float, wall_s: float) -> dict:
    ok = [s for s in run.sent if s.error is None]
    by_kind: dict[str, dict] = {}
    for kind in sorted({s.kind for s in ok if s.kind}):
        items = [s for s in ok if s.kind == kind]
        by_kind[kind] = {
            "first_text_ms": latency([s.first_text_at - s.started for s in items]),
            "full_reply_ms": latency([s.done_at - s.started for s in items]),
        }
    streamed = [s for s in ok if s.category != "handoff_button"]
    rss = [m for _, m in run.rss]
    rss_after_start = [m for t, m in run.rss if t >= min(60.0, wall_s / 4)] or rss
    slope = None
    if len(run.rss) > 10:
        ts, ms = zip(*run.rss, strict=False)
        mean_t, mean_m = statistics.fmean(ts), statistics.fmean(ms)
        var = sum((t - mean_t) ** 2 for t in ts)
        slope = (
            round(sum((t - mean_t) * (m - mean_m) for t, m in zip(ts, ms, strict=False)) / var * 3600, 1)
            if var
            else None
        )
    return {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "settings": {
            "customers": args.customers,
            "messages_each": args.messages,
            "think_s": list(args.think),
            "persian_share": args.persian_share,
            "model": args.model,
            "soak_minutes": args.soak_minutes,
            "set": args.set,
            "seed": args.seed,
        },
        "server": {"cold_start_s": round(cold_s, 2), "mode": ready["mode"], "model": ready["model"]["model"]},
        "wall_s": round(wall_s, 1),
        "messages": {
            "sent": len(run.sent),
            "ok": len(ok),
            "errors": len(run.sent) - len(ok),
            "lost": len(lost),
            "by_category": {
                c: sum(1 for s in run.sent if s.category == c) for c in sorted({s.category for s in run.sent})
            },
            "composed_by": {
                c: sum(1 for s in ok if s.composed_by == c)
                for c in sorted({s.composed_by for s in ok if s.composed_by})
            },
        },
        "error_examples": sorted({s.error for s in run.sent if s.error})[:10],
        "lost_examples": lost[:10],
        "first_byte_ms": latency([s.accepted_at - s.started for s in streamed if s.accepted_at]),
        "first_text_ms": latency([s.first_text_at - s.started for s in ok if s.first_text_at]),
        "full_reply_ms": latency([s.done_at - s.started for s in ok if s.done_at]),
        "by_kind": by_kind,
        "kb_answers_first_text_ms": latency(
            [s.first_text_at - s.started for s in ok if s.kind == "answer" and s.first_text_at]
        ),
        "model_queue": {
            "max": max((q for _, q, _ in run.queue), default=0),
            "mean": round(statistics.fmean([q for _, q, _ in run.queue]), 2) if run.queue else 0,
            "busy_share": round(sum(b for _, _, b in run.queue) / len(run.queue), 2) if run.queue else 0,
            "series": [[round(t, 1), q] for t, q, _ in run.queue[:: max(1, len(run.queue) // 60)]],
            "counters": run.model_counters,
        },
        "rss_mib": {
            "start": round(rss[0], 1) if rss else None,
            "peak": round(max(rss), 1) if rss else None,
            "end": round(rss[-1], 1) if rss else None,
            "after_warm_up_min": round(min(rss_after_start), 1) if rss_after_start else None,
            "after_warm_up_max": round(max(rss_after_start), 1) if rss_after_start else None,
            "slope_mib_per_hour": slope,
            "series": [[round(t), round(m, 1)] for t, m in run.rss[:: max(1, len(run.rss) // 60)]],
            "web_peak": round(max((w for w, _ in run.rss_split), default=0), 1),
            "model_peak": round(max((m for _, m in run.rss_split), default=0), 1),
        },
        "open_fds": {
            "start": run.fds[0][1] if run.fds else None,
            "max": max((n for _, n in run.fds), default=None),
            "end": run.fds[-1][1] if run.fds else None,
        },
        "admin_ms": {
            **latency([ms / 1000 for _, ms, _ in run.admin]),
            "errors": sum(1 for _, _, st in run.admin if st != 200),
            "by_page": {p: latency([ms / 1000 for page, ms, _ in run.admin if page == p]) for p in ADMIN_PAGES},
        },
    }


def print_report(r: dict) -> None:
    def row(name: str, lat: dict) -> str:
        return f"  {name:<28} n={lat['n']:<5} p50 {lat['p50']} ms   p95 {lat['p95']} ms   p99 {lat['p99']} ms   max {lat['max']} ms"

    m = r["messages"]
    print(
        f"\n{r['settings']['customers']} customers, {m['sent']} messages in {r['wall_s']} s "
        f"(model: {r['server']['model'] or 'none'}, mode {r['server']['mode']}, cold start {r['server']['cold_start_s']} s)"
    )
    print(f"  errors {m['errors']}   lost {m['lost']}   categories {m['by_category']}   composed by {m['composed_by']}")
    for example in r["error_examples"] + r["lost_examples"]:
        print(f"    ! {example}")
    print(row("first byte (accepted)", r["first_byte_ms"]))
    print(row("first reply text", r["first_text_ms"]))
    print(row("full reply", r["full_reply_ms"]))
    print(row("KB answers, first text", r["kb_answers_first_text_ms"]))
    for kind, lat in r["by_kind"].items():
        print(row(f"{kind}: first text", lat["first_text_ms"]))
    q = r["model_queue"]
    print(f"  model queue: max {q['max']}  mean {q['mean']}  busy {q['busy_share']:.0%} of samples  {q['counters']}")
    mem = r["rss_mib"]
    print(
        f"  RSS MiB: start {mem['start']}  peak {mem['peak']}  end {mem['end']}  "
        f"after warm-up {mem['after_warm_up_min']}-{mem['after_warm_up_max']}  slope {mem['slope_mib_per_hour']} MiB/h"
        f"  (peak: web processes {mem['web_peak']}, model process {mem['model_peak']})"
    )
    fds = r["open_fds"]
    print(f"  open file descriptors: start {fds['start']}  max {fds['max']}  end {fds['end']}")
    print(row("admin pages", r["admin_ms"]) + f"   errors {r['admin_ms']['errors']}")
    for page, lat in r["admin_ms"]["by_page"].items():
        print(row(f"  {page}", lat))


async def main_async(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        data_dir = Path(tmp) / "data"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(data_dir, port, args.model, args.set)
        try:
            ready, cold_s = wait_ready(base, proc)
            run = Run()
            limits = httpx.Limits(max_connections=args.customers * 2 + 10, max_keepalive_connections=args.customers * 2)
            async with httpx.AsyncClient(timeout=120, limits=limits) as client:
                admin = await sign_in(base)
                t0 = time.monotonic()
                duration = args.soak_minutes * 60 if args.soak_minutes else args.max_seconds
                until = t0 + min(duration, args.max_seconds)
                samplers = [
                    asyncio.create_task(sample_server(base, proc.pid, client, run, t0, args.sample_every)),
                    asyncio.create_task(sample_admin(admin, run, args.admin_every)),
                ]
                customers = [
                    asyncio.create_task(customer(n, args, base, client, run, until)) for n in range(args.customers)
                ]
                done, pending = await asyncio.wait(customers, timeout=args.max_seconds + 60)
                for task in pending:
                    task.cancel()
                wall_s = time.monotonic() - t0
                for task in samplers:
                    task.cancel()
                await asyncio.gather(*samplers, *pending, return_exceptions=True)
                for task in done:
                    if task.exception():
                        raise task.exception()
                await admin.aclose()
        finally:
            stop_server(proc)
        lost = lost_messages(data_dir / "appliance.db", run)
        return summarise(run, args, lost, ready, cold_s, wall_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--messages", type=int, default=5, help="messages per conversation")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(3.0, 8.0),
        metavar=("MIN", "MAX"),
        help="seconds a customer pauses between messages (uniform)",
    )
    parser.add_argument("--ramp", type=float, default=1.0, help="customers start within this many seconds")
    parser.add_argument("--persian-share", type=float, default=0.5)
    parser.add_argument("--model", default="default", help="'default', 'none' or a model file")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the server (repeatable), e.g. --set model_nice=19",
    )
    parser.add_argument(
        "--soak-minutes",
        type=float,
        default=0,
        help="keep chatting (new conversations) for this long and report memory over time",
    )
    parser.add_argument("--max-seconds", type=float, default=600, help="hard stop for the whole run")
    parser.add_argument("--sample-every", type=float, default=0.5)
    parser.add_argument("--admin-every", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.soak_minutes:
        args.max_seconds = max(args.max_seconds, args.soak_minutes * 60)
    report = asyncio.run(main_async(args))
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    bad = report["messages"]["errors"] or report["messages"]["lost"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
