"""Finglish: Persian typed in Latin letters ("gheymate taviz lcd chande?"), as many Iranian
customers type on a phone without a Persian keyboard.

Two small jobs, by rule, no library (none is maintained on PyPI):

- ``looks_finglish``: Latin letters and at least one word that is common Finglish and not an
  English word ("chande", "mikham", "darid"), so an English question is never taken for one;
- ``to_persian``: a rough transliteration into Persian letters. Persian writes no short vowels,
  so "gheymat" becomes "قیمت" and "goshi" "گوشی"; it is not spelling, it is close enough for the
  embedder and the trigram search to find the entry the customer means. Words that are plainly
  Latin (brand names, "lcd", model numbers) are kept as they are.
"""

from __future__ import annotations

import re

# Frequent Finglish words that are not English words (checked against common English).
_MARKERS = frozenset(
    """
salam chand chande chanda chandeh chandast gheymat gheymate gheymatesh ghimat ghimate ghymat
mikham mikhastam mikhaim mikhay mikhai darid darin darim nadarid nadarin hastid
hastin nist nistid chetor chetori chetore chie chiye chizi koja kojast kojaye kojai mishe
mitoonam mitunam mitoonid mitunid lotfan mamnoon mamnun merci kheili khaili kheyli baraye bara
chera emrooz emruz farda goshi goshim gooshi gushi gushim aya mikonid mikonin mikonam
konid konam konim bedid bedin bedam begid begin begam kharid kharidam kharide ersal sefaresh
sefareshe sefaresham sefareshi ketab ketabo ketaba dige alan inja unja oonja bazid bazin baste
bastid tatil tatilid amade amadeh avaz avaz taviz tavize taamir taamirat taamirate dorost
ghete ghate ghateat mojood mojoode mojud naghdi naghd aghsati ghesti ghest mifrushid mifrooshid
mifroshid mifrushin nasb pishtaz payk moaveze bebaram bebarim biyaram biaram sabtenam bedoone
bedune kuchike kuchik bozorg sayz sayze sayzesh oftad oftade chikar chekar tamir garanti zemanat
vaght vaghti maghaze magaze shomare shoma yek chahar panj mikhastim pardakht
""".split()
)

_DIGRAPHS = [
    ("kh", "خ"),
    ("sh", "ش"),
    ("ch", "چ"),
    ("gh", "ق"),
    ("zh", "ژ"),
    ("ph", "ف"),
    ("oo", "و"),
    ("ou", "و"),
    ("ee", "ی"),
    ("ei", "ی"),
    ("ey", "ی"),
    ("ai", "ای"),
    ("aa", "ا"),
]
_LETTERS = {
    "b": "ب",
    "p": "پ",
    "t": "ت",
    "s": "س",
    "j": "ج",
    "h": "ه",
    "d": "د",
    "z": "ز",
    "r": "ر",
    "f": "ف",
    "k": "ک",
    "g": "گ",
    "l": "ل",
    "m": "م",
    "n": "ن",
    "v": "و",
    "w": "و",
    "y": "ی",
    "q": "ق",
    "c": "ک",
    "x": "کس",
    "u": "و",
    "i": "ی",
}
_WORD = re.compile(r"[A-Za-z]+|[^A-Za-z]+")
_LATIN = re.compile(r"[A-Za-z]")
_PERSIAN = re.compile("[\u0600-\u06ff]")
# Kept as typed: technical and brand words the knowledge base writes in Latin letters too.
_KEEP = re.compile(
    r"^(lcd|oled|usb|sim|iphone|ipad|samsung|xiaomi|redmi|galaxy|huawei|apple|android|ios|"
    r"pro|max|plus|mini|ultra|note|wifi|gb|tb|[a-z]?\d+[a-z]*)$",
    re.I,
)


def looks_finglish(text: str) -> bool:
    """Persian in Latin letters (not English, not Persian script)."""
    if _PERSIAN.search(text) or not _LATIN.search(text):
        return False
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
    return any(w in _MARKERS for w in words)


def _word(word: str, short: bool, keep: bool = True) -> str:
    """One word in Persian letters. Finglish writes "a" and "o" for short vowels (not written in
    Persian: "chand" چند, "konam" کنم) and long ones alike ("bazid" بازید, "goshi" گوشی), so
    there are two readings: ``short`` drops them inside a word, otherwise they are written."""
    w = word.lower()
    if keep and _KEEP.match(w) or w.isdigit():
        return word
    out: list[str] = []
    i = 0
    while i < len(w):
        pair = w[i : i + 2]
        digraph = next((fa for lat, fa in _DIGRAPHS if pair == lat), None)
        if digraph is not None:
            out.append("آ" if i == 0 and digraph == "ا" else digraph)
            i += 2
            continue
        ch = w[i]
        last = i == len(w) - 1
        if ch in "aeo":
            if i == 0:
                out.append("آ" if ch == "a" else "ا")  # a word starting with a vowel has an alef
            elif last and ch == "e":
                out.append("ه")  # "khane" → خانه
            elif last and ch == "o":
                out.append("و")  # "to" → تو
            elif ch == "a" and not short:
                out.append("ا")
            elif ch == "o" and not short and w[i + 1] not in "aeiou":
                out.append("و")  # "goshi" → گوشی
            # short vowels, and e inside a word, are not written
        elif ch == "i" and i == 0:
            out.append("ای")
        else:
            out.append(_LETTERS.get(ch, ch))
        i += 1
    return "".join(out)


def to_persian(text: str, *, short: bool = False, brands: bool = False) -> str:
    """The text with its Latin-letter words transliterated into Persian letters (``brands``:
    brand and technical words too, "Samsung" → "سامسونگ", as Persian customers write them)."""
    return "".join(
        _word(part, short, keep=not brands) if part[0].isascii() and part[0].isalpha() else part
        for part in _WORD.findall(text)
    )


def readings(text: str, *, is_finglish: bool | None = None) -> list[str]:
    """Persian-letter readings of a Finglish text (empty if it doesn't look like Finglish);
    ``is_finglish`` when the caller has already looked (text.reading)."""
    if not (looks_finglish(text) if is_finglish is None else is_finglish):
        return []
    return list(dict.fromkeys([to_persian(text), to_persian(text, short=True)]))
