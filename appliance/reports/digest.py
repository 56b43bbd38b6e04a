"""The morning digest: what happened since the last one (the night, usually).

Built by a scheduled job at ``digest_time`` and kept in ``digests``; the admin home page shows
the latest. (E-mailing it arrives with SMTP settings.)"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.text.textnorm import words

TOP_QUESTIONS = 5


def build(store: Store, clock: Callable[[], datetime]) -> dict[str, Any]:
    """Summarise the period since the previous digest (at most a week) and store it."""
    now = clock()
    db = store.read()
    last = db.execute("SELECT period_end FROM digests ORDER BY id DESC LIMIT 1").fetchone()
    start = max(datetime.fromisoformat(last[0]), now - timedelta(days=7)) if last else now - timedelta(hours=24)
    span = (start.isoformat(), now.isoformat())
    figures = Conversations(store, clock).figures(*span)
    questions: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for text in reversed(Conversations(store, clock).unsure_questions(*span)):  # the first wording shown
        key = " ".join(words(text))
        questions[key] += 1
        shown.setdefault(key, text)
    summary = {
        **figures,
        "top_unanswered": [{"text": shown[k], "count": n} for k, n in questions.most_common(TOP_QUESTIONS)],
    }
    with store.write() as w:
        w.execute(
            "INSERT INTO digests (period_start, period_end, summary, created_at) VALUES (?, ?, ?, ?)",
            [span[0], span[1], json.dumps(summary, ensure_ascii=False), now.isoformat()],
        )
    return {"period_start": span[0], "period_end": span[1], **summary}


def latest(store: Store) -> dict[str, Any] | None:
    row = (
        store.read()
        .execute("SELECT period_start, period_end, summary FROM digests ORDER BY id DESC LIMIT 1")
        .fetchone()
    )
    if row is None:
        return None
    return {"period_start": row[0], "period_end": row[1], **json.loads(row[2])}


def subject(settings) -> str:
    return f"{settings.shop_name or 'Support'}: morning digest"


def as_text(summary: dict[str, Any], settings) -> str:
    """The digest as a plain e-mail (English and Persian numbers read the same)."""
    lines = [
        f"Since {summary['period_start'][:16].replace('T', ' ')}:",
        f"  conversations: {summary['conversations']}",
        f"  answered by the bot: {summary['answered']}",
        f"  clarified: {summary['clarified']}",
        f"  handed to you: {summary['escalated']}",
        f"  waiting for your reply now: {summary['waiting']}",
    ]
    if summary["top_unanswered"]:
        lines.append("Most asked without an answer:")
        lines += [f"  {q['count']} × {q['text']}" for q in summary["top_unanswered"]]
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    lines.append(f"\nInbox: {base.rstrip('/')}/admin/inbox")
    return "\n".join(lines)
