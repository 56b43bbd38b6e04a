"""Documents at size: how long reading and importing a long document takes, and what it costs
in memory.

Three documents an owner might really have, made here: a web page with N FAQ sections, a Word
file with N headed sections (python-docx), a PDF of N pages. Each is read (extract) and imported
(sections embedded and stored as entries) into a fresh database; then imported again unchanged
(what re-reading a page that did not change costs). Figures, not assertions:

    .venv/bin/python scripts/bench_documents.py [--sections 50 300]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appliance.db import Store
from appliance.documents import extract
from appliance.documents import store as documents_store
from appliance.kb import embedder
from tests.helpers import make_pdf

SENTENCES = [
    "سفارش‌ها در تهران یک روزه و در شهرستان‌ها دو تا چهار روز کاری می‌رسند.",
    "هزینهٔ ارسال برای خریدهای بالای ۵۰۰ هزار تومان رایگان است.",
    "کتاب سالم را تا هفت روز پس از دریافت می‌توانید با فاکتور پس بدهید.",
    "Gift cards are sold from 200,000 to 2,000,000 toman and are valid for a year.",
    "Refunds reach your card within three working days of the return.",
]


def _text(i: int) -> str:
    return " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(4)) + f" (بند {i})"


def html(n: int) -> bytes:
    body = "".join(f"<h2>پرسش شماره {i}؟</h2><p>{_text(i)}</p>" for i in range(n))
    return f'<html lang="fa"><head><meta charset="utf-8"><title>FAQ</title></head><body><main><h1>FAQ</h1>{body}</main></body></html>'.encode()


def word(n: int) -> bytes:
    import io

    import docx

    d = docx.Document()
    d.add_heading("Policies", level=0)
    for i in range(n):
        d.add_heading(f"بخش {i}", level=1)
        d.add_paragraph(_text(i))
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def pdf(n: int) -> bytes:
    english = [s for s in SENTENCES if s.isascii()]
    return make_pdf([f"Section {i}\n" + "\n".join(english * 3) for i in range(n)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", type=int, nargs="+", default=[50, 300])
    args = parser.parse_args()
    e = embedder.shared()
    e.queries(["warm up"])
    print("| document | sections | size | read s | import s | again s | RSS MiB after |")
    print("|---|---|---|---|---|---|---|")
    for n in args.sections:
        for name, make in [("page.html", html), ("policy.docx", word), ("policy.pdf", pdf)]:
            data = make(n)
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(Path(tmp) / "a.db")
                store.migrate()
                t0 = time.perf_counter()
                doc = extract.extract(data, name)
                t1 = time.perf_counter()
                documents_store.save(store, doc, source=name, data=data, embedder=e, now="t1")
                t2 = time.perf_counter()
                documents_store.save(store, doc, source=name, data=data, embedder=e, now="t2")
                t3 = time.perf_counter()
                store.close()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"| {name} | {len(doc.sections)} | {len(data) / 1024:.0f} KiB | {t1 - t0:.2f} | {t2 - t1:.1f} "
                f"| {t3 - t2:.1f} | {rss:.0f} |"
            )


if __name__ == "__main__":
    main()
