"""Write the order-conversation evaluation set (tests/data/eval/orders/): a small Persian shop's
spreadsheet of orders as its owner keeps it (Persian headers, Jalali dates, Persian status words,
mobile numbers, some e-mails, carriers پست/تیپاکس/چاپار, tracking codes, some orders without
one, some on hold), a small knowledge base (shipping, returns, tracking in general, Persian and
English), and "where is my order?" conversations in Persian, Finglish and English (issue #32).

Each conversation names its order and whether the customer ever proves it is theirs, and each turn
says what the order desk must do (evaluate.py, ``--orders``). The kinds: the number and the proof
in one message or across turns; Persian digits, spaces and dashes in numbers and phones; a wrong
proof then the right one; someone else's number; a number that doesn't exist; a shipping question
in the middle (the knowledge base's); an on-hold order (handed over); a whole phone number for the
last four digits; an e-mail. Deterministic (a fixed seed):

    .venv/bin/python scripts/make_orders_set.py

dev.jsonl and test.jsonl are split by conversation (every other one of a shuffled list), and
the two ask about different orders.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from pathlib import Path

import jdatetime

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "eval" / "orders"
R = random.Random(3205)
FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
TODAY = date(2026, 12, 7)

COLUMNS = [
    "ردیف", "شماره سفارش", "تاریخ ثبت", "نام مشتری", "موبایل", "ایمیل", "اقلام", "مبلغ (تومان)", "وضعیت",
    "شرکت حمل", "تاریخ ارسال", "کد رهگیری", "آدرس", "توضیحات",
]  # fmt: skip
# (status, the owner's words for it, how often)
STATUSES = [
    ("shipped", ["ارسال شد", "ارسال شده"], 20),
    ("completed", ["تحویل شد"], 10),
    ("processing", ["در حال آماده‌سازی", "در حال بسته‌بندی"], 12),
    ("pending", ["در انتظار پرداخت"], 5),
    ("on-hold", ["در انتظار بررسی", "معلق"], 6),
    ("cancelled", ["لغو شد"], 4),
    ("refunded", ["مرجوع شد"], 3),
]
CARRIERS = [("پست", 24), ("تیپاکس", 12), ("چاپار", 10)]
NAMES = ["مریم احمدی", "علی رضایی", "زهرا کریمی", "حسین محمدی", "فاطمه حسینی", "رضا موسوی", "نگار صادقی",
         "امیر جعفری", "سارا قاسمی", "محمد نوری", "الهام شریفی", "مهدی اکبری", "نازنین رحیمی", "پویا کاظمی"]  # fmt: skip
ITEMS = ["دفتر سیمی A5", "خودکار آبی ×۳", "کیف پارچه‌ای", "ماگ سرامیکی", "دفتر برنامه‌ریزی", "مداد رنگی ۲۴ رنگ"]
CITIES = ["تهران، خیابان ولیعصر", "اصفهان، چهارباغ", "شیراز، معالی‌آباد", "مشهد، احمدآباد", "تبریز، ولیعصر"]


def fa(text: object) -> str:
    return str(text).translate(FA_DIGITS)


def jalali(day: date) -> str:
    j = jdatetime.date.fromgregorian(date=day)
    return f"{j.year}/{j.month:02d}/{j.day:02d}"


def orders() -> list[dict]:
    kinds = [s for s in STATUSES for _ in range(s[2])]
    R.shuffle(kinds)
    out = []
    for i, (status, words, _) in enumerate(kinds):
        number = str(10230 + i * 7 + R.randint(0, 5))
        created = TODAY - timedelta(days=R.randint(2, 40))
        phone = (
            "09"
            + R.choice(["12", "13", "19", "35", "36", "01", "21"])
            + "".join(R.choice("0123456789") for _ in range(7))
        )
        email = f"customer{i + 1}@{R.choice(['gmail.com', 'yahoo.com', 'chmail.ir'])}" if R.random() < 0.4 else ""
        carrier = tracking = shipped = ""
        if status in ("shipped", "completed") or (status == "refunded" and R.random() < 0.5):
            carrier = R.choices([c for c, _ in CARRIERS], [w for _, w in CARRIERS])[0]
            shipped_day = created + timedelta(days=R.randint(1, 3))
            shipped = shipped_day.isoformat() if shipped_day < TODAY else ""
            if R.random() < 0.8:  # some sent orders have no tracking code written
                n = {"پست": 24, "تیپاکس": 12, "چاپار": 10}[carrier]
                tracking = "".join(R.choice("0123456789") for _ in range(n))
        out.append({
            "number": number, "created": created.isoformat(), "phone": phone, "email": email,
            "status": status, "words": R.choice(words), "carrier": carrier, "shipped": shipped,
            "tracking_code": tracking, "name": R.choice(NAMES),
        })  # fmt: skip
    return out


def write_sheet(rows: list[dict]) -> None:
    with open(OUT / "orders.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for i, o in enumerate(rows, 1):
            persian = R.random() < 0.6  # the owner types Persian digits, mostly
            show = fa if persian else str
            phone = o["phone"]
            phone = R.choice([phone, f"{phone[:4]} {phone[4:7]} {phone[7:]}", f"{phone[:4]}-{phone[4:]}"])
            w.writerow([
                show(i), show(o["number"]), show(jalali(date.fromisoformat(o["created"]))), o["name"], show(phone),
                o["email"], "، ".join(R.sample(ITEMS, R.randint(1, 3))), show(f"{R.randint(8, 95) * 10000:,}"),
                o["words"], o["carrier"],
                show(jalali(date.fromisoformat(o["shipped"]))) if o["shipped"] else "",
                o["tracking_code"], R.choice(CITIES) + f"، پلاک {fa(R.randint(1, 90))}",
                "مشتری تماس گرفت" if o["status"] == "on-hold" else "",
            ])  # fmt: skip
    # A total under the orders, as owners write one: no number, not an order.
    with open(OUT / "orders.csv", "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(["", "", "", "جمع", "", "", "", "", "", "", "", "", "", ""])


KB = [  # (id, lang, questions, answer): each topic in Persian (Finglish asked too) and in English
    ("kb-ship-time", "fa", ["ارسال چند روز طول می‌کشد؟", "سفارش چند روزه میرسه؟", "ersal chand rooz tool mikeshe?"],
     "سفارش‌ها ۱ تا ۲ روز کاری بعد از پرداخت آماده و ارسال می‌شوند. با پست پیشتاز ۲ تا ۵ روز کاری و با تیپاکس ۱ تا ۳ روز کاری در راه است."),
    ("kb-ship-time-en", "en", ["how long does shipping take?", "when will an order arrive?"],
     "Orders leave within 1-2 working days of payment; the post then takes 2-5 working days, Tipax 1-3."),
    ("kb-ship-cost", "fa", ["هزینه ارسال چقدر است؟", "ارسال رایگان دارید؟", "hazine ersal chande?"],
     "هزینه ارسال با پست ۴۵ هزار تومان و با تیپاکس ۷۰ هزار تومان است؛ خرید بالای ۸۰۰ هزار تومان ارسال رایگان دارد."),
    ("kb-ship-cost-en", "en", ["how much is shipping?", "is shipping free?"],
     "Shipping is 45,000 Toman by post and 70,000 Toman by Tipax; free on orders over 800,000 Toman."),
    ("kb-returns", "fa", ["چطور کالا را مرجوع کنم؟", "امکان مرجوعی دارید؟", "marjoo kardan chejoorie?"],
     "تا ۷ روز بعد از تحویل می‌توانید کالای استفاده‌نشده را مرجوع کنید؛ هزینه ارسال برگشت با مشتری است."),
    ("kb-returns-en", "en", ["can I return an item?", "what is your return policy?"],
     "Unused items can be returned within 7 days of delivery; the customer pays the return shipping."),
    ("kb-tracking", "fa", ["کد رهگیری را کجا وارد کنم؟", "چطور مرسوله پستی را پیگیری کنم؟", "code rahgiri ro koja bezanam?"],
     "کد رهگیری پست را در سایت tracking.post.ir و کد تیپاکس را در سایت تیپاکس وارد کنید. کد از یک روز بعد از ارسال فعال می‌شود."),
    ("kb-tracking-en", "en", ["where do I enter a tracking code?", "how do I track a parcel with the post?"],
     "Enter a post tracking code at tracking.post.ir and a Tipax code on Tipax's site; a code works from a day after sending."),
    ("kb-cities", "fa", ["به شهرستان هم ارسال دارید؟", "be shahrestan ham ersal darid?"],
     "بله، به همه شهرهای ایران با پست یا تیپاکس ارسال می‌کنیم."),
    ("kb-cities-en", "en", ["do you ship outside Tehran?"], "Yes, we send to every city in Iran by post or Tipax."),
    ("kb-payment", "fa", ["چطور پرداخت کنم؟", "کارت به کارت قبول می‌کنید؟"],
     "پرداخت از درگاه بانکی سایت یا کارت به کارت است؛ رسید کارت به کارت را در دایرکت بفرستید."),
    ("kb-payment-en", "en", ["how can I pay?"], "Pay through the site's bank gateway or by card transfer, and send us the receipt."),
]  # fmt: skip

# -- the customers' words ------------------------------------------------------------------------

ASK = {  # asking after their order, without its number
    "fa": ["سلام، سفارشم کجاست؟", "سفارشم هنوز نرسیده", "سلام وقت بخیر. سفارش من در چه مرحله‌ای است؟",
           "کد رهگیری سفارشم رو می‌خواستم", "سفارشی که هفته پیش دادم چی شد؟", "ببخشید بسته‌ام کی میرسه؟",
           "سلام خسته نباشید، سفارشمو ارسال کردید؟"],
    "fl": ["salam sefaresham kojast?", "sefaresham hanooz naresideh", "kodom marhale ast sefaresham",
           "code rahgiri sefareshamo mikhastam", "salam, vaziate sefaresham chi shod?", "sefaresham ersal shod?"],
    "en": ["Hi, where is my order?", "has my order shipped yet?", "I'd like the tracking code for my order",
           "my package hasn't arrived yet", "any update on my order?", "hello, what's the status of my order"],
}  # fmt: skip
ASK_N = {  # asking after a numbered order
    "fa": ["سفارش {n} کجاست؟", "وضعیت سفارش شماره {n} چیه؟", "سلام، سفارش {n} چی شد؟", "کد رهگیری سفارش {n} رو میدید؟",
           "سلام سفارش {n} هنوز نرسیده"],
    "fl": ["sefaresh {n} kojast?", "vaziate sefaresh {n} chie?", "salam sefaresh shomare {n} chi shod",
           "sefaresh {n} ersal shod?"],
    "en": ["order #{n} status?", "where is order {n}?", "Hi, can you check order {n} for me?", "has order {n} shipped?",
           "any news on order {n}?"],
}  # fmt: skip
NUMBER = {"fa": ["{n}", "شماره سفارش {n}", "#{n}", "{n} هست"], "fl": ["{n}", "shomare sefaresh {n}", "#{n}"],
          "en": ["{n}", "it's {n}", "order number is {n}", "#{n}"]}  # fmt: skip
LAST4 = {"fa": ["{p}", "چهار رقم آخر موبایلم {p}", "آخرش {p} هست", "{p} ممنون"],
         "fl": ["{p}", "4 raghame akhar {p}", "akharesh {p}e"],
         "en": ["{p}", "last four digits: {p}", "it ends in {p}", "phone ends with {p}"]}  # fmt: skip
EMAIL = {"fa": ["{e}", "ایمیلم {e}"], "fl": ["{e}", "emailam {e}"], "en": ["{e}", "my email is {e}"]}
WHOLE = {"fa": ["{w}", "شماره‌ام {w}"], "fl": ["{w}", "shomaram {w}"], "en": ["{w}", "my number is {w}"]}
BOTH = {  # the number and the proof in one message
    "fa": ["سفارش {n} کجاست؟ چهار رقم آخر موبایلم {p}", "سلام، وضعیت سفارش {n} رو میخواستم. ۴ رقم آخر شماره: {p}",
           "سفارش شماره {n}، موبایل {p}، هنوز نرسیده"],
    "fl": ["sefaresh {n} kojast? 4 raghame akhare shomaram {p}", "salam vaziate sefaresh {n}? akhare mobile {p}"],
    "en": ["where is order {n}? phone ends in {p}", "order #{n} status? last four of my phone are {p}",
           "Hi, has order {n} shipped? my phone number ends with {p}"],
}  # fmt: skip
KB_MIDDLE = {
    "fa": [("راستی ارسال معمولا چند روز طول می‌کشه؟", "kb-ship-time"), ("هزینه ارسال چقدره؟", "kb-ship-cost"),
           ("اگه خوشم نیاد میتونم مرجوع کنم؟", "kb-returns")],
    "fl": [("ersal chand rooz tool mikeshe?", "kb-ship-time"), ("hazine ersal chande?", "kb-ship-cost")],
    "en": [("by the way, how long does shipping usually take?", "kb-ship-time-en"),
           ("how much is shipping?", "kb-ship-cost-en"), ("can I return an item if it doesn't fit?", "kb-returns-en")],
}  # fmt: skip
REPLY_LANG = {"fa": "fa", "fl": "fa", "en": "en"}


def number_as(n: str, lang: str) -> str:
    """An order number as a customer types it: Persian digits in Persian, now and then a space."""
    if R.random() < 0.12:
        n = f"{n[:2]} {n[2:]}"
    return fa(n) if lang == "fa" and R.random() < 0.75 else n


def proof_as(p: str, lang: str) -> str:
    return fa(p) if lang == "fa" and R.random() < 0.7 else p


def whole_as(phone: str, lang: str) -> str:
    shown = R.choice([phone, f"{phone[:4]} {phone[4:7]} {phone[7:]}", f"{phone[:4]}-{phone[4:7]}-{phone[7:]}",
                      f"+98 {phone[1:4]} {phone[4:7]} {phone[7:]}"])  # fmt: skip
    return fa(shown) if lang == "fa" and R.random() < 0.7 else shown


def say(table: dict, lang: str, **values: str) -> str:
    return R.choice(table[lang]).format(**values)


def conversation(kind: str, lang: str, o: dict, other: dict) -> dict:
    """One conversation of ``kind`` about order ``o`` (``other``: someone else's order)."""
    n, p = o["number"], o["phone"][-4:]

    def num() -> str:
        return number_as(n, lang)

    def last4() -> str:
        return say(LAST4, lang, p=proof_as(p, lang))

    def both(proof: str) -> str:
        return say(BOTH, lang, n=num(), p=proof_as(proof, lang))

    wrong = next(x for x in (f"{R.randint(0, 9999):04d}" for _ in range(50)) if x != p)
    done = "handover" if o["status"] == "on-hold" else "status"
    verified = True
    turns: list[tuple[str | dict[str, str], str]]
    if kind == "one_message":
        turns = [(both(p), done)]
    elif kind == "three_turns":
        turns = [(say(ASK, lang), "ask_number"), (say(NUMBER, lang, n=num()), "ask_proof"), (last4(), done)]
    elif kind == "number_then_proof":
        turns = [(say(ASK_N, lang, n=num()), "ask_proof"), (last4(), done)]
    elif kind == "wrong_then_right":
        turns = [(say(ASK_N, lang, n=num()), "ask_proof"), (say(LAST4, lang, p=proof_as(wrong, lang)), "no_match"),
                 (both(p), done)]  # fmt: skip
    elif kind == "someone_elses":
        turns = [(both(other["phone"][-4:]), "no_match")]
        verified = False
    elif kind == "no_such_order":
        o = {"number": str(R.randint(50000, 99999))}
        turns = [(say(BOTH, lang, n=number_as(o["number"], lang), p=proof_as(p, lang)), "no_match")]
        verified = False
    elif kind == "kb_in_the_middle":
        q, gold = R.choice(KB_MIDDLE[lang])
        turns = [(say(ASK, lang), "ask_number"), ({"q": q, "gold": gold}, "kb"),
                 (say(ASK_N, lang, n=num()), "ask_proof"), (last4(), done)]  # fmt: skip
    elif kind == "whole_phone":
        turns = [(say(ASK_N, lang, n=num()), "ask_proof"), (say(WHOLE, lang, w=whole_as(o["phone"], lang)), done)]
    elif kind == "email":
        turns = [(say(ASK_N, lang, n=num()), "ask_proof"), (say(EMAIL, lang, e=o["email"]), done)]
    elif kind == "never_proves":
        q, gold = R.choice(KB_MIDDLE[lang])
        turns = [(say(ASK_N, lang, n=num()), "ask_proof"), ({"q": q, "gold": gold}, "kb")]
        verified = False
    elif kind == "limited":
        turns = [(both(wrong), "no_match"), (both(f"{(int(wrong) + 37) % 10000:04d}"), "no_match"),
                 (both(f"{(int(wrong) + 71) % 10000:04d}"), "limited")]  # fmt: skip
        verified = False
    else:
        raise ValueError(kind)
    out = []
    for said, expect in turns:
        turn = {"q": said["q"], "gold": said["gold"], "kind": "in_scope"} if isinstance(said, dict) else {"q": said}
        out.append({**turn, "expect": expect})
    facts = {k: o.get(k, "") for k in ("status", "created", "shipped", "carrier", "tracking_code")}
    order = {"number": o["number"], "verified": verified, "lang": REPLY_LANG[lang], **facts}
    return {"order": order, "turns": out, "note": f"{kind}, {lang}"}


KINDS = [("one_message", 5), ("three_turns", 5), ("number_then_proof", 4), ("wrong_then_right", 4),
         ("someone_elses", 3), ("no_such_order", 3), ("kb_in_the_middle", 4), ("on_hold", 3), ("whole_phone", 3),
         ("email", 2), ("never_proves", 2), ("limited", 2)]  # fmt: skip


def conversations(pool: list[dict]) -> list[dict]:
    out: list[dict] = []
    langs = ["fa", "fl", "en"]
    failures: dict[str, int] = {}
    for kind, count in KINDS:
        for _ in range(count):
            lang = langs[len(out) % 3]
            if kind == "on_hold":
                o = R.choice([x for x in pool if x["status"] == "on-hold"])
                kind_done = R.choice(["one_message", "number_then_proof"])
            else:
                eligible = [x for x in pool if x["status"] != "on-hold" and failures.get(x["number"], 0) == 0]
                if kind == "email":
                    eligible = [x for x in eligible if x["email"]]
                o, kind_done = R.choice(eligible), kind
            other = R.choice([x for x in pool if x is not o and x["phone"][-4:] != o["phone"][-4:]])
            if kind in ("wrong_then_right", "someone_elses", "limited"):
                failed = other if kind == "someone_elses" else o
                failures[failed["number"]] = 1  # a number's failures stay under the desk's hourly limit
                if kind == "someone_elses":
                    o, other = other, o  # the order asked after is the other's; the proof is the customer's own
            c = conversation(kind_done, lang, o, other)
            c["note"] = f"{kind}, {lang}"
            out.append(c)
    R.shuffle(out)
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = orders()
    write_sheet(rows)
    with open(OUT / "kb.jsonl", "w", encoding="utf-8") as fh:
        for eid, lang, questions, answer in KB:
            entry = {"id": eid, "questions": questions, "answer": answer, "lang": lang}
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    # Split by order (and so by conversation): test asks about orders dev never names.
    halves = {"dev": rows[0::2], "test": rows[1::2]}
    for name, pool in halves.items():
        with open(OUT / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for c in conversations(pool):
                fh.write(json.dumps(c, ensure_ascii=False) + "\n")
    print(f"{len(rows)} orders; dev and test written to {OUT}")


if __name__ == "__main__":
    main()
