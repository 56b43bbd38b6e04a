#!/usr/bin/env python3
"""Compare llama.cpp builds on this machine: prompt and generation speed of the same model.

    .venv/bin/python scripts/bench_build.py --python .venv/bin/python --python /tmp/native/bin/python

Each Python is one build (install.sh's portable wheel, a native one built for comparison, ...).
Every measurement runs in a fresh child process of that Python (a build for another CPU may die
of SIGILL: that is reported, not fatal), and the builds take turns --rounds times so that the
machine's noise falls on all of them alike. Prompt speed is tokens/s of a 256-token prompt in one
batch; generation speed is tokens/s of 128 single-token steps (the work of writing a reply,
without sampling noise). Figures are medians over the rounds; the ratio is against the first build.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
from llama_cpp import Llama, llama_print_system_info
path, threads = sys.argv[1], int(sys.argv[2])
llm = Llama(model_path=path, n_ctx=1024, n_threads=threads, n_threads_batch=threads, n_batch=512,
            use_mmap=False, verbose=False)
prompt = llm.tokenize(("The bookshop sends orders to every city in Iran. " * 40).encode())[:256]
llm.eval(prompt[:32]); llm.reset()  # warm-up
best_prompt, best_gen = [], []
for _ in range(3):
    llm.reset()
    t = time.perf_counter(); llm.eval(prompt); best_prompt.append(len(prompt) / (time.perf_counter() - t))
    t = time.perf_counter()
    for i in range(128):
        llm.eval([prompt[i % len(prompt)]])
    best_gen.append(128 / (time.perf_counter() - t))
info = llama_print_system_info()
print(json.dumps({"prompt_tps": max(best_prompt), "gen_tps": max(best_gen),
                  "features": (info.decode() if isinstance(info, bytes) else str(info)).strip()}))
"""


def run_once(python: str, model: Path, threads: int) -> dict:
    proc = subprocess.run([python, "-c", CHILD, str(model), str(threads)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", action="append", required=True, help="a Python with one llama.cpp build")
    parser.add_argument("--model", type=Path, default=None, help="GGUF file (default: the bundled model)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from appliance import paths
    from appliance.llm import files as model_files

    model = args.model or model_files.resolve("default", [paths.project_models_dir()])
    results: dict[str, list[dict]] = {p: [] for p in args.python}
    for _ in range(args.rounds):
        for python in args.python:
            results[python].append(run_once(python, model, args.threads))
    print(f"model {model.name}, {args.threads} threads, {os.cpu_count()} cores, {args.rounds} rounds")
    base = None
    for python, runs in results.items():
        ok = [r for r in runs if "error" not in r]
        if not ok:
            print(f"{python}: failed: {runs[0]['error']}")
            continue
        prompt = statistics.median(r["prompt_tps"] for r in ok)
        gen = statistics.median(r["gen_tps"] for r in ok)
        base = base or (prompt, gen)
        print(
            f"{python}\n  features: {ok[0]['features']}\n  prompt {prompt:7.1f} tokens/s (x{prompt / base[0]:.2f})"
            f"   generation {gen:6.1f} tokens/s (x{gen / base[1]:.2f})   failures {len(runs) - len(ok)}"
        )


if __name__ == "__main__":
    main()
