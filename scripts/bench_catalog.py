"""Catalog at scale: import time and decision latency at 1,000 and 10,000 products.

A synthetic catalog (product names made from word lists in Persian and English, a third with
size/colour variants) is imported the way `appliance catalog import` does (parse, check, write),
then customers' questions about its products, about products it doesn't have and about the
knowledge base (the demo bookshop's) are decided by the live decision code. Figures, not
assertions (shared machines are noisy):

    .venv/bin/python scripts/bench_catalog.py [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from appliance import paths
from appliance.answering.decide import Decider
from appliance.catalog import formats
from appliance.catalog import store as catalog_store
from appliance.catalog.match import CatalogIndex
from appliance.db import Store
from appliance.kb import embedder
from appliance.kb import formats as kb_formats
from appliance.kb import store as kb
from appliance.kb.retrieval import RetrievalIndex

KINDS = [("قاب", "Case"), ("شارژر", "Charger"), ("کابل", "Cable"), ("هودی", "Hoodie"), ("تیشرت", "T-Shirt"),
         ("کیف", "Bag"), ("کتاب", "Book"), ("دفتر", "Notebook"), ("لیوان", "Mug"), ("کلاه", "Cap")]  # fmt: skip
BRANDS = [("سامسونگ", "Samsung"), ("شیائومی", "Xiaomi"), ("انکر", "Anker"), ("باسئوس", "Baseus"), ("اپل", "Apple"),
          ("کلاسیک", "Classic"), ("زمستانی", "Winter"), ("ایرانی", "Persian"), ("چرمی", "Leather"), ("سفری", "Travel")]  # fmt: skip
EXTRA = [("مدل", "Model"), ("پرو", "Pro"), ("لایت", "Lite"), ("مینی", "Mini"), ("مکس", "Max"), ("پلاس", "Plus")]


def synthetic(n: int, rng: random.Random) -> tuple[str, list[tuple[str, str]]]:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["sku", "parent_sku", "name_fa", "name_en", "price", "stock", "size", "colour"])
    names = []
    rows = 0
    i = 0
    while rows < n:
        i += 1
        (kf, ke), (bf, be), (xf, xe) = rng.choice(KINDS), rng.choice(BRANDS), rng.choice(EXTRA)
        num = rng.randint(1, 999)
        fa, en = f"{kf} {bf} {xf} {num}", f"{be} {xe} {num} {ke}"
        names.append((fa, en))
        if rng.random() < 0.3:
            w.writerow([f"P{i}", "", fa, en, "", "", "", ""])
            rows += 1
            for size in ("S", "M", "L"):
                w.writerow(
                    [
                        f"P{i}-{size}",
                        f"P{i}",
                        fa,
                        en,
                        rng.randrange(100, 5000) * 1000,
                        rng.randint(0, 20),
                        size,
                        "Black",
                    ]
                )
                rows += 1
        else:
            w.writerow([f"P{i}", "", fa, en, rng.randrange(100, 5000) * 1000, rng.randint(0, 20), "", ""])
            rows += 1
    return out.getvalue(), names


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--questions", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(7)
    emb = embedder.shared()
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "appliance.db")
            store.migrate()
            kb.save(store, kb_formats.read_file(paths.demo_kb_path()), embedder=emb, now="t", source="bench")
            text, names = synthetic(n, rng)
            started = time.perf_counter()
            table = formats.read_table(text.encode(), "bench.csv")
            products = formats.build(table, table.mapping, currency="تومان")
            with store.write() as db:
                catalog_store.replace_all(db, products, source="bench.csv", kind="file", mapping={}, now="t")
            import_s = time.perf_counter() - started
            catalog = CatalogIndex(store)
            started = time.perf_counter()
            catalog.refresh()
            load_s = time.perf_counter() - started
            decider = Decider(RetrievalIndex(store, emb), catalog=catalog)
            decider.decide("سلام")  # warm-up: the KB's vectors and the embedder
            questions = []
            for _ in range(args.questions):
                fa, en = rng.choice(names)
                roll = rng.random()
                if roll < 0.4:
                    questions.append(f"{fa} چنده؟")
                elif roll < 0.7:
                    questions.append(f"is the {en} in stock?")
                elif roll < 0.85:
                    questions.append("do you have the Nokia 3310 strap? how much?")
                else:
                    questions.append("ارسال به شیراز چند روز طول می‌کشد؟")
            search_ms, decide_ms = [], []
            for q in questions:
                t0 = time.perf_counter()
                catalog.search(q)
                search_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                decider.decide(q)
                decide_ms.append((time.perf_counter() - t0) * 1000)
            print(
                f"{len(products):>6} rows: import {import_s:.2f} s, matcher load {load_s:.2f} s; "
                f"catalog search p50 {pct(search_ms, 0.5):.1f} ms p95 {pct(search_ms, 0.95):.1f} ms; "
                f"whole decision p50 {pct(decide_ms, 0.5):.1f} ms p95 {pct(decide_ms, 0.95):.1f} ms"
            )
            store.close()


if __name__ == "__main__":
    main()
