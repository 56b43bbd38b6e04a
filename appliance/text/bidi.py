"""Latin runs in right-to-left text: the parts of free text that read left to right as a unit.

In a Persian sentence a phone number such as ``+98 21 1234 5678`` is shown as
``5678 1234 21 98+``: each group of digits is a run of its own, the spaces between them take the
sentence's direction, and so does the ``+``. The same happens to an address's trailing slash, a
code that starts with digits (``12-34-AB``) and digits grouped with spaces. Each such run is
isolated left to right when it is shown (a ``<bdi dir="ltr">`` in the admin, the same in the
chat), so it reads as written; the stored text never changes.

``PATTERN`` is the one rule. The chat (``static/widget-*.js``) holds the same pattern, JSON-quoted
(``tests/test_bidi.py`` checks that they agree), so it is written in the syntax Python and
JavaScript share: explicit classes (JavaScript's ``\\d``, ``\\w`` and ``\\s`` are ASCII only), no
lookbehind (older Safari refuses it and the whole chat with it), no named groups.
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


# A run with spaces in it is a phone number: kept on one line (Bootstrap's class; the chat has its
# own), or "0912 123" ended one line and "4567" began the next.
_NOWRAP = '<bdi dir="ltr" class="text-nowrap">{}</bdi>'


def runs(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each run of ``text`` that reads left to right as a unit."""
    return [m.span(1) for m in LTR_RUN.finditer(text) if m.group(1)]


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
        out.append(Markup(_NOWRAP if " " in run else '<bdi dir="ltr">{}</bdi>').format(run))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)
