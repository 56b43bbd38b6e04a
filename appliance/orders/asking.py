"""What a customer's message says about their own order, read from its words alone: is it a
"where is my order?" question, which order number does it give, and what proof that the order is
theirs (an e-mail address, the last four digits of the order's phone number, the whole number).

Pure text, by rule: the chat's order desk (conversations/order_desk.py) decides with it. A
question about ordering in general ("how long does shipping take?", «هزینه ارسال چنده؟», "can
I cancel an order?") is the knowledge base's, not the desk's: the desk takes a message only when
it is about the customer's own order ("my order", «سفارشم», an order number) and asks where it is
or how it is doing, or asks for the tracking code. Matched on ``textnorm.normalize``'s form
(Persian letters and digits unified, ZWNJ a space, lower case), so «مرسوله‌ام» and «مرسوله ام»,
«۱۲۳۴۵» and "12345" are read alike.
"""

from __future__ import annotations

import re

from appliance.text import finglish
from appliance.text.textnorm import normalize

# -- is it a question about the customer's own order? ------------------------------------------

_FA_NOUN = r"(?:سفارش|مرسوله|محموله|بسته|پکیج|خرید)"
_FL_NOUN = r"(?:sefaresh|sefersh|marsoo?le?|marsule?|mahmoo?le|baste|kharid)"
# "my order", «سفارشم», «سفارش من», «مرسوله‌ام», "sefaresham", "the order I placed".
_OWN = re.compile(
    r"\b(my|our) (\w+ )?(order|package|parcel|shipment|delivery|purchase|items?|books?|stuff)\b|"
    r"\bi (ordered|placed an order|bought|purchased|paid for)\b|"
    rf"{_FA_NOUN}(م|مو|مون|مان|امو|ام| ام| من| ما| بنده| خودم)(?!\w)|"
    r"سفارش(ی)? (که|رو که|را که) .{0,20}(دادم|دادیم|ثبت کردم|گذاشتم)|سفارش (دادم|دادیم|ثبت کردم)|خریدم(?!\w)|"
    rf"\b{_FL_NOUN}(am|amo|amoon|amun|emun|emoon|e ?man| ?man|e ?ma)\b|\b(kharidam|sefaresh (dadam|dadim|sabt kardam))\b"
)
# An order named by its number: "order #12345", «سفارش ۱۲۳۴۵», «سفارش شماره ۱۰۴۲», "sefaresh 1042".
_NUMBERED = re.compile(
    rf"\b(order|sefaresh|{_FA_NOUN})( (number|no\.?|num|nr|شماره|به شماره|کد|shomare|shomareye|be shomare))?"
    r" ?[:#№]? ?[a-z]{0,4}-?(\d{1,3}( \d{3})+|\d{3,12})\b|(?<![\w#])#\s?[a-z]{0,4}-?(\d{1,3}( \d{3})+|\d{3,12})\b"
)
# Asking where it is or how it's doing. Arrival counts only as a question or a complaint ("my
# order arrived, thanks" is not a question).
_STATUS = re.compile(
    r"\b(where( i|')?s|where is|wheres|where are|status|shipped|ship(ped)? (it|them)|sent( out)?|dispatched|"
    r"on (its|the) way|track(ing)?|any (news|update)|update on|eta|happened (to|with)|"
    r"(not|never|(has|have|did|does|is|are|was|were)n'?t)( yet)? (arrived|come|came|received|delivered|got|here|shipped|sent)|"
    r"(will|when|did|has|is) (it|they|this|that|the \w+|my \w+)( \w+)? (arrive|come|get here|be delivered|be sent|delivered|shipped)|"
    r"(arrived?|delivered|shipped|sent|dispatched) yet|(did|have|has) (you|it|they) (ship|send|sent|shipped|post|posted)|"
    r"(check|look up|lookup|find) (on )?(my |the |this )?(order|package|parcel)|been (delivered|shipped|sent|dispatched|posted)|when (will|do|does|can) (i|we) (get|receive)|still (waiting|not))\b|"
    r"کجاست|کجا است|کجاس(?!\w)|کجا هست|کجای کار|کجا رسیده|کجا موند|چی شد|چیشد|چه شد|چه خبر|وضعیت|"
    r"ارسال (شد|شده|نشده|کردید|کردین|میکنید|میکنین|میشه|می شود|میشود)|فرستادید|فرستادین|میفرستید|میفرستین|فرستاده (شد|شده|نشده)|"
    r"نرسید|نرسیده|رسید ?\?|رسیده ?\?|(کی|چه وقت|چه زمانی|چند روز دیگه) (به دستم )?(میرسه|میرسد|میاد|می آید|میاید)|"
    r"نمیرسه|نمیرسد|به دستم نرسید|دستم نرسید|رهگیری|پیگیری|مرحله|تحویل (داده|نشده|میدید|میشه)|"
    r"پست (شد|شده|کردید|کردین)|در راهه|در راه است|تو راهه|خبری (نشد|نیست)|"
    r"\b(koja|kojast|kojas|kojaye|kojay|kojan|chi ?shod|che ?shod|vaziat|vaziyat|vazeiat|vaziate|"
    r"ersal (shod|shode|nashode|kardin|kardid|mishe)|ferestadin|ferestadid|naresid|naresideh?|"
    r"(kei|key|kay|ki) (mirese|miresad|miad)|nemirese|rahgiri|peygiri|peigiri|paygiri|marhale|marhaleh|"
    r"tahvil|post shod|dar rahe|tu rahe)\b"
)
# Asking for the order's progress in so many words: a message of its own, even without "my".
_STRONG = re.compile(
    r"\b(tracking (code|number|no|link|id)|order (status|tracking)|track (my|an|the|this) (order|package|parcel)|"
    r"code ?rahgiri|kode ?rahgiri|shomare ?rahgiri|cod ?rahgiri|peygiri ?sefaresh|peigiri ?sefaresh|"
    r"vaziat ?sefaresh|vaziate ?sefaresh)\b|"
    r"(کد|شماره|کد ?های) ?رهگیری|(پیگیری|وضعیت|رهگیری) (سفارش|مرسوله|بسته)"
)
# Questions about ordering in general (the knowledge base's): ruled out unless the message names
# the customer's own order or its number.
_GENERAL = re.compile(
    r"\b(how (long|much|many|do|does|can|to)|what (is|are) (the|your) (cost|price|fee|policy)|cost|costs|"
    r"usually|normally|typically|in general|policy|do you|does it|is there|can i|"
    r"chand rooz|chand ruz|chetor|chetori|chejori|hazine|hazineh|che ghadr|cheghadr)\b|"
    r"چقدر|چند روز|چند روزه|هزینه|چطور|چطوری|چگونه|چجوری|چه جوری|آیا|معمولا|امکان|شرایط"
)
# Another wish about an order (the knowledge base's or a person's, not the order's status); and
# what else rules a message out: a damaged or wrong parcel is a complaint, not a status question.
_ELSEWHERE = re.compile(
    r"\b(cancel|cancell?ed|cancellation|return|returns|returning|refund|exchange|"
    r"laghv|cancel|marjoo|marju|marjoee|taviz|pas bedam)\b|"
    r"لغو|کنسل|مرجوع|برگشت|برگردون|استرداد|پس (بدم|بدهم|دادن|بفرستم)|تعویض"
)
_OTHER = re.compile(
    r"\b(change|modify|edit|add|remove|damaged|broken|wrong (item|size|book|colou?r)|missing (item|book)|"
    r"invoice|receipt|discount|coupon|avaz|taghir|kharab|shekaste)\b|"
    r"عوض|تغییر|ویرایش|اضافه کنم|خراب|شکسته|آسیب|اشتباه|ناقص|کم بود|فاکتور|تخفیف"
)
# A wish to talk to a person is the answering pipeline's (asked_for_person), whatever it's about.
_PERSON = re.compile(
    r"\b(human|real person|a person|agent|operator|representative|someone real|"
    r"ensan|operator|karshenas|poshtiban)\b|اپراتور|کارشناس|انسان|آدم واقعی|شخص واقعی|پشتیبان"
)
# Finglish words of an order question: a reply to one is in Persian even when
# ``finglish.looks_finglish`` finds none of its common words ("code rahgiri").
_FINGLISH_ORDER = re.compile(
    rf"\b({_FL_NOUN}\w*|rahgiri|peygiri|peigiri|paygiri|vaziat\w*|koja\w*|marhale\w*|ersal|naresid\w*|mirese)\b"
)


def is_order_question(text: str) -> bool:
    """A question about the customer's own order's progress: where it is, whether it has been
    sent or has arrived, its tracking code (in Persian, Finglish or English)."""
    norm = normalize(text)
    if not norm or elsewhere(text) or _OTHER.search(norm):
        return False
    own = bool(_OWN.search(norm) or _NUMBERED.search(norm))
    strong = bool(_STRONG.search(norm))
    if own and (strong or _STATUS.search(norm) or proof(text) is not None):
        return True  # a number and the proof together ask for nothing but the order's news
    if strong and not _GENERAL.search(norm):
        return True
    # "order #12345?", «سفارش ۱۲۳۴۵»: an order named by its number and little else asks after it
    return bool(_NUMBERED.search(norm)) and len(norm.split()) <= 4


def elsewhere(text: str) -> bool:
    """Clearly about something else than where an order is: a person asked for, a return, a
    cancellation, a refund, an exchange. Mid-way through the desk's questions, such a message
    leaves them and is answered as any other."""
    norm = normalize(text)
    return bool(_PERSON.search(norm) or _ELSEWHERE.search(norm))


def finglish_order(text: str) -> bool:
    """Persian typed in Latin letters, by its common words or its order words ("code rahgiri",
    "sefaresham koja ast"): answered in Persian."""
    return finglish.looks_finglish(text) or bool(_FINGLISH_ORDER.search(normalize(text)))


# -- the order number -----------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Digits in groups joined by a space or a dash, "+98" or "0098" ahead: a phone number is found
# whole ("0912 345 6789") before its groups could be read as order numbers.
_DIGIT_RUN = re.compile(r"(?<![\w.,/:])\+?\d+(?:[ -]\d+)*(?![\w,/:]|\.\d)")
# Prices, sizes of time and calendar days carry digits that are no order number.
_NOT_NUMBERS = re.compile(
    r"\$ ?\d[\d,.]*|\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)? ?(تومان|تومن|ریال|هزار|میلیون|toman|tomans|tomen|rial|rials|"
    r"dollars?|usd|eur|euros?|k\b|روز|روزه|هفته|ماه|ساعت|دقیقه|سال|days?|weeks?|months?|hours?|minutes?|years?|"
    r"rooz|ruz|hafte|mah|saat)|\d{2,4}[/-]\d{1,2}[/-]\d{1,4}|\d{1,2}:\d{2}"
)
# The last four digits of the order's phone, said so: "last four 6789", «چهار رقم آخر ۶۷۸۹»,
# "akhare shomaram 6789", "my phone ends in 6789".
_LAST_FOUR = re.compile(
    r"last (four|4)|last (four|4) digits|ends? (with|in)|ending (with|in)|(four|4) digits|"
    r"(چهار|4) ?(تا|تای)? ?(رقم|عدد|شماره)?( ?های| ?ها)? ?(آ|ا)خر|(رقم|عدد|ارقام)( ?های| ?ها)? (آ|ا)خر|"
    r"(آ|ا)خر (شماره|موبایل|تلفن|تلفنم|موبایلم|شمارم|شماره ام)|"
    r"(chahar|4) ?(ta|taye)? ?(raghame?|raqame?|adade?|adad)? ?(e )?akhar|akhare? (shomare|mobile|mobail|phone|telefon)\w*|"
    # "it ends in": «آخرش ۷۰۹۳ هست», «تهش ۷۰۹۳», "akharesh 9199e"
    r"(آ|ا)خرش|تهش|akharesh|akharash|tahesh"
)
# A phone word just before four digits: «سفارش ۱۰۵۲۴، موبایل ۴۹۱۰» gives the phone's last four.
_PHONE_FOUR = re.compile(r"(موبایل|موبایلم|تلفن|تلفنم|همراه|mobile|phone|mobail|mobayl|mobilam)\W{0,3}(\d{4})(?!\d)")
_FOUR = re.compile(r"(?<![\d])\d{4}(?![\d])")
_PREFIXED = re.compile(r"(?<![\w-])([a-z]{1,4})-?(\d{3,12})(?![\w-])")
_NOT_PREFIXES = frozenset({"no", "nr", "num", "nu", "n", "mp", "x", "k"})
_SPACED = re.compile(
    r"(order|sefaresh\w*|سفارش\w*|#|№)(?: (?:number|no|شماره|shomare))?\W{0,3}(\d{1,3}(?: \d{3})+)(?![\w])"
)
# Words that say the number after them is the order's.
_ORDER_WORD = re.compile(r"(order|sefaresh\w*|سفارش\w*|شماره|number|no\.?|#|№|کد)\W{0,3}$")


def _is_phone(run: str) -> bool:
    digits = re.sub(r"\D", "", run)
    if run.startswith("+") or digits.startswith("0098"):
        return digits.startswith("98") and len(digits) == 12 or digits.startswith("0098") and len(digits) == 14
    return (len(digits) == 11 and digits.startswith("0")) or (len(digits) == 10 and digits.startswith("9"))


def _phones(norm: str) -> list[tuple[int, int, str]]:
    """The phone numbers in the text: (start, end, their digits)."""
    return [
        (m.start(), m.end(), re.sub(r"\D", "", m.group())) for m in _DIGIT_RUN.finditer(norm) if _is_phone(m.group())
    ]


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _last_four(norm: str) -> tuple[int, int] | None:
    """Where the four digits said to be the phone's last ones are (after the words, or just before)."""
    phone_four = _PHONE_FOUR.search(norm)
    if phone_four is not None:
        return phone_four.span(2)
    said = _LAST_FOUR.search(norm)
    if said is None:
        return None
    after = _FOUR.search(norm, said.end())
    if after is not None and after.start() - said.end() <= 40:
        return after.span()
    before = [m for m in _FOUR.finditer(norm, 0, said.start()) if said.start() - m.end() <= 25]
    return before[-1].span() if before else None


def _scrubbed(norm: str) -> str:
    """The text with what can't be an order number blanked: e-mail addresses, phone numbers,
    prices, durations and dates, and the digits given as the last four of a phone."""
    spans = [m.span() for m in _EMAIL.finditer(norm)]
    norm = _blank(norm, spans)
    spans = [(s, e) for s, e, _ in _phones(norm)] + [m.span() for m in _NOT_NUMBERS.finditer(norm)]
    four = _last_four(norm)
    if four is not None:
        spans.append(four)
    return _blank(norm, spans)


def order_number(text: str) -> str | None:
    """The order number the message gives, in ``orders.order.normalize_number``'s form: 3 to 12
    digits («۱۲۳۴۵», "#12345", "12-345"), or a shop's prefix and digits ("WC-1042" → "WC1042");
    never a phone number, a price, a date or the last four digits of a phone. Of several, the
    one said to be the order's ("order 1042", «سفارش شماره ۱۰۴۲»), else the first."""
    norm = _scrubbed(normalize(text))
    found: list[tuple[int, str]] = []
    for m in _PREFIXED.finditer(norm):
        if m.group(1) not in _NOT_PREFIXES:
            found.append((m.start(), (m.group(1) + m.group(2)).upper()))
    taken = [m.span() for m in _PREFIXED.finditer(norm) if m.group(1) not in _NOT_PREFIXES]
    for m in _SPACED.finditer(_blank(norm, taken)):
        # "order 10 608", «سفارش ۱۲ ۳۴۵»: groups of digits said after the order's word are one number
        digits = re.sub(r"\D", "", m.group(2))
        if 3 <= len(digits) <= 12:
            found.append((m.start(2), digits))
            taken.append(m.span(2))
    for m in re.finditer(r"(?<![\w-])\d+(?:-\d+)*(?![\w-])", _blank(norm, taken)):
        digits = m.group().replace("-", "")
        if 3 <= len(digits) <= 12:
            found.append((m.start(), digits))
    if not found:
        return None
    found.sort()
    named = [n for start, n in found if _ORDER_WORD.search(norm[max(0, start - 30) : start])]
    return (named or [n for _, n in found])[0]


# -- the proof ------------------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[^\w\s]")
_FILLER = re.compile(
    r"\b(it ?s|it is|is|its|the|my|last|four|digits|are|here|ok|okay|sure|yes|ast|hast|hastesh|mishe|"
    r"هست|است|اینه|ایناست|اینا|بفرمایید|بله|آره|باشه|ممنون|مرسی)\b"
)


def proof(text: str, *, asked: bool = False) -> str | None:
    """What the message gives to prove the order is the customer's: an e-mail address (lower
    case), a whole phone number (its digits), or four digits said to be the phone's last ones.
    ``asked``: the desk has just asked for it, so four digits and nothing else are the proof."""
    norm = normalize(text)
    email = _EMAIL.search(norm)
    if email is not None:
        return email.group().lower()
    phones = _phones(norm)
    if phones:
        return phones[0][2]
    four = _last_four(norm)
    if four is not None:
        return norm[four[0] : four[1]]
    if asked:
        rest = _FILLER.sub(" ", _PUNCTUATION.sub(" ", norm)).split()
        if len(rest) == 1 and _FOUR.fullmatch(rest[0]):
            return rest[0]
    return None
