"""Latin runs in right-to-left text: the parts of free text that read left to right as a unit.

In a Persian sentence a phone number such as ``+98 21 1234 5678`` is shown as
``5678 1234 21 98+``: each group of digits is a run of its own, the spaces between them take the
sentence's direction, and so does the ``+``. The same happens to an address's trailing slash, a
code that starts with digits (``12-34-AB``) and digits grouped with spaces. Each such run is
isolated left to right when it is shown (a ``<bdi dir="ltr">`` in the admin, the same in the
chat), so it reads as written; the stored text never changes.

In a text that reads right to left (its first strong letter is Persian, as the pages' ``dir=auto``
decides) Latin words are runs too, a phrase at a time: «قاب سیلیکونی (Galaxy A54)» isolated only
"A54", and the isolate (a neutral) and the bare "Galaxy" swapped places; «این‌ها را داریم: S، M، L»
was one left-to-right run (an Arabic comma between two Latin letters takes their direction) and a
Persian reader read L, M, S. Words joined by a space, a hyphen, a dot or Latin punctuation and a
space are one run ("Galaxy A54", "USB-C", "Payment failed, try again"); a Persian word or Persian
punctuation (، ؛ ؟) ends one, so a Persian list's items are isolated one by one and read from the
right. A text that doesn't read right to left keeps its Latin words bare: an English sentence cut
into isolates would let ``dir=auto`` (which skips isolates) take its direction from one Persian
word in it and lay the English out right to left.

``PATTERN`` (any text), ``RTL_PATTERN`` (a right-to-left text) and ``RTL_TEXT_PATTERN`` (which
is which) are the rules. The chat (``static/widget-*.js``) holds the same three, JSON-quoted
(``tests/test_bidi.py`` checks that they agree), so they are written in the syntax Python and
JavaScript share: explicit classes (JavaScript's ``\\d``, ``\\w`` and ``\\s`` are ASCII only), no
lookbehind (older Safari refuses it and the whole chat with it), no named groups, no ``\\p{…}``.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_DIGIT = r"[0-9\u06f0-\u06f9\u0660-\u0669]"  # Latin, Persian and Arabic-Indic digits
_CHAR = r"[A-Za-z0-9\u06f0-\u06f9\u0660-\u0669]"
_URL = (
    r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)"
    r"[A-Za-z0-9\-._~:/?#@!$&*+=%,;]*[A-Za-z0-9\-_~/#$&*+=%]"  # not ending in . , ; : ! ?
)
_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
# A path (/books/, */books/*, /admin/kb): a Latin letter in it, two slashes or more
_PATH_PART = r"[A-Za-z0-9\-._~%*]"
_PATH = (
    r"(?=[A-Za-z0-9\-._~%*/]*[A-Za-z])" + _CHAR + r"*\*?/" + _PATH_PART + r"+/(?:" + _PATH_PART + r"+/)*"
    + _PATH_PART + r"*"
)  # fmt: skip
# An order or tracking code: Latin letters and digits in one word (ORD-1402-77, 12-34-AB, #A123)
_CODE_STEP = r"(?:" + _CHAR + r"|[\-_/.](?=" + _CHAR + r"))*?"
_CODE = r"#?(?=" + _CODE_STEP + r"[A-Za-z])(?=" + _CODE_STEP + _DIGIT + r")" + _CHAR + r"+(?:[\-_/.]" + _CHAR + r"+)*"
# A phone number: digits in groups (a space, dash or dot between them; a bracket only around a
# whole group, or the bracket left outside would pair with one inside), seven digits or more
_PHONE_GROUP = r"(?:\(" + _DIGIT + r"+\)|" + _DIGIT + r"+)"
_PHONE = r"\+?(?=(?:[ .\-()]{0,2}" + _DIGIT + r"){7})" + _PHONE_GROUP + r"(?:[ .\-]?" + _PHONE_GROUP + r")*"

# What is left of a word none of them starts: matched whole and left alone, so that the searches
# above start once a word, not at each of its letters (a 2,000-letter word took 0.5 s, and ten
# times longer took 100 times as long).
_REST = r"[A-Za-z0-9\u06f0-\u06f9\u0660-\u0669._%+\-~*/]+"

# The runs are group 1; a match without it is the rest of a word.
PATTERN = "(" + "|".join((_URL, _EMAIL, _PATH, _CODE, _PHONE)) + ")|" + _REST
LTR_RUN = re.compile(PATTERN)

# -- a right-to-left text: Latin phrases as well ----------------------------------------------------

# Latin letters with their accented forms (Café, Müller), without × and ÷; ASCII digits only: a
# Persian number after a Latin word belongs to the Persian sentence («iPhone ۱۳» reads from the right).
_LETTER = r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]"
_WCHAR = r"[A-Za-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]"
# Inside a word: USB-C, Node.js, and/or, don't, 1,800,000 (a comma only between digits)
_JOIN = r"(?:[\-._/'\u2019]|,(?=[0-9]))"
_WORD = _WCHAR + r"+(?:" + _JOIN + _WCHAR + r"+)*"
# Between words: one space, or Latin punctuation and one space ("Size: XL", "Hello, how are you":
# an English clause quoted in Persian keeps the order the bidi algorithm already gave it).
# Persian punctuation is not here: «S، M، L» is three runs, each read in its place from the right.
_GAP = r"[,;:!?.]?[ \u00a0]"
# A phrase starts with a Latin letter (or an address or a code), so that numbers alone ("۳ تا ۵",
# "1402/09/01") are left to the sentence; numbers, codes and phone numbers may follow
# ("iPhone 13 Pro", "Galaxy A54", "Call 0912 123 4567"). Each part is a word matched whole,
# and nothing follows the repetition that could fail: the search stays linear.
_FIRST = "(?:" + "|".join((_URL, _EMAIL, _PATH, _CODE, _LETTER + _WCHAR + r"*(?:" + _JOIN + _WCHAR + r"+)*")) + ")"
_PART = "(?:" + "|".join((_URL, _EMAIL, _PATH, _CODE, _PHONE, _WORD)) + ")"
_PHRASE = _FIRST + r"(?:" + _GAP + _PART + r")*"
RTL_PATTERN = "(" + _PHRASE + "|" + _PHONE + ")|" + _REST
LTR_PHRASE = re.compile(RTL_PATTERN)

# Whether a text reads right to left: its first strong letter (bidi class R or AL, or an RLM)
# comes before any left-to-right one (class L, or an LRM), the rule browsers apply for dir=auto.
# The classes are the scripts shops write in (Latin, Greek, Cyrillic; Hebrew, Arabic and Persian
# with their presentation forms); a digit, a space or punctuation is not strong.
_LTR_LETTERS = r"A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02b8\u0386\u0388-\u03f5\u0400-\u0482\u048a-\u052f\u200e"
_RTL_LETTERS = (
    r"\u05d0-\u05ea\u05ef-\u05f4\u0608\u060b\u060d\u061b-\u064a\u066d-\u066f\u0671-\u06d5\u06e5\u06e6\u06ee\u06ef\u06fa-\u06ff"
    r"\u0750-\u077f\u08a0-\u08c9\ufb50-\ufbc2\ufbd3-\ufd3d\ufd50-\ufd8f\ufd92-\ufdc7\ufdf0-\ufdfc\ufe70-\ufe74"
    r"\ufe76-\ufefc\u200f"
)
RTL_TEXT_PATTERN = "^[^" + _LTR_LETTERS + _RTL_LETTERS + "]*[" + _RTL_LETTERS + "]"
RTL_TEXT = re.compile(RTL_TEXT_PATTERN)

# A run with a space in it and no letter is a phone number: kept on one line (Bootstrap's class;
# the chat has its own), or "0912 123" ended one line and "4567" began the next. A phrase
# ("Galaxy A54") may break between its words like the sentence around it.
_NOWRAP = '<bdi dir="ltr" class="text-nowrap">{}</bdi>'
_A_LETTER = re.compile("[A-Za-z]")


def reads_right_to_left(text: str) -> bool:
    """Whether ``text``'s first strong letter is a right-to-left one (Persian, Arabic, Hebrew)."""
    return RTL_TEXT.match(text) is not None


def runs(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each run of ``text`` that reads left to right as a unit."""
    pattern = LTR_PHRASE if reads_right_to_left(text) else LTR_RUN
    return [m.span(1) for m in pattern.finditer(text) if m.group(1)]


def stays_on_one_line(run: str) -> bool:
    """Whether ``run`` (one of ``runs``) is a phone number, shown with ``text-nowrap``."""
    return " " in run and not _A_LETTER.search(run)


def ltr_runs(text: object) -> Markup:
    """``text`` as HTML, escaped, each run in ``<bdi dir="ltr">``: the templates' ``|ltr_runs``.
    Nothing of the text is ever left unescaped (Markup given is escaped like any string: the
    filter is for free text, not for HTML)."""
    if text is None:
        return Markup("")
    text = str(text)  # a Markup's str() is its source: escaped again below, like any text
    out, at = [], 0
    for start, end in runs(text):
        out.append(escape(text[at:start]))
        run = text[start:end]
        out.append(Markup(_NOWRAP if stays_on_one_line(run) else '<bdi dir="ltr">{}</bdi>').format(run))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)
