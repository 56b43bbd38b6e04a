"""Text normalisation for matching, the same for indexing and for queries.

Written here rather than taken from a library: hazm (the reference Persian toolkit) needs Python
3.12+ and pulls in NLTK and more, and the small normalisers on PyPI are unmaintained. What
matching needs is a short, fixed list (docs/ARCHITECTURE.md, "Persian first"):

- Arabic ي/ى/ك/ة/ۀ/أ/إ → Persian ی/ی/ک/ه/ه/ا/ا; Arabic and Persian digits → ASCII;
- harakat (diacritics), tatweel and bidi control marks removed;
- ZWNJ (نیم‌فاصله) → space, then the verb prefix می/نمی and the suffixes ها/های/تر/ترین are
  joined to their word, so "می‌خواهم", "میخواهم" and "می خواهم" all become "میخواهم";
- NFKC, then casefold.

FTS5's tokenizers split words on ZWNJ and harakat and treat ي and ی as different letters, so no
text reaches the index or a query without passing through ``normalize``.
"""

from __future__ import annotations

import re
import unicodedata

# Persian (۰-۹) and Arabic-Indic (٠-٩) digits -> ASCII
_DIGITS = {**{chr(0x06F0 + i): str(i) for i in range(10)}, **{chr(0x0660 + i): str(i) for i in range(10)}}
# Arabic letter forms -> Persian, digits -> ASCII, no-break space -> space: for matching and the embedder.
_LETTERS = {"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه", "أ": "ا", "إ": "ا", "ٱ": "ا", **_DIGITS, "\u00a0": " "}
_CHAR_MAP = str.maketrans(
    {**_LETTERS, "٫": ".", "٬": ",", "،": ",", "؛": ";", "؟": "?", "\u200c": " "}  # ZWNJ -> space
)
# For the embedder: the same letters and digits, but ZWNJ and punctuation kept.
_EMBED_MAP = str.maketrans(_LETTERS)
_DIGIT_MAP = str.maketrans(_DIGITS)


# C0 control characters but tab and line breaks (a NUL or an escape sequence is never meant
# text: it would reach the admin, logs and exports), and the direction marks, embeddings,
# overrides and isolates (U+061C, U+200E/F, U+202A-202E, U+2066-2069): a right-to-left override
# in a message turned the rest of the admin's transcript line around. ZWNJ (U+200C) and ZWJ
# (U+200D) stay: Persian spelling ("می‌خواهم") and emoji sequences need them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def without_controls(text: str) -> str:
    """``text`` without control and direction-override characters (tabs, line breaks and ZWNJ
    kept), trimmed: what a customer or the owner typed, as it may be stored."""
    return _CONTROL.sub("", text).strip()


def ascii_digits(text: str) -> str:
    """Persian and Arabic-Indic digits as ASCII ones, nothing else changed (phone numbers, ids)."""
    return text.translate(_DIGIT_MAP)


# harakat and Quranic marks, superscript alef, tatweel; bidi and zero-width controls (not ZWNJ,
# which became a space above)
_STRIP = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed\u0640\u200b\u200d-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"\s+")
_PREFIX = re.compile(r"\b(ن?می) (?=\w)")
_SUFFIX = re.compile(r"(?<=\w) (ها|های|هایی|هایم|هایت|هایش|هایمان|هایتان|هایشان|تر|ترین)\b")
_PERSIAN_LETTERS = re.compile("[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN_LETTERS = re.compile("[A-Za-z]")
_WORD = re.compile(r"\w+")


def normalize(text: str) -> str:
    """The form used for every comparison: the index and queries both go through this."""
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub(" ", _STRIP.sub("", text.translate(_CHAR_MAP))).strip()
    text = _SUFFIX.sub(r"\1", _PREFIX.sub(r"\1", text))
    return text.casefold()


def for_embedding(text: str) -> str:
    """What the embedder reads: the letters unified as for matching (Arabic ي/ك → ی/ک, Arabic
    and Persian digits → ASCII, harakat, tatweel and bidi marks gone), but words, spacing, ZWNJ
    and case as the writer left them, which is how the embedder saw text when it was trained.
    The same question in Arabic or Persian letters then gets the same vector."""
    text = unicodedata.normalize("NFKC", text).translate(_EMBED_MAP)
    return _SPACES.sub(" ", _STRIP.sub("", text)).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def detect_language(text: str, default: str = "fa") -> str:
    """'fa' or 'en' from the letters used; ``default`` when there are none (digits, emoji)."""
    fa = len(_PERSIAN_LETTERS.findall(text))
    en = len(_LATIN_LETTERS.findall(text))
    if fa == en == 0:
        return default
    return "fa" if fa >= en else "en"
