"""Finding the product a customer means, in their words.

Customers write "بوف کور دارین؟ چنده؟", "is the blue hoodie in M in stock", "gheimate charger
samsung": the product's name, shortened, misspelt, in Persian, English or Finglish, inside a
question about price or stock. Matching is on words, not on the embedder (a product name is a
name, not a meaning):

- the question and every product name go through ``textnorm.normalize``; a Finglish question
  also through its Persian-letter readings (finglish.readings);
- the words that only say *what* is asked (price, in stock, do you have, چنده، موجوده) are
  set apart: they make the question a product question (``intent``), they don't pick a product;
- each name word is found among the question's words exactly, as a prefix with a Persian ending
  ("هودیش"), or with one or two typing mistakes (rapidfuzz's Levenshtein), never for numbers and
  short words ("13" is not "15");
- a product's score weighs, by how rare each word is in the catalog, the share of its name the
  question has *and* the share of the question's catalog words its name (or its variants'
  size and colour) explains: "iPhone 15 case" finds "iPhone 13 Case" half-explained ("15"), not
  a match; "samsung charger" finds both Samsung chargers, equally (then the customer chooses).

A variant (size, colour) is chosen by the question's words among the variants' values, in
either language ("آبی" is "blue", "مدیوم" is "M").
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from appliance.catalog import store as catalog_store
from appliance.catalog.product import Product
from appliance.db import Store
from appliance.text.finglish import to_persian
from appliance.text.reading import Reading, read
from appliance.text.textnorm import normalize

_TOKEN = re.compile(r"\w+")
# Words that say what is asked about a product, not which product (fa, en and Finglish read in
# Persian letters): they make a question a product question.
_INTENT = frozenset(
    """
price prices cost costs pricing priced stock stocks available availability have has got sell
sells selling buy instock carry carries left any
قیمت قیمتش قیمتشون قیمتها چنده چقدر چقدره چقد چقده موجود موجوده موجودی موجودیش دارید دارین
داری دارن دارید؟ هست هستش ناموجود میفروشید میفروشین فروش فروشی خرید بخرم میخوام میخواستم
gheymat gheymate gheimat gheimate ghimat ghimate chande chanda chandeh mojood mojoode mojud darid
darin dari mifrushid mifroshid
""".split()
)
# Words that carry nothing about which product (both languages).
_FILLER = frozenset(
    """
a an the is are do does did you your we our i me my it its this that of for in on at to with and or
please pls plz hi hello there can could would will what which size colour color one ones some much edition
رو را از با برای به در که این اون آن یه یک و هم آیا ایا سلام لطفا لطفاً من ما شما تون تو کتاب
ببخشید مرسی ممنون میشه سایز رنگ یا
salam lotfan ye yek ro ba az baraye
""".split()
)
# "how much", and "چند" / "chand" asking a price ("X چند؟", "چند میشه") but not a time ("تا ساعت چند").
_INTENT_PHRASE = re.compile(r"\bhow much\b|\b(چند|chand)\b\s*([?؟!.]*\s*$|(میشه|هست|است|تومن|تومان|mishe|hast))")
# Size and colour words in both languages, so "آبی" finds a variant the shop called "Blue".
_SAME = [  # (English, Persian, other writings): the first two are how a reply shows the value
    ("blue", "آبی", "abi"),
    ("black", "مشکی", "سیاه", "meshki"),
    ("white", "سفید", "sefid"),
    ("red", "قرمز", "ghermez"),
    ("green", "سبز", "sabz"),
    ("yellow", "زرد", "zard"),
    ("grey", "طوسی", "gray", "خاکستری"),
    ("pink", "صورتی", "soorati"),
    ("purple", "بنفش"),
    ("orange", "نارنجی"),
    ("brown", "قهوهای", "قهوه"),
    ("navy", "سرمهای", "سورمه"),
    ("beige", "بژ", "کرم"),
    ("small", "اسمال", "s"),
    ("medium", "مدیوم", "m"),
    ("large", "لارج", "l"),
    ("xl", "ایکس لارج", "xlarge"),
    ("xxl", "2xl"),
    ("hardcover", "گالینگور", "hardback", "galingor", "galingoor"),
    ("paperback", "شومیز", "softcover", "shomiz", "shoomiz"),
]
# The kind of value each canonical word is: two words of one kind name different variants (a
# question asking "xl" is not about the "l" variant, nor "hardcover" about the paperback).
_KIND = {
    **{g[0]: "colour" for g in _SAME[:13]},
    **{w: "size" for w in ("small", "medium", "large", "xl", "xxl", "xxxl", "3xl", "4xl", "xs")},
    **{f"{p}{n}": "paper" for p in "ab" for n in range(7)},
    "hardcover": "binding",
    "paperback": "binding",
}
# Units written after a number, each in one canonical form ("۵ متری", "5m", "5 meter" are "5m";
# "۲۰ هزار" of a power bank is 20000): the number and its unit make one word, as in a name.
_UNIT = {
    "m": "m", "meter": "m", "meters": "m", "metre": "m", "متر": "m", "متری": "m", "متره": "m", "metri": "m",
    "cm": "cm", "سانت": "cm", "سانتی": "cm", "سانتیمتر": "cm", "santi": "cm",
    "mah": "mah", "میلی آمپر": "mah", "میلیآمپر": "mah", "میلی امپر": "mah", "milliamp": "mah",
    "gb": "gb", "گیگ": "gb", "گیگابایت": "gb", "گیگی": "gb", "gig": "gb", "giga": "gb",
    "tb": "tb", "ترا": "tb", "ترابایت": "tb", "terabyte": "tb",
    "w": "w", "وات": "w", "watt": "w", "vat": "w",
    "inch": "inch", "اینچ": "inch", "اینچی": "inch", "inchi": "inch",
}  # fmt: skip
_MODEL = re.compile(r"[a-z]{1,3}\d{1,4}[a-z]{0,3}")  # a model code: letters, then digits (paper sizes are "paper")
_QUANTITIES = {"length", "capacity", "storage", "power", "screen"}
_UNIT_KIND = {"m": "length", "cm": "length", "mah": "capacity", "gb": "storage", "tb": "storage", "w": "power",
              "inch": "screen"}  # fmt: skip
_NUMBER_UNIT = re.compile(
    r"(?<![\w.])(\d+(?:[.,/]\d+)?)\s*(" + "|".join(sorted(map(re.escape, _UNIT), key=len, reverse=True)) + r")(?!\w)"
)
_THOUSAND = re.compile(r"(?<![\w.])(\d+)\s*(?:هزار|hezar|k)(?!\w)")
_PHRASES = [(re.compile(p), w) for p, w in (
    (r"جلد سخت|hard ?cover|jeld sakht", "hardcover"), (r"soft ?cover|jeld narm|جلد نرم", "paperback"),
    (r"ایکس ?لارج|extra large|x ?large", "xl"), (r"(?<!\w)2 ?xl(?!\w)|ایکس ایکس لارج", "xxl"),
)]  # fmt: skip


def _canon_units(norm: str) -> str:
    """Numbers with their units in one form, on normalised text (names and questions alike)."""
    for pattern, word in _PHRASES:
        norm = pattern.sub(word, norm)

    def thousand(m: re.Match) -> str:
        return str(int(m[1]) * 1000)

    def unit(m: re.Match) -> str:
        number = m[1].replace(",", "_").replace("/", "_").replace(".", "_")
        return f"{number}{_UNIT[m[2]]}"

    norm = _THOUSAND.sub(thousand, norm)
    norm = _NUMBER_UNIT.sub(unit, norm)
    # "1.5" is one number, not "1" and "5"
    return re.sub(r"(?<=\d)[.](?=\d)", "_", norm)


def value_kind(word: str) -> str | None:
    """What sort of attribute a (canonical) word names: size, colour, binding, paper, a unit's
    quantity (length, capacity, storage, power), or None for an ordinary word."""
    if word in _KIND:
        return _KIND[word]
    if word in {"s", "m", "l"}:
        return "size"
    found = re.fullmatch(r"[\d_]+([a-z]+)", word)
    if found and found[1] in _UNIT_KIND:
        return _UNIT_KIND[found[1]]
    if _MODEL.fullmatch(word):
        return "model"  # "a54", "s23", "m185": a phone's or a device's model ("a24" is another)
    return None


def _number_of(word: str) -> str:
    """The number in a number-with-unit word ("20000mah" → "20000"), else ""."""
    found = re.fullmatch(r"([\d_]+)[a-z]+", word)
    return found[1] if found else ""


_CANON = {word: group[0] for group in _SAME for word in group}
_GROUP = {group[0]: group for group in _SAME}


def forms(word: str) -> set[str]:
    """A (canonical) size or colour word in all its writings; the word alone otherwise."""
    return set(_GROUP.get(word, (word,)))


def in_language(value: str, lang: str) -> str:
    """A size or colour as the customer's language writes it ("Blue" → "آبی" in Persian)."""
    group = _GROUP.get(_CANON.get(normalize(value).replace(" ", ""), ""))
    if group is None or len(normalize(value)) <= 2:  # "M" and "XL" are written so in Persian too
        return value
    if lang == "fa" and value.isascii():
        return group[1]
    if lang == "en" and not value.isascii():
        return group[0].capitalize()
    return value


PREFIX_SHARE = 0.9
CANDIDATES = 60
BETA = 1.0
UNKNOWN_WEIGHT = 0.2
_ENDINGS = ("ش", "ها", "های", "رو", "ی", "تون", "شون", "s", "es")


def _canon(word: str) -> str:
    return _CANON.get(word, word)


def tokens(text: str) -> list[str]:
    return _tokens_of_normalised(normalize(text))


def _tokens_of_normalised(norm: str) -> list[str]:
    return [_canon(t) for t in _TOKEN.findall(_canon_units(norm))]


def _is_number(word: str) -> bool:
    return any(ch.isdigit() for ch in word)


def similar(name_word: str, asked: str) -> float:
    """How well a question's word stands for a name's word (0 to 1)."""
    if name_word == asked:
        return 1.0
    if _is_number(name_word) or _is_number(asked):
        # "13" and "13pro" are not the same model; numbers match only exactly, but a bare number
        # stands for the same number with a unit ("20000" asked, "20000mah" named).
        if asked.isdigit() and _number_of(name_word) == asked:
            return 0.9
        return 0.0
    if len(name_word) >= 3 and asked.startswith(name_word) and asked[len(name_word) :] in _ENDINGS:
        return 0.9
    n = len(name_word)
    if n < 4 or abs(len(asked) - n) > 2:
        return 0.0
    allowed = 1 if n < 7 else 2
    distance = Levenshtein.distance(name_word, asked, score_cutoff=allowed)
    return 0.8 if distance <= allowed else 0.0


@dataclass
class Group:
    """A product and its variants (a product without variants is a group of one)."""

    product: Product
    variants: list[Product]
    names: list[list[str]]  # each name's words (fa, en, the SKU)
    values: set[str]  # the variants' size, colour... words

    @property
    def kinds(self) -> set[str]:
        """The sorts of value its variants differ by (size, colour, length...)."""
        kinds = {k for w in self.values if (k := value_kind(w))}
        if any(w.isdigit() for w in self.values):
            kinds.add("number")  # models told apart by a number ("iPhone 13", "iPhone 14")
        return kinds

    def _offers(self, v: Product, asked: str) -> float:
        values = {w for value in v.attributes.values() for w in tokens(value)}
        return max((similar(f, asked) for w in values for f in forms(w)), default=0.0)

    def pick(self, asked: set[str]) -> list[Product]:
        """The variants the question's words choose (all of them if it names none)."""
        if not self.variants:
            return []
        chosen = [(sum(self._offers(v, a) for a in asked), v) for v in self.variants]
        best = max(n for n, _ in chosen)
        if best == 0:
            return self.variants
        return [v for n, v in chosen if n == best]

    def unoffered(self, asked: list[str]) -> list[str]:
        """The question's values of a sort the variants differ by that no variant has: "XL" of a
        shirt made in S to L, "30000" of a power bank sold up to 20000 mAh. Such a question is
        not about the nearest variant."""
        if not self.variants:
            return []
        kinds = self.kinds
        named = {w for name in self.names for w in name}
        quantities = kinds & _QUANTITIES
        out = []
        for a in asked:
            kind = value_kind(a)
            bare = a.isdigit() and bool(quantities or "number" in kinds) and a not in named
            if not (kind in kinds or bare) or a in named:
                continue
            if not any(self._offers(v, a) >= 0.9 for v in self.variants):
                out.append(a)
        return out


def conflicts(name: list[str], asked: list[str]) -> bool:
    """The name says one value of a sort (paperback, 15 inch, 20 W) and the question another of
    the same sort, and not this one: "the hardcover" is not the product named "... (paperback)"."""
    mine: dict[str, set[str]] = {}
    for w in name:
        if kind := value_kind(w):
            mine.setdefault(kind, set()).add(w)
    for a in asked:
        kind = value_kind(a)
        if kind in mine and not any(similar(f, a) >= 0.9 for w in mine[kind] for f in forms(w)):
            return True
    return False


@dataclass
class Match:
    group: Group
    score: float
    chosen: list[Product] = field(default_factory=list)
    covered: float = 0.0  # the share of the question's words this product explains
    unoffered: list[str] = field(default_factory=list)  # values asked that no variant has
    # Only part of its name was said, and nothing else of it (no size, colour...): «سووشون» asked
    # where the shop has «سووشون نوجوان» may mean a book it doesn't have (Decider offers it).
    partial: bool = False

    @property
    def sku(self) -> str:
        """What was found: the one variant the question chose, else the product."""
        return self.chosen[0].sku if len(self.chosen) == 1 else self.group.product.sku


@dataclass
class Found:
    matches: list[Match]  # best first (only those with some score)
    intent: bool  # the question asks a price, stock or "do you have"
    words: int  # the question's words that could name a product
    named: tuple[str, ...] = ()  # those words (normalised), as the customer wrote them

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


class CatalogIndex:
    """The enabled products' names in memory, reloaded when the catalog changes."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._version = -1
        self.groups: list[Group] = []
        self._by_word: dict[str, list[int]] = {}
        self._idf: dict[str, float] = {}
        self._vocabulary: list[str] = []

    def __len__(self) -> int:
        self.refresh()
        return len(self.groups)

    def invalidate(self) -> None:
        self._version = -1

    def refresh(self) -> None:
        db = self.store.read()
        current = catalog_store.version(db)
        if current == self._version:
            return
        with self._lock:
            if current != self._version:
                self._load(catalog_store.all_products(db, enabled_only=True))
                self._version = current

    def _load(self, products: list[Product]) -> None:
        by_parent: dict[str, list[Product]] = {}
        for p in products:
            if p.parent_sku:
                by_parent.setdefault(p.parent_sku, []).append(p)
        groups = []
        for p in products:
            if p.parent_sku:
                continue
            names = [tokens(n) for n in (p.name_fa, p.name_en) if n]
            if not p.name_fa:
                # Persian customers write an English name in Persian letters ("هودی", "سامسونگ")
                latin = p.name_en.split()
                for s in (False, True):
                    names.append(
                        tokens(" ".join(to_persian(w, short=s, brands=True) if w.isalpha() else w for w in latin))
                    )
            names.append([p.sku.casefold()])
            kids = by_parent.get(p.sku, [])
            values = {w for v in kids for value in v.attributes.values() for w in tokens(value)}
            groups.append(Group(p, kids, names, values))
        df: Counter[str] = Counter()
        by_word: dict[str, list[int]] = {}
        for i, g in enumerate(groups):
            words = {w for name in g.names for w in name} | g.values
            df.update(words)
            for w in words:
                by_word.setdefault(w, []).append(i)
        total = max(1, len(groups))
        self._idf = {w: math.log(1 + total / n) for w, n in df.items()}
        self._by_word = by_word
        self._vocabulary = list(by_word)
        self.groups = groups

    def _candidates(self, asked: list[str]) -> list[int]:
        """Groups sharing a word (or a near one) with the question, the likeliest first and at
        most CANDIDATES of them: at 10,000 products a common word ("charger") is in thousands of
        names, and only the few that share the rarer words are worth scoring in full."""
        weight: dict[int, float] = {}
        for a in asked:
            near: dict[str, float] = {a: 1.0} if a in self._by_word else {}
            if len(a) >= 4 and not _is_number(a):
                # rapidfuzz walks the vocabulary in C: 10,000 products' words in a millisecond
                for w, _, _ in process.extract(
                    a, self._vocabulary, scorer=Levenshtein.distance, score_cutoff=2, limit=None
                ):
                    s = similar(w, a)
                    if s > 0:
                        near[w] = max(near.get(w, 0.0), s)
            for w in self._prefixed(a):
                near[w] = max(near.get(w, 0.0), 0.9)
            for w, s in near.items():
                gain = s * self._idf.get(w, 1.0)
                for i in self._by_word[w]:
                    weight[i] = weight.get(i, 0.0) + gain
        return sorted(weight, key=weight.__getitem__, reverse=True)[:CANDIDATES]

    def _prefixed(self, asked: str) -> list[str]:
        """Name words the question's word is, with a Persian ending ("هودیش" for "هودی")."""
        out = []
        for ending in _ENDINGS:
            if asked.endswith(ending) and asked[: -len(ending)] in self._by_word:
                out.append(asked[: -len(ending)])
        return out

    def search(self, query: str | Reading, limit: int = 5) -> Found:
        reading = query if isinstance(query, Reading) else read(query)
        self.refresh()
        own = _tokens_of_normalised(reading.norm)
        content = [w for w in own if w not in _INTENT and w not in _FILLER]
        all_words = list(content)
        latin_words = [w for w in content if w.isascii() and w.isalpha()]
        if not reading.finglish:
            # An English sentence around a Persian name in Latin letters ("what does the daftar
            # simi cost"): the words the catalog doesn't know are read as Finglish too.
            latin_words = [w for w in latin_words if w not in self._by_word and len(w) > 2]
        if latin_words:
            # Finglish: the Persian letters of its content words only ("darin" read as "درین"
            # is near "دریا", a word of a book's name)
            latin = " ".join(latin_words)
            for form in (to_persian(latin), to_persian(latin, short=True)):
                all_words += tokens(form)
        intent = any(w in _INTENT for w in own) or bool(_INTENT_PHRASE.search(reading.norm))
        asked = list(dict.fromkeys(w for w in all_words if w not in _INTENT and w not in _FILLER))
        # "25 w" is how a phone types "25W"
        asked += [a + b for a, b in zip(asked, asked[1:], strict=False) if a.isdigit() and b.isalpha() and len(b) <= 3]
        matches = []
        for i in self._candidates(asked):
            g = self.groups[i]
            score, covered, partial = self._score(g, asked, set(content))
            if score > 0:
                matches.append(Match(g, score, g.pick(set(asked)), covered, g.unoffered(asked), partial))
        matches.sort(key=lambda m: (-m.score, m.group.product.sku))
        return Found(matches[:limit], intent, len(content), tuple(content))

    def _score(self, g: Group, asked: list[str], own: set[str]) -> tuple[float, float, bool]:
        """The product's score for the question, the share of the question it explains, and
        whether only part of its name was said (Match.partial)."""
        idf = self._idf
        best_name = 0.0
        said_whole = by_value = False
        explained: dict[str, float] = {}
        for name in g.names:
            if not name or conflicts(name, asked):
                continue
            got = total = 0.0
            for w in name:
                weight = idf.get(w, 1.0)
                total += weight
                sims = [(similar(w, a), a) for a in asked]
                s, a = max(sims, default=(0.0, ""))
                got += weight * s
                if s > 0:
                    explained[a] = max(explained.get(a, 0.0), s)
                # a model code said ("K380") names this product, however much else is left out
                by_value = by_value or (s >= 0.8 and value_kind(w) == "model")
            share = got / total if total else 0.0
            said_whole = said_whole or all(
                max((similar(w, a) for a in asked), default=0) >= 0.8 for w in name if w not in _FILLER
            )
            # Customers shorten a long name to its start ("harry potter", "the subtle art"): a
            # name whose first two words are both asked counts nearly whole.
            head = [w for w in name if w not in _FILLER][:2]
            if (
                len(head) == 2
                and len(name) > 2
                and all(max((similar(w, a) for a in asked), default=0) >= 0.8 for w in head)
            ):
                share = max(share, PREFIX_SHARE)
            best_name = max(best_name, share)
        kinds = g.kinds
        for a in asked:
            for value in g.values:
                s = max(similar(f, a) for f in forms(value))
                by_value = by_value or s >= 0.8
                if s > explained.get(a, 0.0):
                    explained[a] = s
            if a not in explained and (value_kind(a) in kinds or (a.isdigit() and kinds & (_QUANTITIES | {"number"}))):
                # a value of a sort its variants differ by, that none has ("XL" of S to L): the
                # product is the one asked about; Group.unoffered says the variant isn't sold
                explained[a] = 1.0
                by_value = True
        # The question's words that mean something in this catalog (or are numbers): each one
        # this product doesn't explain speaks for another product.
        # A word the catalog doesn't know ("strap" in "apple watch strap") says the customer
        # may mean something else, with less weight than a word it knows.
        meaningful = [a for a in asked if a in idf or _is_number(a) or a in explained or a in own]
        if not meaningful or best_name == 0:
            return 0.0, 0.0, False
        top = max(idf.values(), default=1.0)
        weights = {a: idf.get(a, top if _is_number(a) else UNKNOWN_WEIGHT * top) for a in meaningful}
        covered = sum(weights[a] * explained.get(a, 0.0) for a in meaningful) / sum(weights.values())
        if covered == 0:
            return 0.0, 0.0, False
        partial = not said_whole and not by_value
        # F-beta with beta 2: that the question's words are all explained counts more than that
        # the whole name was said ("hoodie in M" is the Classic Hoodie: customers shorten names).
        return (1 + BETA**2) * best_name * covered / (BETA**2 * best_name + covered), covered, partial

    def get(self, sku: str) -> tuple[Group, list[Product]] | None:
        """The group holding this SKU, and the variant(s) it names (a customer's pick)."""
        self.refresh()
        for g in self.groups:
            if g.product.sku == sku:
                return g, list(g.variants)
            for v in g.variants:
                if v.sku == sku:
                    return g, [v]
        return None
