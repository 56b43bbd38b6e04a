#!/usr/bin/env python3
"""Time to first token and tokens/s: the appliance's model runtime versus a bare llama_cpp call.

Both load the same GGUF with the same n_ctx/threads and stream the same prompts; the runtime's
overhead is its child process (a pipe hop per token), its dispatcher thread, queue and hand-off of
every token to the event loop. The bare call runs at normal priority in this process; the runtime's
process runs at the appliance's lower priority (which costs nothing on an idle machine).

To compare two llama.cpp builds (portable and native, say), run this script with each build's
Python: both import the appliance from this checkout.

    .venv/bin/python scripts/bench_model.py [--model PATH] [--runs 5] [--max-tokens 64]

Figures vary with the machine's load: run it on a quiet machine and compare the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import time
from pathlib import Path

from loadtest import rss_mib  # scripts/ is on the path when this runs as a script

from appliance import paths
from appliance.llm import files as model_files
from appliance.llm.runtime import ModelRuntime

PROMPTS = [
    [
        {"role": "system", "content": "You are the support assistant of a small bookshop. Answer briefly."},
        {
            "role": "user",
            "content": "Rewrite politely for a customer: Orders arrive within 1-2 business days "
            "in Tehran and 3-5 business days in other cities. Orders placed before "
            "14:00 are shipped the same day. Question: how long to Shiraz?",
        },
    ],
    [
        {"role": "system", "content": "You are the support assistant of a small bookshop. Answer briefly."},
        {
            "role": "user",
            "content": "Rewrite politely for a customer: You can return an unused book within 7 "
            "days of delivery. Damaged books are replaced free. Question: can I return "
            "a book I bought last week?",
        },
    ],
]


def bare(path: Path, args: argparse.Namespace) -> list[dict]:
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(path),
        n_ctx=args.n_ctx,
        n_threads=args.threads,
        n_threads_batch=args.threads_batch,
        verbose=False,
    )
    llm.create_chat_completion(messages=[{"role": "user", "content": "Hello"}], max_tokens=1)  # warm-up
    results = []
    for i in range(args.runs):
        messages = PROMPTS[i % len(PROMPTS)]
        start = time.perf_counter()
        first = None
        n = 0
        for chunk in llm.create_chat_completion(
            messages=messages, max_tokens=args.max_tokens, temperature=0.0, stream=True
        ):
            if chunk["choices"][0]["delta"].get("content"):
                first = first or time.perf_counter()
                n += 1
        end = time.perf_counter()
        results.append({"ttft": first - start, "total": end - start, "tokens": n})
    del llm
    return results


def runtime(path: Path, args: argparse.Namespace) -> list[dict]:
    rt = ModelRuntime(
        path,
        n_ctx=args.n_ctx,
        n_threads=args.threads,
        n_threads_batch=args.threads_batch,
        max_tokens=args.max_tokens,
        timeout_s=120,
    ).start()
    rt.wait_settled()
    if not rt.ready:
        raise SystemExit(f"runtime failed: {rt.reason}")
    print(f"llama.cpp (in the model process): {rt.system_info}")

    async def one(messages: list[dict]) -> dict:
        start = time.perf_counter()
        first = None
        stats: dict = {}
        async with contextlib.aclosing(
            rt.stream(messages, max_tokens=args.max_tokens, temperature=0.0, stats=stats)
        ) as it:
            async for _ in it:
                first = first or time.perf_counter()
        end = time.perf_counter()
        # Tokens as the model process counted them: they arrive in batches (the first one alone).
        return {"ttft": first - start, "total": end - start, "tokens": stats["pieces"]}

    async def all_runs() -> list[dict]:
        return [await one(PROMPTS[i % len(PROMPTS)]) for i in range(args.runs)]

    try:
        results = asyncio.run(all_runs())
        print(f"model process RSS {rss_mib(rt.backend.pid()):.0f} MiB; this process {rss_mib(os.getpid()):.0f} MiB")
        return results
    finally:
        rt.close()


def summarise(name: str, results: list[dict]) -> dict:
    ttft = statistics.median(r["ttft"] for r in results)
    gen_rates = [(r["tokens"] - 1) / (r["total"] - r["ttft"]) for r in results if r["tokens"] > 1]
    tps = statistics.median(gen_rates)
    tokens = statistics.median(r["tokens"] for r in results)
    print(
        f"{name:<22} first token {ttft * 1000:7.1f} ms   {tps:6.1f} tokens/s   "
        f"({tokens:.0f} tokens a reply, median of {len(results)})"
    )
    return {"ttft": ttft, "tps": tps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="GGUF file (default: the bundled model)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument(
        "--threads", type=int, default=0, help="generation threads (default: the appliance's own choice)"
    )
    parser.add_argument("--threads-batch", type=int, default=0, help="prompt threads (default: all cores)")
    args = parser.parse_args()
    # Same defaults as the appliance, for both sides, so the ratio compares like with like.
    defaults = ModelRuntime(None)
    args.threads = args.threads or defaults.n_threads
    args.threads_batch = args.threads_batch or defaults.n_threads_batch
    path = args.model or model_files.resolve("default", [paths.project_models_dir()])
    print(
        f"model {path.name}, {args.threads}/{args.threads_batch} threads (generate/prompt), n_ctx {args.n_ctx}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores"
    )
    r = summarise("appliance runtime", runtime(path, args))
    b = summarise("bare llama_cpp", bare(path, args))
    print(f"ratio runtime/bare: first token x{r['ttft'] / b['ttft']:.2f}, tokens/s x{r['tps'] / b['tps']:.2f}")


if __name__ == "__main__":
    main()
