#!/usr/bin/env python3
"""Decision latency and index build time at 100, 1,000 and 10,000 knowledge-base entries.

    .venv/bin/python scripts/bench_retrieval.py [--sizes 100,1000,10000] [--queries 200]

The knowledge bases are made from the demo bookshop: each entry a demo entry with a different
book, city or product named in its title, phrasings and answer, so sizes grow without exact
duplicates. For each size it reports the time to import and index every entry (embeddings,
FTS5, one transaction), the time to load the in-memory index, and the latency of one decision
(normalise, embed, FTS5, fuse, calibrate, decide) over a mix of Persian and English questions,
after warm-up. Figures vary with the machine's load; the ratios between sizes are the point.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from appliance import paths
from appliance.answering.decide import Decider
from appliance.db import Store
from appliance.kb import embedder as embedder_mod
from appliance.kb import formats as kb_formats
from appliance.kb import store as kb
from appliance.kb.entry import Entry
from appliance.kb.retrieval import RetrievalIndex

NAMES_EN = [
    "Tehran",
    "Shiraz",
    "Mashhad",
    "Tabriz",
    "Isfahan",
    "Rasht",
    "Yazd",
    "Kerman",
    "novel",
    "atlas",
    "poetry",
    "cookbook",
    "dictionary",
    "comic",
    "biography",
    "textbook",
    "notebook",
    "calendar",
]
NAMES_FA = [
    "تهران",
    "شیراز",
    "مشهد",
    "تبریز",
    "اصفهان",
    "رشت",
    "یزد",
    "کرمان",
    "رمان",
    "اطلس",
    "شعر",
    "آشپزی",
    "فرهنگ لغت",
    "کمیک",
    "زندگی‌نامه",
    "کتاب درسی",
    "دفترچه",
    "تقویم",
]
QUESTIONS = [
    "How long does delivery take?",
    "Can I return a book?",
    "Do you have a student discount?",
    "ارسال به مشهد چند روز طول می‌کشد؟",
    "هزینه ارسال چقدر است؟",
    "کتاب صوتی دارید؟",
    "my payment failed but money was taken",
    "Where is my order?",
    "سفارشم را لغو کنم",
    "Do you sell laptops?",
    "آب و هوای فردا چطور است؟",
    "What are your opening hours?",
]


def synthetic(n: int) -> list[Entry]:
    demo = kb_formats.read_file(paths.demo_kb_path())
    rng = random.Random(n)
    out = []
    for i in range(n):
        base = demo[i % len(demo)]
        names = NAMES_FA if base.lang == "fa" else NAMES_EN
        tag = f"{rng.choice(names)} {i}"
        out.append(
            Entry(
                id=f"{base.id}-{i}",
                title=f"{base.title} ({tag})",
                lang=base.lang,
                questions=[f"{q} {tag}" for q in base.questions[:2]],
                answer=f"{base.answer} ({tag})",
            )
        )
    return out


def bench(n: int, queries: int) -> dict:
    e5 = embedder_mod.shared()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "appliance.db")
        store.migrate()
        entries = synthetic(n)
        started = time.perf_counter()
        kb.save(store, entries, embedder=e5, now="bench")
        build_s = time.perf_counter() - started
        index = RetrievalIndex(store, e5)
        started = time.perf_counter()
        index.refresh()
        load_s = time.perf_counter() - started
        decider = Decider(index)
        for q in QUESTIONS:  # warm-up
            decider.decide(q)
        times = []
        for i in range(queries):
            q = QUESTIONS[i % len(QUESTIONS)]
            started = time.perf_counter()
            decider.decide(q)
            times.append((time.perf_counter() - started) * 1000)
        store.close()
    times.sort()
    return {
        "entries": n,
        "build_s": build_s,
        "load_s": load_s,
        "p50": statistics.median(times),
        "p95": times[int(0.95 * (len(times) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'entries':>8} {'index build':>12} {'per entry':>10} {'index load':>11} {'decision p50':>13} {'p95':>9}")
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        r = bench(n, args.queries)
        results.append(r)
        print(
            f"{n:>8} {r['build_s']:>10.1f} s {r['build_s'] / n * 1000:>7.1f} ms {r['load_s']:>9.2f} s "
            f"{r['p50']:>10.1f} ms {r['p95']:>6.1f} ms",
            flush=True,
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"decision p95 at {last['entries']} entries / at {first['entries']}: x{last['p95'] / first['p95']:.2f}")


if __name__ == "__main__":
    main()
