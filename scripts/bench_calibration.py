#!/usr/bin/env python3
"""How long a shop's own calibration takes to fit, and the memory it needs, by knowledge-base size.

    .venv/bin/python scripts/bench_calibration.py [--sizes 30 300 3000]

The knowledge bases are made from the public evaluation sets' entries (../shared/eval/*/kb.jsonl),
repeated with a numbered suffix when more are needed than the sets hold, so every text is new to
the embedder. Each size is fitted in a fresh child process (the pool of out-of-scope questions is
embedded once per process, as in the appliance) and reports wall time and peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from appliance.answering import embedder, kb_formats, shop_calibration
size = int(sys.argv[2])
source = []
for path in sorted(Path(sys.argv[3]).glob("*/kb.jsonl")):
    source += kb_formats.read_file(path)
entries = []
for i in range(size):
    e = source[i % len(source)]
    round_ = i // len(source)
    tag = f" ({round_})" if round_ else ""
    entries.append(replace(e, id=f"e{i}", title=e.title + tag, questions=[q + tag for q in e.questions],
                           answer=e.answer + tag))
started = time.monotonic()
calibration, report = shop_calibration.fit(entries, embedder.shared())
print(json.dumps({"entries": size, "seconds": round(time.monotonic() - started, 1),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "examples": report.examples, "answer_threshold": report.answer_threshold}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 300, 3000])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    args = parser.parse_args()
    for size in args.sizes:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), str(size), str(args.eval_dir)],
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if proc.returncode != 0:
            print(f"{size} entries: failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"{r['entries']:6d} entries: fitted in {r['seconds']:7.1f} s, peak RSS {r['peak_rss_mib']} MiB, "
            f"examples {r['examples']}, answer threshold {r['answer_threshold']}"
        )


if __name__ == "__main__":
    main()
