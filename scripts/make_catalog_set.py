"""Write the catalog evaluation set (tests/data/eval/shop_catalog/): a shop's product catalog of a
few hundred products in Persian and English, a small knowledge base, and customers' questions
with the gold product (its SKU, or null when the shop doesn't have it) and the fields asked.

Written for this project: a Tehran shop selling books, phone accessories and its own clothing.
Questions are typed as customers type: colloquial Persian, Finglish, English, typos, variants
named or not. Deterministic (a fixed seed), so the committed files are what this script writes:

    .venv/bin/python scripts/make_catalog_set.py

``dev.jsonl`` is for tuning; ``test.jsonl`` (other products, other wordings' draws) checks that
what was tuned holds.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "eval" / "shop_catalog"
R = random.Random(1405)

BOOKS = [  # fa title, en title, fa author, en author
    ("بوف کور", "The Blind Owl", "صادق هدایت", "Sadegh Hedayat"),
    ("شازده کوچولو", "The Little Prince", "آنتوان دو سنت اگزوپری", "Saint-Exupery"),
    ("سووشون", "Savushun", "سیمین دانشور", "Simin Daneshvar"),
    ("کلیدر", "Kelidar", "محمود دولت‌آبادی", "Mahmoud Dowlatabadi"),
    ("جای خالی سلوچ", "Missing Soluch", "محمود دولت‌آبادی", "Mahmoud Dowlatabadi"),
    ("کیمیاگر", "The Alchemist", "پائولو کوئیلو", "Paulo Coelho"),
    ("ملت عشق", "The Forty Rules of Love", "الیف شافاک", "Elif Shafak"),
    ("بیشعوری", "Asshole", "خاویر کرمنت", "Javier Crement"),
    ("هنر ظریف بی‌خیالی", "The Subtle Art of Not Giving a F*ck", "مارک منسن", "Mark Manson"),
    ("عادت‌های اتمی", "Atomic Habits", "جیمز کلیر", "James Clear"),
    ("انسان در جستجوی معنا", "Man's Search for Meaning", "ویکتور فرانکل", "Viktor Frankl"),
    ("صد سال تنهایی", "One Hundred Years of Solitude", "گابریل گارسیا مارکز", "Gabriel Garcia Marquez"),
    ("۱۹۸۴", "1984", "جورج اورول", "George Orwell"),
    ("قلعه حیوانات", "Animal Farm", "جورج اورول", "George Orwell"),
    ("جنایت و مکافات", "Crime and Punishment", "فئودور داستایفسکی", "Fyodor Dostoevsky"),
    ("برادران کارامازوف", "The Brothers Karamazov", "فئودور داستایفسکی", "Fyodor Dostoevsky"),
    ("بینوایان", "Les Miserables", "ویکتور هوگو", "Victor Hugo"),
    ("غرور و تعصب", "Pride and Prejudice", "جین آستن", "Jane Austen"),
    ("دیوان حافظ", "Divan of Hafez", "حافظ", "Hafez"),
    ("گلستان سعدی", "Golestan of Saadi", "سعدی", "Saadi"),
    ("شاهنامه", "Shahnameh", "فردوسی", "Ferdowsi"),
    ("مثنوی معنوی", "Masnavi", "مولوی", "Rumi"),
    ("رباعیات خیام", "Rubaiyat of Khayyam", "خیام", "Omar Khayyam"),
    ("سمفونی مردگان", "Symphony of the Dead", "عباس معروفی", "Abbas Maroufi"),
    ("چراغ‌ها را من خاموش می‌کنم", "I Turn Off the Lights", "زویا پیرزاد", "Zoya Pirzad"),
    ("دا", "Da", "سیده زهرا حسینی", "Zahra Hosseini"),
    ("پیرمرد و دریا", "The Old Man and the Sea", "ارنست همینگوی", "Ernest Hemingway"),
    ("بیگانه", "The Stranger", "آلبر کامو", "Albert Camus"),
    ("طاعون", "The Plague", "آلبر کامو", "Albert Camus"),
    ("مسخ", "The Metamorphosis", "فرانتس کافکا", "Franz Kafka"),
    ("محاکمه", "The Trial", "فرانتس کافکا", "Franz Kafka"),
    ("ناطور دشت", "The Catcher in the Rye", "جی دی سلینجر", "J. D. Salinger"),
    ("کوری", "Blindness", "ژوزه ساراماگو", "Jose Saramago"),
    ("بادبادک باز", "The Kite Runner", "خالد حسینی", "Khaled Hosseini"),
    ("هزار خورشید تابان", "A Thousand Splendid Suns", "خالد حسینی", "Khaled Hosseini"),
    ("سه شنبه‌ها با موری", "Tuesdays with Morrie", "میچ آلبوم", "Mitch Albom"),
    ("ثروتمندترین مرد بابل", "The Richest Man in Babylon", "جورج کلاسون", "George Clason"),
    ("پدر پولدار پدر بی پول", "Rich Dad Poor Dad", "رابرت کیوساکی", "Robert Kiyosaki"),
    ("اثر مرکب", "The Compound Effect", "دارن هاردی", "Darren Hardy"),
    ("قورباغه را قورت بده", "Eat That Frog", "برایان تریسی", "Brian Tracy"),
    ("انسان خردمند", "Sapiens", "یووال نوح هراری", "Yuval Noah Harari"),
    ("کتابخانه نیمه شب", "The Midnight Library", "مت هیگ", "Matt Haig"),
    ("هری پاتر و سنگ جادو", "Harry Potter and the Philosopher's Stone", "جی کی رولینگ", "J. K. Rowling"),
    ("ارباب حلقه ها", "The Lord of the Rings", "جی آر آر تالکین", "J. R. R. Tolkien"),
    ("هابیت", "The Hobbit", "جی آر آر تالکین", "J. R. R. Tolkien"),
    ("دنیای سوفی", "Sophie's World", "یوستین گردر", "Jostein Gaarder"),
    ("وقتی نیچه گریست", "When Nietzsche Wept", "اروین یالوم", "Irvin Yalom"),
    ("مدیر مدرسه", "The School Principal", "جلال آل احمد", "Jalal Al-e Ahmad"),
    ("زنان کوچک", "Little Women", "لوییزا می الکات", "Louisa May Alcott"),
    ("جزء از کل", "Part of the Whole", "استیو تولتز", "Steve Toltz"),
    ("خوشه‌های خشم", "The Grapes of Wrath", "جان اشتاین بک", "John Steinbeck"),
    ("موش‌ها و آدم‌ها", "Of Mice and Men", "جان اشتاین بک", "John Steinbeck"),
    ("دختری در قطار", "The Girl on the Train", "پائولا هاوکینز", "Paula Hawkins"),
    ("بلندی‌های بادگیر", "Wuthering Heights", "امیلی برونته", "Emily Bronte"),
    ("جین ایر", "Jane Eyre", "شارلوت برونته", "Charlotte Bronte"),
    ("آناکارنینا", "Anna Karenina", "لئو تولستوی", "Leo Tolstoy"),
    ("جنگ و صلح", "War and Peace", "لئو تولستوی", "Leo Tolstoy"),
    ("مرشد و مارگریتا", "The Master and Margarita", "میخائیل بولگاکف", "Mikhail Bulgakov"),
    ("نام گل سرخ", "The Name of the Rose", "اومبرتو اکو", "Umberto Eco"),
    ("شدن", "Becoming", "میشل اوباما", "Michelle Obama"),
]
# Books the shop does NOT have (asked about: the honest "we don't have it")
MISSING_BOOKS = [
    ("کافه پیانو", "Cafe Piano"), ("دالان بهشت", "Dalan-e Behesht"), ("مردی به نام اوه", "A Man Called Ove"),
    ("سینوهه", "Sinuhe the Egyptian"), ("بیشعوری ۲", "Asshole 2"), ("تنهایی پر هیاهو", "Too Loud a Solitude"),
    ("دون کیشوت", "Don Quixote"), ("گتسبی بزرگ", "The Great Gatsby"), ("فرانکنشتاین", "Frankenstein"),
    ("ذهن آگاه", "The Mindful Mind"), ("خداحافظ گاری کوپر", "Goodbye Gary Cooper"), ("اولیس", "Ulysses"),
]  # fmt: skip

PHONES = [("iPhone 12", "آیفون 12"), ("iPhone 13", "آیفون 13"), ("iPhone 14", "آیفون 14"), ("Galaxy A14", "گلکسی A14"),
          ("Galaxy A34", "گلکسی A34"), ("Galaxy A54", "گلکسی A54"), ("Galaxy S23", "گلکسی S23"),
          ("Redmi Note 12", "ردمی نوت 12"), ("Redmi Note 13", "ردمی نوت 13"), ("Poco X5", "پوکو X5")]  # fmt: skip
MISSING_PHONES = [("iPhone 15", "آیفون 15"), ("Galaxy S24", "گلکسی S24"), ("Nokia G21", "نوکیا G21"),
                  ("Galaxy A24", "گلکسی A24"), ("Redmi Note 11", "ردمی نوت 11")]  # fmt: skip
ACCESSORIES = [  # en, fa, price
    ("Samsung 25W Charger", "شارژر سامسونگ 25 وات", 690000),
    ("Samsung 45W Charger", "شارژر سامسونگ 45 وات", 1150000),
    ("Xiaomi 33W Charger", "شارژر شیائومی 33 وات", 540000),
    ("Xiaomi 67W Charger", "شارژر شیائومی 67 وات", 890000),
    ("Apple 20W Charger", "شارژر اپل 20 وات", 1490000),
    ("Anker 30W Charger", "شارژر انکر 30 وات", 1250000),
    ("Baseus 65W Charger", "شارژر باسئوس 65 وات", 1690000),
    ("USB-C to USB-C Cable 1m", "کابل تایپ سی به تایپ سی 1 متری", 180000),
    ("USB-C to USB-C Cable 2m", "کابل تایپ سی به تایپ سی 2 متری", 240000),
    ("USB-C to Lightning Cable", "کابل تایپ سی به لایتنینگ", 390000),
    ("Micro USB Cable", "کابل میکرو یو اس بی", 95000),
    ("Xiaomi Power Bank 10000mAh", "پاوربانک شیائومی 10000", 1350000),
    ("Xiaomi Power Bank 20000mAh", "پاوربانک شیائومی 20000", 1850000),
    ("Anker PowerCore 10000", "پاوربانک انکر 10000", 1990000),
    ("Baseus Power Bank 20000mAh", "پاوربانک باسئوس 20000", 1720000),
    ("Galaxy Buds FE", "هدفون گلکسی بادز FE", 4900000),
    ("Redmi Buds 4 Lite", "هندزفری ردمی بادز 4 لایت", 1250000),
    ("AirPods Pro 2", "ایرپادز پرو 2", 12900000),
    ("QCY T13 Earbuds", "هندزفری کیو سی وای T13", 890000),
    ("Car Phone Holder", "پایه نگهدارنده موبایل ماشین", 320000),
    ("SanDisk 64GB Memory Card", "کارت حافظه سن دیسک 64 گیگ", 280000),
    ("SanDisk 128GB Memory Card", "کارت حافظه سن دیسک 128 گیگ", 450000),
    ("Selfie Stick", "مونوپاد سلفی", 260000),
    ("Ring Light 26cm", "رینگ لایت 26 سانتی", 980000),
]
MISSING_ACCESSORIES = [("Apple Watch Strap", "بند اپل واچ"), ("Nokia Charger", "شارژر نوکیا"), ("Gaming Mouse", "موس گیمینگ"),
                       ("Huawei 40W Charger", "شارژر هواوی 40 وات"), ("JBL Speaker", "اسپیکر جی بی ال")]  # fmt: skip
COLOURS = [("Black", "مشکی"), ("Blue", "آبی"), ("Grey", "طوسی"), ("White", "سفید"), ("Green", "سبز"), ("Red", "قرمز")]
SIZES = ["S", "M", "L", "XL"]
CLOTHES = [  # en, fa, price, colours, sizes
    ("Classic Hoodie", "هودی کلاسیک", 890000, 3, True),
    ("Zip Hoodie", "هودی زیپدار", 990000, 2, True),
    ("Book Lover T-Shirt", "تیشرت کتابخوان", 390000, 3, True),
    ("Hafez T-Shirt", "تیشرت حافظ", 420000, 2, True),
    ("Canvas Tote Bag", "ساک پارچه ای", 250000, 3, False),
    ("Baseball Cap", "کلاه کپ", 280000, 3, False),
    ("Winter Beanie", "کلاه بافت زمستانی", 230000, 2, False),
    ("Reading Socks", "جوراب کتابخوانی", 120000, 2, False),
]
MISSING_CLOTHES = [
    ("Jeans", "شلوار جین"),
    ("Sneakers", "کفش اسپرت"),
    ("Leather Jacket", "کاپشن چرم"),
    ("Scarf", "شال گردن"),
]


def stock() -> tuple[str, str]:
    """(stock count, in stock yes/no): mostly counted, some only yes/no."""
    roll = R.random()
    if roll < 0.12:
        return "0", ""
    if roll < 0.25:
        return str(R.randint(1, 3)), ""
    if roll < 0.35:
        return "", R.choice(["yes", "no"])
    return str(R.randint(4, 60)), ""


def catalog() -> list[dict]:
    rows = []

    def add(**kw):
        s, yes = stock()
        base = {"sku": "", "parent_sku": "", "name_fa": "", "name_en": "", "price": "", "currency": "تومان",
                "stock": s, "in_stock": yes, "link": "", "description": "", "enabled": "yes", "size": "", "colour": ""}  # fmt: skip
        base.update(kw)
        if base["parent_sku"] == "" and kw.get("stock") == "":
            base["stock"], base["in_stock"] = "", ""
        rows.append(base)

    for i, (fa, en, afa, aen) in enumerate(BOOKS, start=1):
        sku = f"BK-{i:03d}"
        price = R.randrange(95, 690, 5) * 1000
        link = f"https://ketabobishtar.example/book/{sku.lower()}"
        if i % 6 == 0:  # hardcover and paperback
            add(sku=sku, name_fa=fa, name_en=en, description=f"{afa} / {aen}", link=link, stock="", price="")
            for fmt_en, fmt_fa, extra in (("Paperback", "شومیز", 0), ("Hardcover", "گالینگور", 120000)):
                add(sku=f"{sku}-{fmt_en[0]}", parent_sku=sku, name_fa=fa, name_en=en, price=str(price + extra),
                    format=f"{fmt_fa}" if False else fmt_en, link=link)  # fmt: skip
        else:
            add(sku=sku, name_fa=fa, name_en=en, price=str(price), description=f"{afa} / {aen}", link=link)
    n = 0
    for en, fa in PHONES:
        for kind_en, kind_fa, lo, hi in (("Case", "قاب", 180, 450), ("Screen Protector", "گلس", 90, 250)):
            n += 1
            sku = f"PH-{n:03d}"
            price = R.randrange(lo, hi, 10) * 1000
            link = f"https://ketabobishtar.example/mobile/{sku.lower()}"
            if kind_en == "Case":
                add(sku=sku, name_fa=f"{kind_fa} {fa}", name_en=f"{en} {kind_en}", link=link, stock="", price="")
                for c_en, _ in R.sample(COLOURS[:4], 3):
                    add(sku=f"{sku}-{c_en.upper()}", parent_sku=sku, name_fa=f"{kind_fa} {fa}",
                        name_en=f"{en} {kind_en}", price=str(price), colour=c_en, link=link)  # fmt: skip
            else:
                add(sku=sku, name_fa=f"{kind_fa} {fa}", name_en=f"{en} {kind_en}", price=str(price), link=link)
    for en, fa, price in ACCESSORIES:
        n += 1
        sku = f"AC-{n:03d}"
        add(
            sku=sku,
            name_fa=fa,
            name_en=en,
            price=str(price),
            link=f"https://ketabobishtar.example/mobile/{sku.lower()}",
        )
    for i, (en, fa, price, ncol, sized) in enumerate(CLOTHES, start=1):
        sku = f"CL-{i:02d}"
        link = f"https://ketabobishtar.example/wear/{sku.lower()}"
        add(sku=sku, name_fa=fa, name_en=en, link=link, stock="", price="")
        for c_en, c_fa in R.sample(COLOURS, ncol):
            for size in SIZES if sized else [""]:
                add(sku=f"{sku}-{c_en.upper()}{'-' + size if size else ''}", parent_sku=sku, name_fa=fa,
                    name_en=en, price=str(price + (40000 if size == "XL" else 0)), colour=c_fa, size=size, link=link)  # fmt: skip
    return rows


KB = [
    {"id": "shipping", "questions": ["How long does delivery take?", "ارسال چند روز طول می‌کشد؟"],
     "answer": "Tehran orders arrive in 1-2 working days; other cities in 3-5 by post. / سفارش‌های تهران ۱ تا ۲ روز کاری و شهرستان‌ها ۳ تا ۵ روز کاری با پست می‌رسند.", "lang": "en"},
    {"id": "returns", "questions": ["Can I return an item?", "می‌توانم کالا را پس بدهم؟"],
     "answer": "You can return an unused item within 7 days of delivery. / تا ۷ روز پس از تحویل، کالای استفاده‌نشده را پس می‌گیریم.", "lang": "en"},
    {"id": "hours", "questions": ["What are your opening hours?", "ساعت کاری فروشگاه چیست؟"],
     "answer": "Saturday to Wednesday 10:00-20:00, Thursday 10:00-14:00. / شنبه تا چهارشنبه ۱۰ تا ۲۰، پنجشنبه ۱۰ تا ۱۴.", "lang": "en"},
    {"id": "address", "questions": ["Where is your shop?", "آدرس فروشگاه کجاست؟"],
     "answer": "Enghelab Street, opposite Tehran University, No. 1240. / خیابان انقلاب، روبروی دانشگاه تهران، پلاک ۱۲۴۰.", "lang": "en"},
    {"id": "payment", "questions": ["How can I pay?", "چطور پرداخت کنم؟"],
     "answer": "Online by card through the site, or cash on delivery in Tehran. / پرداخت آنلاین با کارت در سایت، یا در تهران پرداخت در محل.", "lang": "en"},
    {"id": "shipping-cost", "questions": ["How much is shipping?", "هزینه ارسال چقدر است؟"],
     "answer": "Shipping is 60,000 Toman; free for orders over 1,500,000 Toman. / هزینهٔ ارسال ۶۰٬۰۰۰ تومان است و برای خرید بالای ۱٬۵۰۰٬۰۰۰ تومان رایگان.", "lang": "en"},
    {"id": "warranty", "questions": ["Do accessories have a warranty?", "لوازم جانبی گارانتی دارند؟"],
     "answer": "Chargers, power banks and earbuds have an 18-month warranty. / شارژر، پاوربانک و هندزفری ۱۸ ماه گارانتی دارند.", "lang": "en"},
    {"id": "gift-wrap", "questions": ["Do you gift wrap?", "کادوپیچ می‌کنید؟"],
     "answer": "Yes, gift wrapping is free; ask for it in the order notes. / بله، کادوپیچی رایگان است؛ در توضیحات سفارش بنویسید.", "lang": "en"},
]  # fmt: skip

TYPO = str.maketrans({"ی": "ي", "ک": "ك"})


def typo(text: str) -> str:
    """What a hurried thumb does: a dropped letter, two swapped, Arabic letters, no spaces."""
    roll = R.random()
    words = text.split()
    if roll < 0.15 and len(words) > 1:
        i = R.randrange(len(words))
        w = words[i]
        if len(w) > 4 and not any(ch.isdigit() for ch in w):
            j = R.randrange(1, len(w) - 1)
            words[i] = w[:j] + w[j + 1 :]
        return " ".join(words)
    if roll < 0.25:
        return text.translate(TYPO)
    if roll < 0.32:
        return text.lower()
    return text


FA_PRICE = ["{n} چنده؟", "قیمت {n} چقدره", "{n} دارین؟ چنده؟", "سلام، قیمت {n} رو میخواستم", "{n} قیمتش چنده",
            "ببخشید {n} چند؟", "{n} چقدر میشه؟", "قیمت {n}؟"]  # fmt: skip
FA_STOCK = ["{n} موجوده؟", "{n} دارین؟", "{n} رو دارید؟", "سلام {n} موجود دارید", "آیا {n} دارید؟",
            "{n} هنوز موجود هست؟", "میخوام {n} بخرم، موجوده؟"]  # fmt: skip
EN_PRICE = ["how much is {n}", "price of {n}?", "what does the {n} cost", "{n} price please", "hi, how much for {n}?",
            "whats the price on {n}"]  # fmt: skip
EN_STOCK = ["do you have {n}?", "is {n} in stock", "is the {n} available?", "got {n} in stock?", "any {n} left?",
            "do you sell {n}"]  # fmt: skip
FINGLISH = ["gheimate {n} chande?", "{n} darin?", "{n} mojoode?", "salam {n} chand?", "{n} darid? gheymatesh chande"]
OOD = ["what's the weather tomorrow", "هوا فردا چطوره", "can you recommend a good restaurant nearby",
       "بهترین دندانپزشک تهران کیه", "how do I fix my car's engine", "نتیجه بازی دیشب چی شد",
       "who won the world cup", "یه جوک بگو", "translate hello to french", "ساعت چنده"]  # fmt: skip
KB_QUESTIONS = [("shipping", "ارسال به شیراز چند روز طول میکشه؟"), ("shipping", "how many days for delivery to Isfahan"),
                ("returns", "اگه کتاب رو نخواستم میتونم پس بدم؟"), ("returns", "can I send something back if it doesn't fit"),
                ("hours", "تا ساعت چند بازین؟"), ("hours", "are you open on thursday afternoon"),
                ("address", "مغازتون کجاست"), ("address", "what's your address"),
                ("payment", "میشه در محل پرداخت کرد؟"), ("payment", "do you take card payment"),
                ("shipping-cost", "هزینه پست چقدره؟"), ("shipping-cost", "how much do you charge for shipping"),
                ("warranty", "شارژرها گارانتی دارن؟"), ("warranty", "is there a warranty on power banks"),
                ("gift-wrap", "میتونین کادو کنین؟"), ("gift-wrap", "can you wrap it as a gift")]  # fmt: skip


def short(name: str) -> str:
    """How customers shorten a product's name: a word or two dropped, sometimes."""
    words = name.split()
    if len(words) > 3 and R.random() < 0.4:
        cut = words[: R.choice([2, 3])]
        while len(cut) > 2 and cut[-1] in {"to", "of", "the", "and", "به", "و", "را", "با", "در"}:
            cut.pop()
        if cut[-1] in {"to", "of", "the", "and", "به", "و", "را", "با", "در"}:
            return name
        return " ".join(cut)
    return name


# How customers type some Persian names in Latin letters (the rest: the English name, as
# customers do for foreign titles and brands).
FINGLISH_NAMES = {
    "بوف کور": "boof koor", "شازده کوچولو": "shazde koochooloo", "سووشون": "soovashoon", "کلیدر": "kelidar",
    "جای خالی سلوچ": "jaye khali solooch", "ملت عشق": "mellat eshgh", "بیشعوری": "bishouri",
    "دیوان حافظ": "divane hafez", "گلستان سعدی": "golestan saadi", "شاهنامه": "shahname",
    "مثنوی معنوی": "masnavi manavi", "رباعیات خیام": "robaiate khayam", "سمفونی مردگان": "samfoni mordegan",
    "دا": "da", "مدیر مدرسه": "modire madrese", "کیمیاگر": "kimiagar", "بادبادک باز": "badbadak baz",
    "هودی کلاسیک": "hoodie classic", "هودی زیپدار": "hoodie zipdar", "تیشرت حافظ": "tishert hafez",
    "کلاه کپ": "kolah cap", "جوراب کتابخوانی": "jorab ketabkhuni",
}  # fmt: skip


def finglish(fa_name: str, en_name: str) -> str:
    latin = FINGLISH_NAMES.get(fa_name)
    return latin or en_name.lower()


def questions(rows: list[dict]) -> list[dict]:
    by_parent: dict[str, list[dict]] = {}
    for r in rows:
        if r["parent_sku"]:
            by_parent.setdefault(r["parent_sku"], []).append(r)
    tops = [r for r in rows if not r["parent_sku"]]
    out = []
    for r in tops:
        kids = by_parent.get(r["sku"], [])
        lang = R.choice(["fa", "fa", "en", "finglish"])
        fields = R.choice([["price"], ["stock"], ["price", "stock"]])
        gold = r["sku"]
        fa_name, en_name = short(r["name_fa"]), short(r["name_en"])
        if kids and R.random() < 0.6:
            kid = R.choice(kids)
            gold = kid["sku"]
            bits_fa = [b for b in (kid["colour"], kid["size"]) if b]
            colour_en = next((e for e, f in COLOURS if f == kid["colour"] or e == kid["colour"]), kid["colour"])
            bits_en = [b for b in (colour_en, kid["size"]) if b]
            if kid.get("format"):
                bits_fa, bits_en = (
                    [{"Paperback": "شومیز", "Hardcover": "گالینگور"}[kid["format"]]],
                    [kid["format"].lower()],
                )
            fa_name = f"{fa_name} {' '.join(bits_fa)}"
            en_name = f"{' '.join(bits_en[:1])} {en_name}" + (f" in {bits_en[1]}" if len(bits_en) > 1 else "")
        if lang == "fa":
            template = R.choice(FA_PRICE if "price" in fields else FA_STOCK)
            q = template.format(n=fa_name)
        elif lang == "en":
            template = R.choice(EN_PRICE if "price" in fields else EN_STOCK)
            q = template.format(n=en_name)
        else:
            q = R.choice(FINGLISH).format(n=finglish(fa_name, en_name))
        out.append({"query": typo(q), "gold": gold, "kind": "in_scope", "fields": fields})
    missing = [(fa, en) for fa, en in MISSING_BOOKS] + [(f"قاب {fa}", f"{en} case") for en, fa in MISSING_PHONES]
    missing += [(f"گلس {fa}", f"{en} screen protector") for en, fa in MISSING_PHONES]
    missing += [(fa, en) for en, fa in MISSING_ACCESSORIES] + [(fa, en) for en, fa in MISSING_CLOTHES]
    for fa, en in missing * 2:
        lang = R.choice(["fa", "en", "finglish"])
        if lang == "fa":
            q = R.choice(FA_PRICE + FA_STOCK).format(n=fa)
        elif lang == "en":
            q = R.choice(EN_PRICE + EN_STOCK).format(n=en.lower())
        else:
            q = R.choice(FINGLISH).format(n=en.lower())
        out.append({"query": typo(q), "gold": None, "kind": "id_oos", "fields": ["price"]})
    for gold, q in KB_QUESTIONS:
        out.append({"query": q, "gold": gold, "kind": "in_scope"})
    for q in OOD:
        out.append({"query": q, "gold": None, "kind": "ood_oos"})
    R.shuffle(out)
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = catalog()
    for r in rows:
        if r.get("format"):
            r["size"] = ""
    columns = ["sku", "parent_sku", "name_fa", "name_en", "price", "currency", "stock", "in_stock", "link",
               "description", "enabled", "size", "colour", "format"]  # fmt: skip
    with (OUT / "catalog.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    with (OUT / "kb.jsonl").open("w", encoding="utf-8") as f:
        for e in KB:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    qs = questions(rows)
    half = len(qs) // 2
    for name, part in (("dev.jsonl", qs[:half]), ("test.jsonl", qs[half:])):
        with (OUT / name).open("w", encoding="utf-8") as f:
            for q in part:
                f.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(f"{len(rows)} catalog rows, {len(qs)} questions ({half} dev) in {OUT}")


if __name__ == "__main__":
    main()
