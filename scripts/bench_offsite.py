#!/usr/bin/env python3
"""Off-site copies with restic (ops/offsite.py): what a night costs in time and repository space.
Figures, not assertions (machines here are shared and noisy):

    .venv/bin/python scripts/bench_offsite.py [--conversations 3000] [--nights 3] [--new 100]

Builds a database of N Persian conversations (8 messages each) in a scratch data directory, sets
up a local repository as the backups page does, then sends one nightly backup a night, with
``--new`` conversations added between nights. Reports per night the send's time, what restic
added (before compression) and the repository's size on disk; then ``restic check`` and the
monthly test restore (restore into a scratch folder, open the database read-only).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.ops import backup, offsite
from appliance.settings import Settings

WORDS = "سلام سفارش من کی به شیراز می‌رسد قیمت ارسال چقدر است کتاب موجود دارید لطفا پیگیری کنید".split()


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def add(conversations: Conversations, n: int, rng: random.Random) -> None:
    for _ in range(n):
        conv = conversations.start(lang="fa")
        for _ in range(8):
            conversations.add_customer_message(conv, " ".join(rng.choices(WORDS, k=20)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=3000)
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--new", type=int, default=100, help="conversations added between nights")
    args = parser.parse_args()
    if offsite.available() is None:
        raise SystemExit("restic is not installed (sudo apt-get install restic)")
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, repo_dir = Path(tmp) / "data", Path(tmp) / "repo"
        data_dir.mkdir()
        settings = Settings(data_dir=data_dir, model="none", offsite_repository=str(repo_dir))
        store = Store(settings.db_path, durable=False)  # building the data quickly; not what's measured
        store.migrate()
        night = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
        conversations = Conversations(store, lambda: night)
        add(conversations, args.conversations, rng)
        offsite.ensure_password(data_dir)
        repo = offsite.repo_for(settings)
        offsite.initialise(repo)
        print(f"restic {offsite.available()}, {args.conversations} conversations to start with")
        print("night | database MB | send s | added MB (before compression) | repository MB")
        for n in range(args.nights):
            if n:
                add(conversations, args.new, rng)
            info = backup.take(settings.db_path, settings.backups_dir, night)
            started = time.perf_counter()
            sent = offsite.send(repo, data_dir, info.path, night, offsite.keep_of(settings))
            took = time.perf_counter() - started
            print(
                f"{n + 1} | {info.size / 1e6:.1f} | {took:.2f} | {sent['added'] / 1e6:.1f} | {du(repo_dir) / 1e6:.1f}"
            )
            night += timedelta(days=1)
        started = time.perf_counter()
        offsite.check(repo)
        print(f"restic check: {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        tested = offsite.restore_test(repo, offsite.folder(data_dir))
        print(
            f"test restore (restore + open + integrity_check): {time.perf_counter() - started:.2f} s, "
            f"{tested['conversations']} conversations"
        )
        store.close()


if __name__ == "__main__":
    main()
