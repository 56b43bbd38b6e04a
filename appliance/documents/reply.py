"""The reply from a document's section: the sentences that answer the question, not the page.

A section can be a long passage of a policy; the customer asked one thing. The sentences kept
are the one sharing most words with the question (Persian-normalised) and the ones right after
it, up to a short reply; then the document's title, and its address for a page, so the customer
can read the rest. The owner's words are never changed, only chosen.
"""

from __future__ import annotations

import re

from appliance import i18n
from appliance.text.textnorm import normalize

MAX_EXCERPT_CHARS = 420
_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+|\n+")
_WORD = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    # Persian and English words of three letters or more, with a short prefix standing for the
    # word ("ارسال" and "ارسالی", "returns" and "return").
    return {w[:5] for w in _WORD.findall(normalize(text)) if len(w) >= 3}


def excerpt(text: str, question: str, limit: int = MAX_EXCERPT_CHARS) -> str:
    """The sentences of ``text`` that answer ``question``, in their order, at most ``limit`` chars
    (the whole text when it is that short)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    asked = _words(question)
    scores = [len(asked & _words(s)) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    chosen = [best]
    size = len(sentences[best])
    for i in range(best + 1, len(sentences)):
        if size + 1 + len(sentences[i]) > limit:
            break
        chosen.append(i)
        size += 1 + len(sentences[i])
    if best > 0 and size + 1 + len(sentences[best - 1]) <= limit and scores[best - 1]:
        chosen.insert(0, best - 1)
    kept = " ".join(sentences[i] for i in chosen)
    return kept if len(kept) <= limit else kept[: limit - 1].rstrip() + "…"


def cite(text: str, title: str, link: str, lang: str) -> str:
    """The excerpt with where it comes from."""
    source = i18n.t(lang, "document.from").format(title=title)
    return f"{text}\n\n{source}" + (f" {link}" if link else "")
