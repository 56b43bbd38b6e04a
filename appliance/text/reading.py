"""A customer's message, read once at the door.

Deciding on one message used to read it again at every step: its language was detected twice,
it was normalised five times (the decision, small talk, retrieval's trigrams and word count, the
catalog's tokens and intent, the exact-wording check) and its Finglish and colloquial readings
were worked out in retrieval and again in the catalog. A ``Reading`` is all of that, worked out
once, and carried through deciding, retrieval, the catalog and composing.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.text import colloquial, finglish
from appliance.text.textnorm import detect_language, normalize


@dataclass(frozen=True)
class Reading:
    text: str  # as the customer wrote it
    norm: str  # normalised: Persian letter forms and digits unified, lower case (textnorm.normalize)
    lang: str  # "fa" or "en": the language of the reply; Finglish is Persian
    finglish: bool  # Persian typed in Latin letters
    # Other ways to read the words: a Finglish message in Persian letters, and spoken Persian (the
    # message's or a reading's) in the written form owners write answers in.
    others: tuple[str, ...]


def read(text: str, default_lang: str = "en", *, lang: str | None = None) -> Reading:
    """Read ``text``; ``lang`` when the language is already known (a follow-up glued to the
    question before it keeps that message's language)."""
    is_finglish = finglish.looks_finglish(text)
    if lang is None:
        lang = "fa" if is_finglish else detect_language(text, default_lang)
    return Reading(text, normalize(text), lang, is_finglish, tuple(other_readings(text, is_finglish)))


def other_readings(text: str, is_finglish: bool | None = None) -> list[str]:
    """Other ways to read the customer's words: a Finglish question in Persian letters, and spoken
    Persian (the question's or a reading's) in the written form owners write answers in. Only
    the question is read again: the owner's texts are embedded as written."""
    found = finglish.readings(text, is_finglish=is_finglish)
    for reading in [text, *found]:
        written = colloquial.to_written(reading)
        if written != reading and written not in found:
            found.append(written)
    return found
