"""A knowledge-base entry: the owner's answer to one kind of question, with the phrasings
customers use for it, and the rules an entry must keep (checked when it is read from a form or a
file). Storage is kb/store.py's; the search index is kb/index.py's."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

LANGUAGES = ("fa", "en")
MAX_ID = 100
ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID}}}")
MAX_TITLE = 200
MAX_ANSWER = 50_000
MAX_PHRASING = 500
MAX_PHRASINGS = 50


class EntryError(ValueError):
    """An entry is not valid; ``where`` names its line or row in the source file. ``key`` and
    ``params`` say the same for the owner's language (i18n ``entry_error``); ``reason`` is the
    English, for logs and the command line."""

    def __init__(self, where: str, reason: str, key: str = "", **params: object):
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason
        self.key = key
        self.params = params


@dataclass
class Entry:
    id: str
    title: str
    answer: str
    lang: str
    questions: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    enabled: bool = True

    @classmethod
    def from_dict(cls, data: Any, where: str = "") -> Entry:
        if not isinstance(data, dict):
            raise EntryError(where, "expected an object")
        entry_id = str(data.get("id") or "").strip()
        if not entry_id:
            raise EntryError(where, "missing id", "entry.missing_id")
        if not ID.fullmatch(entry_id):
            # An id is part of the admin's addresses (/admin/kb/<id>): "../inbox" made an entry
            # the owner could neither open nor delete.
            raise EntryError(
                where,
                f"id {entry_id[:40]!r}: use only Latin letters, digits, '-' and '_' (at most {MAX_ID})",
                "entry.bad_id",
                id=entry_id[:40],
                n=MAX_ID,
            )
        answer = str(data.get("answer") or "").strip()
        if not answer:
            raise EntryError(where, "missing answer", "entry.missing_answer")
        questions = data.get("questions") or []
        if isinstance(questions, str):
            questions = [questions]
        if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
            raise EntryError(where, "questions must be a list of texts")
        questions = _dedupe(q.strip() for q in questions if q.strip())
        # The JSON Lines format names an entry by its intent ("account_blocked"); it is the
        # owner's own label for the entry, so it serves as the title when there is none.
        intent = str(data.get("intent") or "").replace("_", " ").strip()
        title = str(data.get("title") or intent or (questions[0] if questions else "")).strip()
        if not title:
            raise EntryError(where, "missing title (or at least one question)", "entry.missing_title")
        lang = str(data.get("lang") or "").strip().lower()
        if lang not in LANGUAGES:
            raise EntryError(where, f"lang must be one of: {', '.join(LANGUAGES)}", "entry.bad_lang")
        tags = data.get("tags") or []
        if isinstance(tags, str):
            tags = tags.split(",")
        if not isinstance(tags, list):
            raise EntryError(where, "tags must be a list or a comma-separated text")
        tags = _dedupe(str(t).strip() for t in tags if str(t).strip())
        enabled = data.get("enabled", True)
        if isinstance(enabled, str):
            enabled = enabled.strip().lower() not in {"0", "false", "no", "off"}
        if len(title) > MAX_TITLE:
            raise EntryError(where, f"title longer than {MAX_TITLE} characters", "entry.long_title", n=MAX_TITLE)
        if len(answer) > MAX_ANSWER:
            raise EntryError(where, f"answer longer than {MAX_ANSWER} characters", "entry.long_answer", n=MAX_ANSWER)
        if len(questions) > MAX_PHRASINGS:
            raise EntryError(where, f"more than {MAX_PHRASINGS} questions", "entry.many_questions", n=MAX_PHRASINGS)
        if any(len(q) > MAX_PHRASING for q in questions):
            raise EntryError(
                where, f"a question is longer than {MAX_PHRASING} characters", "entry.long_question", n=MAX_PHRASING
            )
        return cls(entry_id, title, answer, lang, questions, tags, bool(enabled))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def check_unique(entries: list[Entry], where: list[str]) -> None:
    seen: dict[str, str] = {}
    for entry, place in zip(entries, where, strict=False):
        if entry.id in seen:
            raise EntryError(
                place,
                f"duplicate id {entry.id!r} (first at {seen[entry.id]})",
                "entry.duplicate_id",
                id=entry.id,
                first=seen[entry.id],
            )
        seen[entry.id] = place
