"""Spoken (colloquial) Persian written down, read as the written language for the embedder.

Customers type as they speak: "میشه" for می‌شود, "چنده" for چند است, "دارین" for دارید,
"گوشیمو" for گوشی‌ام را, "بهتون" for به شما. Owners write their answers in the written form,
and the small embedder, trained mostly on written Persian, places the two forms further apart
than their meaning is. This maps the common spoken forms to the written ones, word by word, with
rules of the grammar (verb endings, the object marker, pronoun suffixes) and a short table of
the spoken words that no rule covers. Nothing here is about a shop or a subject.

Only whole words are rewritten, and only forms that are not also common written words: "بده"
(give / bad) and "کی" (who / when) stay as they are. Retrieval reads a spoken question a second
time in this form (``retrieval.other_readings``) and keeps, for each signal, the better of the
two readings; the owner's texts are embedded as written.
"""

from __future__ import annotations

import re

# Spoken present stems whose written form differs: میشه → می‌شود, میره → می‌رود, میگم → می‌گویم,
# میده → می‌دهد, میتونم → می‌توانم, میخوام → می‌خواهم, میاره → می‌آورد ...
_STEMS = {
    "ش": "شو",
    "ر": "رو",
    "گ": "گوی",
    "د": "ده",
    "ذار": "گذار",
    "زار": "گذار",
    "خوا": "خواه",
    "تون": "توان",
    "دون": "دان",
    "مون": "مان",
    "شن": "شنو",
    "شور": "شوی",
    "خون": "خوان",
    "ار": "آور",
}

# Spoken words no rule reaches: question words with a dropped "است", pronouns, prepositions,
# verbs said with another ending (میاد, میخواد, داره).
_WORDS = {
    "چنده": "چند است",
    "چقدره": "چقدر است",
    "چقده": "چقدر است",
    "چقد": "چقدر",
    "چیه": "چیست",
    "چی": "چه",
    "کجاس": "کجاست",
    "کجایین": "کجا هستید",
    "چطوره": "چطور است",
    "چطوری": "چطور",
    "چجوری": "چگونه",
    "چجوریه": "چگونه است",
    "اینجوری": "این طور",
    "یه": "یک",
    "اون": "آن",
    "اونجا": "آنجا",
    "اونا": "آنها",
    "اینا": "اینها",
    "اینو": "این را",
    "اونو": "آن را",
    "رو": "را",
    "واسه": "برای",
    "واسم": "برایم",
    "برام": "برایم",
    "براتون": "برای شما",
    "بهتون": "به شما",
    "ازتون": "از شما",
    "باهاتون": "با شما",
    "پیشتون": "پیش شما",
    "بهم": "به من",
    "ازم": "از من",
    "دیگه": "دیگر",
    "اگه": "اگر",
    "همون": "همان",
    "تموم": "تمام",
    "خونه": "خانه",
    "هس": "هست",
    "نیس": "نیست",
    "هستین": "هستید",
    "نیستین": "نیستید",
    "داره": "دارد",
    "نداره": "ندارد",
    "دارین": "دارید",
    "ندارین": "ندارید",
    "بدین": "بدهید",
    "ندین": "ندهید",
    "بدم": "بدهم",
    "بدیم": "بدهیم",
    "بگین": "بگویید",
    "بگم": "بگویم",
    "بذارم": "بگذارم",
    "بذارین": "بگذارید",
    "بشه": "بشود",
    "نشه": "نشود",
    "میاد": "می\u200cآید",
    "نمیاد": "نمی\u200cآید",
    "بیاد": "بیاید",
    "بیاین": "بیایید",
    "میخواد": "می\u200cخواهد",
    "نمیخواد": "نمی\u200cخواهد",
    "باطری": "باتری",
}

# Letters and ZWNJ: punctuation such as ؟ and ، ends a word.
_PERSIAN_WORD = re.compile("(?:[^\\W\\d_]|\u200c)+")
# می/نمی + stem + ending. The spoken 3rd singular -ه and 2nd plural -ین are written -د and -ید;
# the other persons keep their ending, and only a stem of the table changes (میتونم).
_VERB = re.compile("^(ن?می)([\u0600-\u06ff]+?)(ه|ین|م|ی|یم)$")
_WRITTEN_ENDING = {"ه": "د", "ین": "ید"}
# Words that look like a spoken verb and are not one.
_NOT_VERBS = {"میوه", "میله", "میانه", "میهن", "میزی", "میری", "میادین", "میکده"}
# The object marker "را" said as -و after a possessive: گوشیمو, دستشو, کارتونو. Not after -ت
# (مانتو, پالتو are words).
_OBJECT = re.compile("^([\u0600-\u06ff]{2,}?)(م|ش|مون|تون|شون)و$")
# Pronoun suffixes as spoken: -مون/-تون/-شون (our, your, their) → -مان/-تان/-شان
_PLURAL_OWNER = re.compile("^([\u0600-\u06ff]{3,}?)(مون|تون|شون)$")
_OWNER = {"م": "م", "ش": "ش", "مون": "مان", "تون": "تان", "شون": "شان"}


def _verb(word: str) -> str | None:
    m = _VERB.match(word)
    if not m or word in _NOT_VERBS:
        return None
    prefix, stem, ending = m.groups()
    written = _STEMS.get(stem)
    if ending in _WRITTEN_ENDING:
        return f"{prefix}\u200c{written or stem}{_WRITTEN_ENDING[ending]}"
    return f"{prefix}\u200c{written}{ending}" if written else None


def _word(word: str) -> str:
    plain = word.replace("\u200c", "")
    if plain in _WORDS:
        return _WORDS[plain]
    verb = _verb(plain)
    if verb is not None:
        return verb
    m = _OBJECT.match(plain)
    if m:
        return f"{m.group(1)}{_OWNER[m.group(2)]} را"
    m = _PLURAL_OWNER.match(plain)
    if m:
        return m.group(1) + _OWNER[m.group(2)]
    return word


def to_written(text: str) -> str:
    """``text`` with spoken Persian words in their written form; anything else untouched."""
    return _PERSIAN_WORD.sub(lambda m: _word(m.group(0)), text)
