#!/usr/bin/env python3
"""The shop's Telegram bot under load: how soon a customer's message is answered.

    .venv/bin/python scripts/bench_telegram.py [--chats 50] [--messages 5] [--model none]

Starts a Bot API server on loopback (tests/telegram_server.py) and a real `appliance serve
--demo` whose bot polls it, then lets N chats write at once: each sends a question, waits for
the bot's reply, thinks 3 to 8 s and sends the next (scripts/loadtest.py's widget customers). The latency of a message is from the update
being available to getUpdates to its sendMessage arriving at the API server (both timed by the
server's clock), so it is what a customer waits, less the network. Reports p50/p95/p99/max, and
messages left unanswered or answered twice (both should be 0). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from loadtest import free_port, latency, start_server, stop_server, wait_ready

from tests.telegram_server import TOKEN, BotApiServer

QUESTIONS = [
    ("ارسال به شیراز چند روز طول می‌کشد؟", "fa"),
    ("هزینه ارسال چقدره؟", "fa"),
    ("میشه کتاب رو پس بدم؟", "fa"),
    ("ساعت کاری فروشگاه؟", "fa"),
    ("how much is shipping?", "en"),
    ("can I return a book I bought last week?", "en"),
]


def chat(
    bot: BotApiServer, chat_id: int, args: argparse.Namespace, waits: list[tuple[int, float]], lost: list[int]
) -> None:
    rng = random.Random(chat_id)
    time.sleep(rng.uniform(0, args.ramp))
    for n in range(args.messages):
        if n:
            time.sleep(rng.uniform(*args.think))
        text, lang = rng.choice(QUESTIONS)
        before = len(bot.sent(chat_id))
        update_id = bot.message(chat_id, text, lang=lang)
        try:
            bot.wait_for(lambda before=before: len(bot.sent(chat_id)) > before, timeout=60)
        except AssertionError:
            lost.append(update_id)
            return
        reply = bot.sent(chat_id)[before]
        waits.append((n, reply.at - bot.available_at[update_id]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--messages", type=int, default=5, help="messages each chat sends")
    # As scripts/loadtest.py's widget customers: the same load, to compare with the widget's figures.
    parser.add_argument("--think", type=float, nargs=2, default=(3.0, 8.0), metavar=("MIN", "MAX"))
    parser.add_argument("--ramp", type=float, default=1.0, help="chats start within this many seconds")
    parser.add_argument("--warm", action="store_true", help="one question answered before the chats start")
    parser.add_argument("--model", default="none", help="the appliance's model (none: the knowledge base's words)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-telegram-") as tmp, BotApiServer() as bot:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = [
            "bot_platform=telegram",
            f"bot_token={TOKEN}",
            f"bot_api_base={bot.base}",
            "visitor_messages_per_minute=120",
        ]
        proc = start_server(Path(tmp) / "data", port, args.model, settings)
        try:
            wait_ready(base, proc)
            bot.wait_for(lambda: bot.sent(method="getUpdates"), timeout=60)
            if args.warm:  # one question first, alone, as a shop's first customer of the day
                bot.message(9_999, QUESTIONS[0][0])
                bot.wait_for(lambda: bot.sent(9_999), timeout=120)
            waits: list[tuple[int, float]] = []
            lost: list[int] = []
            started = time.monotonic()
            threads = [
                threading.Thread(target=chat, args=(bot, 10_000 + n, args, waits, lost)) for n in range(args.chats)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - started
            time.sleep(1.0)  # a doubled reply would have arrived by now
            doubled = sum(max(0, len(bot.sent(10_000 + n)) - args.messages) for n in range(args.chats))
        finally:
            stop_server(proc)
    print(f"{args.chats} chats x {args.messages} messages (model {args.model}) in {wall:.1f} s")
    # A chat's first message also starts its conversation; the first ones arrive all at once.
    for name, values in (
        ("update -> sendMessage", [w for _, w in waits]),
        ("  first of each chat", [w for n, w in waits if n == 0]),
        ("  later messages", [w for n, w in waits if n > 0]),
    ):
        lat = latency(values)
        print(
            f"  {name:<22} n={lat['n']:<4} p50 {lat['p50']} ms  p95 {lat['p95']} ms  "
            f"p99 {lat['p99']} ms  max {lat['max']} ms"
        )
    print(f"  unanswered {len(lost)}  answered twice {doubled}")


if __name__ == "__main__":
    main()
