"""Write the WooCommerce catalog evaluation set (tests/data/eval/shop_woo/): a stationery,
electronics and book shop's product export as WooCommerce writes it (about 300 rows: simple
products, variable products and their variations, a book in two editions both as variations and
as two products, cable lengths, notebook sizes, power-bank and memory capacities, clothing sizes,
out-of-stock items, Persian, English and mixed names), an 8-entry FAQ, and customers' questions.

The questions are the hard kinds of issue #35: a variant named by an attribute (size, length,
capacity, binding, colour), one the shop doesn't offer (XL where sizes stop at L, a capacity above
the largest), products and authors the shop doesn't carry, FAQ questions beside the catalog,
questions about something else entirely (a joke, the metro's hours), Persian and Arabic digits
and letters, Finglish. Deterministic (a fixed seed):

    .venv/bin/python scripts/make_woo_set.py

``dev.jsonl`` is for tuning; ``test.jsonl`` asks about *other* products (the catalog's groups are
split in two) with other draws of the wordings, to check that what was tuned holds.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "eval" / "shop_woo"
R = random.Random(3505)
SITE = "https://daftarokhodkar.example/product/"

COLUMNS = [
    "ID", "Type", "SKU", "Name", "Published", "Is featured?", "Visibility in catalog", "Short description",
    "Description", "Tax status", "In stock?", "Stock", "Backorders allowed?", "Sale price", "Regular price",
    "Categories", "Tags", "Images", "Parent", "Position", "Attribute 1 name", "Attribute 1 value(s)",
    "Attribute 1 visible", "Attribute 1 global", "Attribute 2 name", "Attribute 2 value(s)", "Attribute 2 visible",
    "Attribute 2 global",
]  # fmt: skip

# (name as the shop wrote it, Finglish a customer types, author fa, author en, category)
BOOKS = [
    ("سمفونی مردگان", "samfoniye mordegan", "عباس معروفی", "Abbas Maroufi"),
    ("کلیدر", "kelidar", "محمود دولت‌آبادی", "Mahmoud Dowlatabadi"),
    ("دایی جان ناپلئون", "daei jan napoleon", "ایرج پزشکزاد", "Iraj Pezeshkzad"),
    ("شب‌های روشن", "shabhaye roshan", "فئودور داستایفسکی", "Dostoevsky"),
    ("سه تفنگدار", "se tofangdar", "الکساندر دوما", "Alexandre Dumas"),
    ("خرمگس", "kharmagas", "اتل لیلیان وینیچ", "Ethel Voynich"),
    ("وداع با اسلحه", "veda ba aslahe", "ارنست همینگوی", "Ernest Hemingway"),
    ("مزرعه حیوانات", "mazrae heyvanat", "جورج اورول", "George Orwell"),
    ("کافه پیانو", "kafe piano", "فرهاد جعفری", "Farhad Jafari"),
    ("من او", "man o", "رضا امیرخانی", "Reza Amirkhani"),
    ("زوربای یونانی", "zorbaye yunani", "نیکوس کازانتزاکیس", "Nikos Kazantzakis"),
    ("جز از کل", "joz az kol", "استیو تولتز", "Steve Toltz"),
    ("شدن", "shodan", "میشل اوباما", "Michelle Obama"),
    ("سیذارتا", "siddhartha", "هرمان هسه", "Hermann Hesse"),
    ("گتسبی بزرگ", "gatsby bozorg", "اسکات فیتزجرالد", "F. Scott Fitzgerald"),
    ("آئورا", "aura", "کارلوس فوئنتس", "Carlos Fuentes"),
    ("ملت عشق", "mellat eshgh", "الیف شافاک", "Elif Shafak"),
    ("قلعه حیوانات", "ghale heyvanat", "جورج اورول", "George Orwell"),
    ("تنهایی پرهیاهو", "tanhaei por hayahoo", "بهومیل هرابال", "Bohumil Hrabal"),
    ("عقاید یک دلقک", "aghayede yek dalghak", "هاینریش بل", "Heinrich Boll"),
    ("مادام بواری", "madam bovari", "گوستاو فلوبر", "Gustave Flaubert"),
    ("بار هستی", "bare hasti", "میلان کوندرا", "Milan Kundera"),
    ("مرشد و مارگاریتا", "morshed va margarita", "میخائیل بولگاکف", "Mikhail Bulgakov"),
    ("نامه به کودکی که هرگز زاده نشد", "name be koodaki ke hargez zade nashod", "اوریانا فالاچی", "Oriana Fallaci"),
    ("پدر پولدار پدر بی پول", "pedar pooldar pedar bi pool", "رابرت کیوساکی", "Robert Kiyosaki"),
    ("قورباغه را قورت بده", "ghoorbaghe ra ghoort bede", "برایان تریسی", "Brian Tracy"),
    ("اثر مرکب", "asare morakkab", "دارن هاردی", "Darren Hardy"),
    ("کتابخانه نیمه شب", "ketabkhane nime shab", "مت هیگ", "Matt Haig"),
    ("هری پاتر و سنگ جادو", "harry potter va sange jadoo", "جی کی رولینگ", "J. K. Rowling"),
    ("ارباب حلقه ها", "arbabe halghe ha", "جی آر آر تالکین", "J. R. R. Tolkien"),
    ("دنیای سوفی", "donyaye sofi", "یوستین گردر", "Jostein Gaarder"),
    ("خداحافظ گاری کوپر", "khodahafez gary cooper", "رومن گاری", "Romain Gary"),
    ("شازده حمام", "shazde hammam", "پاپلی یزدی", "Papoli Yazdi"),
    ("هفت سنگ", "haft sang", "کیان صالحی", "Kian Salehi"),
    ("سنگ صبور", "sange saboor", "صادق چوبک", "Sadegh Chubak"),
    ("Atomic Habits", "atomic habits", "جیمز کلیر", "James Clear"),
    ("Sapiens", "sapiens", "یووال نوح هراری", "Yuval Noah Harari"),
    ("The Psychology of Money", "psychology of money", "مورگان هاوزل", "Morgan Housel"),
    ("Deep Work", "deep work", "کال نیوپورت", "Cal Newport"),
    ("Thinking, Fast and Slow", "thinking fast and slow", "دانیل کانمن", "Daniel Kahneman"),
    ("چشم‌هایش", "cheshmhayash", "بزرگ علوی", "Bozorg Alavi"),
    ("سووشون نوجوان", "suvashun nojavan", "سیمین دانشور", "Simin Daneshvar"),
    ("همسایه‌ها", "hamsayeha", "احمد محمود", "Ahmad Mahmoud"),
    ("مدیر مدرسه", "modire madrese", "جلال آل احمد", "Jalal Al-e Ahmad"),
    ("رازهای سرزمین من", "razhaye sarzamine man", "رضا براهنی", "Reza Baraheni"),
    ("شب هول", "shabe hol", "هرمز شهدادی", "Hormoz Shahdadi"),
    ("طوبا و معنای شب", "tooba va manaye shab", "شهرنوش پارسی‌پور", "Shahrnush Parsipur"),
    ("اتاق آبی", "otaghe abi", "سهراب سپهری", "Sohrab Sepehri"),
    ("هشت کتاب", "hasht ketab", "سهراب سپهری", "Sohrab Sepehri"),
    ("کوچه میم", "kooche mim", "ژاله ژیانی", "Zhaleh Zhiani"),
    ("بادبادک باز", "badbadak baz", "خالد حسینی", "Khaled Hosseini"),
    ("غرور و تعصب", "ghoroor va taasob", "جین آستن", "Jane Austen"),
    ("جین ایر", "jane eyre", "شارلوت برونته", "Charlotte Bronte"),
    ("بلندی‌های بادگیر", "bolandihaye badgir", "امیلی برونته", "Emily Bronte"),
    ("آنا کارنینا", "ana karenina", "لئو تولستوی", "Leo Tolstoy"),
    ("جنگ و صلح", "jang va solh", "لئو تولستوی", "Leo Tolstoy"),
    ("ابله", "ablah", "فئودور داستایفسکی", "Dostoevsky"),
    ("مسخ", "maskh", "فرانتس کافکا", "Franz Kafka"),
    ("بیگانه", "bigane", "آلبر کامو", "Albert Camus"),
    ("طاعون", "taoon", "آلبر کامو", "Albert Camus"),
    ("کوری", "koori", "ژوزه ساراماگو", "Jose Saramago"),
    ("عطر", "atr", "پاتریک زوسکیند", "Patrick Suskind"),
    ("پیرمرد و دریا", "pirmard va darya", "ارنست همینگوی", "Ernest Hemingway"),
    ("ناتور دشت", "natoore dasht", "جی دی سلینجر", "J. D. Salinger"),
    ("شازده کوچولو", "shazde koochooloo", "آنتوان دو سنت اگزوپری", "Saint-Exupery"),
    ("هنر شفاف اندیشیدن", "honare shafaf andishidan", "رولف دوبلی", "Rolf Dobelli"),
    ("انسان خردمند", "ensane kheradmand", "یووال نوح هراری", "Yuval Noah Harari"),
    ("هنر جنگ", "honare jang", "سون تزو", "Sun Tzu"),
    ("قدرت عادت", "ghodrate adat", "چارلز داهیگ", "Charles Duhigg"),
    ("چهار اثر از فلورانس اسکاول شین", "chahar asar", "فلورانس اسکاول شین", "Florence Scovel Shinn"),
    ("The Alchemist", "the alchemist english", "پائولو کوئیلو", "Paulo Coelho"),
    ("1984 (English)", "1984 english", "جورج اورول", "George Orwell"),
    ("The Midnight Library", "midnight library", "مت هیگ", "Matt Haig"),
    ("Ikigai", "ikigai", "هکتور گارسیا", "Hector Garcia"),
]
# Books in two editions: the first three as a variable product (Binding), the others as two
# simple products whose names differ only by the binding, as many shops list them.
EDITIONS = [
    ("بوف کور", "boofe koor", "صادق هدایت", "Sadegh Hedayat"),
    ("صد سال تنهایی", "sad sal tanhaei", "گابریل گارسیا مارکز", "Gabriel Garcia Marquez"),
    ("شاهنامه فردوسی", "shahname ferdowsi", "فردوسی", "Ferdowsi"),
    ("دیوان حافظ", "divane hafez", "حافظ", "Hafez"),
    ("جنایت و مکافات", "jenayat va mokafat", "فئودور داستایفسکی", "Dostoevsky"),
    ("بینوایان", "binavayan", "ویکتور هوگو", "Victor Hugo"),
]
BINDING = [("شومیز", "paperback", "jeld shomiz"), ("گالینگور", "hardcover", "jeld galingor")]
BINDING_ASKED = {"شومیز": ["شومیز", "جلد شومیز"], "گالینگور": ["گالینگور", "جلد سخت", "جلد گالینگور"]}

# Variable products: (name, Finglish, English words a customer uses, attribute, values, base price, step)
VARIABLE = [
    ("دفتر سیمی ۱۰۰ برگ پاپکو", "daftar simi papco", "papco spiral notebook", "سایز", ["A5", "B5", "A4"], 85000, 25000),
    ("دفتر کلاسوری کلیپس", "daftar kelasori clips", "clips binder notebook", "سایز", ["A5", "A4"], 140000, 40000),
    ("دفتر نقاشی کوییلو", "daftar naghashi quilo", "quilo sketchbook", "سایز", ["A5", "A4", "A3"], 95000, 35000),
    ("دفترچه یادداشت جلد چرمی", "daftarche yaddasht charmi", "leather notebook", "سایز", ["A6", "A5"], 120000, 30000),
    ("کابل شارژ USB-C انکر", "kabl type c anker", "anker usb-c cable", "طول", ["1 متر", "2 متر"], 260000, 90000),
    (
        "کابل لایتنینگ بیسوس",
        "kabl lightning baseus",
        "baseus lightning cable",
        "طول",
        ["1 متر", "2 متر"],
        210000,
        70000,
    ),
    ("کابل HDMI تسکو", "kabl hdmi tsco", "tsco hdmi cable", "طول", ["1.5 متر", "3 متر", "5 متر"], 180000, 60000),
    ("کابل میکرو USB شیائومی", "kabl micro usb xiaomi", "xiaomi micro usb cable", "طول", ["1 متر"], 90000, 0),
    (
        "کابل شبکه Cat6 دی-لینک",
        "kabl shabake dlink",
        "d-link cat6 cable",
        "طول",
        ["2 متر", "5 متر", "10 متر"],
        70000,
        45000,
    ),
    (
        "پاوربانک شیائومی",
        "powerbank xiaomi",
        "xiaomi power bank",
        "ظرفیت",
        ["10000 میلی‌آمپر", "20000 میلی‌آمپر"],
        1150000,
        650000,
    ),
    (
        "پاوربانک انکر PowerCore",
        "powerbank anker",
        "anker powercore power bank",
        "ظرفیت",
        ["10000 میلی‌آمپر", "20000 میلی‌آمپر", "26800 میلی‌آمپر"],
        1900000,
        700000,
    ),
    ("پاوربانک باسئوس", "powerbank baseus", "baseus power bank", "ظرفیت", ["10000 میلی‌آمپر"], 1250000, 0),
    (
        "فلش مموری سن دیسک",
        "flash sandisk",
        "sandisk flash drive",
        "ظرفیت",
        ["16GB", "32GB", "64GB", "128GB"],
        210000,
        120000,
    ),
    (
        "کارت حافظه سامسونگ EVO",
        "kart hafeze samsung",
        "samsung evo memory card",
        "ظرفیت",
        ["64GB", "128GB", "256GB"],
        390000,
        260000,
    ),
    ("تیشرت طرح حافظ", "tishert hafez", "hafez t-shirt", "سایز", ["S", "M", "L"], 420000, 0),
    ("تیشرت طرح مولانا", "tishert molana", "rumi t-shirt", "سایز", ["S", "M", "L", "XL"], 420000, 0),
    ("سویشرت کلاه دار سعدی", "swishert saadi", "saadi sweatshirt", "سایز", ["M", "L"], 760000, 0),
    ("کلاسور چرمی", "kelasor charmi", "leather binder", "سایز", ["A5", "B5", "A4"], 390000, 60000),
    (
        "هارد اکسترنال وسترن دیجیتال",
        "hard western digital",
        "wd external hard drive",
        "ظرفیت",
        ["1TB", "2TB"],
        3900000,
        1500000,
    ),
    ("کابل AUX بیسوس", "kabl aux baseus", "baseus aux cable", "طول", ["0.5 متر", "1 متر"], 95000, 25000),
    (
        "کابل USB-C به USB-C سامسونگ",
        "kabl type c samsung",
        "samsung usb-c to usb-c cable",
        "طول",
        ["1 متر", "1.5 متر", "3 متر"],
        290000,
        60000,
    ),
    (
        "سه راهی برق کاوه",
        "se rahi bargh kave",
        "kaveh power strip",
        "طول",
        ["1.5 متر", "3 متر", "5 متر"],
        310000,
        80000,
    ),
    ("دفتر مشق 40 برگ", "daftar mashgh 40", "40 sheet exercise book", "سایز", ["A5", "B5"], 18000, 7000),
    ("دفتر 4 خط پاپکو", "daftar 4 khat papco", "papco four line notebook", "سایز", ["A5", "B5", "A4"], 65000, 15000),
    (
        "فلش مموری کوئین تک",
        "flash queen tech",
        "queen tech flash drive",
        "ظرفیت",
        ["16GB", "32GB", "64GB"],
        150000,
        60000,
    ),
    (
        "پاوربانک انرجایزر",
        "powerbank energizer",
        "energizer power bank",
        "ظرفیت",
        ["10000 میلی‌آمپر", "20000 میلی‌آمپر"],
        1350000,
        500000,
    ),
    ("شلوار گرمکن", "shalvar garmkon", "sweatpants", "سایز", ["S", "M", "L", "XL"], 640000, 0),
    ("کلاه بافت", "kolah baft", "knit beanie", "رنگ", ["مشکی", "طوسی", "سفید"], 210000, 0),
    ("قاب گوشی چرمی", "ghab charmi", "leather phone case", "مدل", ["iPhone 14", "iPhone 15", "Galaxy S24"], 540000, 0),
    ("کیف دوشی پارچه‌ای", "kif dooshi", "tote bag", "رنگ", ["کرم", "مشکی", "سبز"], 280000, 0),
    ("هودی کتابخوان", "hoodie ketabkhan", "bookworm hoodie", "سایز", ["S", "M", "L", "XL"], 890000, 40000),
    ("جوراب طرح کتاب", "joorab ketab", "book socks", "سایز", ["M", "L"], 120000, 0),
    ("کوله پشتی لپ تاپ", "kole poshti laptop", "laptop backpack", "رنگ", ["مشکی", "طوسی", "سرمه‌ای"], 1650000, 0),
    ("ماگ حرارتی", "mag harareti", "heat mug", "رنگ", ["سفید", "مشکی"], 340000, 0),
    ("جامدادی پارچه‌ای", "jamedadi parche", "fabric pencil case", "رنگ", ["آبی", "صورتی", "سبز", "مشکی"], 150000, 0),
    (
        "قاب گوشی سیلیکونی",
        "ghab silikoni",
        "silicone phone case",
        "مدل",
        ["iPhone 13", "iPhone 14", "Galaxy A54", "Galaxy S23"],
        290000,
        0,
    ),
    (
        "گلس گوشی سرامیکی",
        "gelas serameki",
        "ceramic screen protector",
        "مدل",
        ["iPhone 13", "iPhone 14", "Galaxy A34", "Redmi Note 12"],
        160000,
        0,
    ),
]
ENGLISH_VALUE = {"کرم": "beige", "مشکی": "black", "طوسی": "grey", "سرمه‌ای": "navy", "سفید": "white", "آبی": "blue",
                 "صورتی": "pink", "سبز": "green"}  # fmt: skip
# Values customers ask for, smallest first: what lies beyond the largest offered isn't carried.
LADDERS = [["A6", "A5", "B5", "A4", "A3", "A2"], ["S", "M", "L", "XL", "XXL"],
           ["0.5 متر", "1 متر", "1.5 متر", "2 متر", "3 متر", "5 متر", "10 متر", "15 متر"],
           ["10000 میلی‌آمپر", "20000 میلی‌آمپر", "26800 میلی‌آمپر", "30000 میلی‌آمپر", "40000 میلی‌آمپر"],
           ["16GB", "32GB", "64GB", "128GB", "256GB", "512GB", "1TB", "2TB", "4TB"],
]  # fmt: skip
OTHER_VALUES = {"رنگ": ["قرمز", "زرد"], "مدل": ["iPhone 16", "Galaxy A24", "Pixel 8"]}


def english(name: str, fin: str, en: str) -> str:
    """What an English question calls a product: its English words when the shop named it in
    English, else its name in Latin letters (nobody guesses a translation of a Persian name)."""
    return en if name.isascii() else fin


def not_offered(attr: str, values: list[str]) -> list[str]:
    """Values of this attribute the product doesn't have: beyond its largest, or not made."""
    for ladder in LADDERS:
        if values[-1] in ladder:
            return ladder[ladder.index(values[-1]) + 1 :]
    return [v for v in OTHER_VALUES.get(attr, []) if v not in values]


# Simple products: (name, Finglish, English words, price)
SIMPLE = [
    ("شارژر دیواری انکر 20 وات", "sharjer anker 20 vat", "anker 20w charger", 690000),
    ("شارژر دیواری سامسونگ 25 وات", "sharjer samsung 25 vat", "samsung 25w charger", 780000),
    ("شارژر شیائومی 33 وات", "sharjer xiaomi 33 vat", "xiaomi 33w charger", 520000),
    ("شارژر لپ تاپ 65 وات باسئوس", "sharjer laptop baseus 65", "baseus 65w laptop charger", 1450000),
    ("هندزفری بلوتوث ردمی Buds 4", "redmi buds 4", "redmi buds 4 earbuds", 1350000),
    ("ایرپاد پرو اپل", "airpods pro", "apple airpods pro", 9800000),
    ("هدفون سونی WH-CH520", "sony wh-ch520", "sony wh-ch520 headphones", 3200000),
    ("اسپیکر بلوتوث JBL Go 3", "jbl go 3", "jbl go 3 speaker", 2100000),
    ("ماوس بی سیم لاجیتک M185", "mouse logitech m185", "logitech m185 wireless mouse", 540000),
    ("کیبورد بی سیم لاجیتک K380", "keyboard logitech k380", "logitech k380 keyboard", 1850000),
    ("هاب USB-C اوریکو", "hub orico", "orico usb-c hub", 980000),
    ("پایه نگهدارنده گوشی", "paye gooshi", "phone stand", 190000),
    ("ماشین حساب کاسیو fx-991", "mashin hesab casio", "casio fx-991 calculator", 1600000),
    ("خودکار بیک آبی", "khodkar bic abi", "bic blue pen", 15000),
    ("خودکار بیک مشکی", "khodkar bic meshki", "bic black pen", 15000),
    ("روان نویس یونی بال", "ravan nevis uniball", "uni-ball rollerball pen", 85000),
    ("مداد مشکی استدلر", "medad staedtler", "staedtler pencil", 25000),
    ("مداد رنگی 12 رنگ فابر کاستل", "medad rangi faber castell 12", "faber-castell 12 colour pencils", 310000),
    ("مداد رنگی 24 رنگ فابر کاستل", "medad rangi faber castell 24", "faber-castell 24 colour pencils", 560000),
    ("پاک کن پلیکان", "pak kon pelikan", "pelikan eraser", 18000),
    ("تراش رومیزی", "tarash roomizi", "desk sharpener", 140000),
    ("ماژیک وایت برد", "mazhik white board", "whiteboard marker", 45000),
    ("ماژیک هایلایت استابیلو", "highlighter stabilo", "stabilo highlighter", 55000),
    ("چسب مایع آریا", "chasb mayee", "liquid glue", 30000),
    ("قیچی اداری", "gheychi edari", "office scissors", 95000),
    ("منگنه کانگرو", "mangane kangaro", "kangaro stapler", 230000),
    ("سوزن منگنه 24/6", "sozan mangane", "staples 24/6", 35000),
    ("کاغذ A4 کپی مکس 500 برگ", "kaghaz a4 copimax", "copimax a4 paper 500 sheets", 420000),
    ("پوشه دکمه دار", "pooshe dokme dar", "button folder", 25000),
    ("خط کش 30 سانتی", "khat kesh 30", "30 cm ruler", 40000),
    ("چراغ مطالعه LED", "cheragh motale", "led desk lamp", 1150000),
    ("استیکر کتاب طرح حافظ", "sticker hafez", "hafez stickers", 60000),
    ("بوکمارک چرمی", "bookmark charmi", "leather bookmark", 75000),
    ("تقویم رومیزی 1404", "taghvim roomizi 1404", "1404 desk calendar", 180000),
    ("پلنر هفتگی", "planner haftegi", "weekly planner", 260000),
    ("کتاب صوتی فلش بوف کور", "ketab soti", "audio book flash", 350000),
    ("کیف لپ تاپ 15 اینچ", "kif laptop 15", "15 inch laptop bag", 950000),
    ("کیف لپ تاپ 13 اینچ", "kif laptop 13", "13 inch laptop bag", 870000),
    ("هندزفری سیمی سامسونگ", "handsfree samsung", "samsung wired earphones", 320000),
    ("شارژر فندکی باسئوس", "sharjer fandaki baseus", "baseus car charger", 480000),
    ("هولدر گوشی ماشین", "holder mashin", "car phone holder", 260000),
    ("کاغذ یادداشت چسب دار", "post it", "sticky notes", 45000),
    ("مدادتراش برقی", "tarash barghi", "electric sharpener", 690000),
    ("گونیا 45 درجه", "gonia 45", "45 degree set square", 35000),
    ("پرگار ریتم", "pargar", "compass rotring", 210000),
    ("دفتر برنامه ریزی کنکور", "daftar barname rizi", "study planner", 150000),
    ("جعبه هدیه کتاب", "jabe hedye", "book gift box", 90000),
    ("کاور کتاب شفاف", "kaver ketab", "clear book cover", 20000),
    ("مداد نوکی 0.5 روترینگ", "medad noki rotring 0.5", "rotring 0.5 mechanical pencil", 380000),
    ("مداد نوکی 0.7 روترینگ", "medad noki rotring 0.7", "rotring 0.7 mechanical pencil", 380000),
    ("نوک مداد نوکی 0.5", "nok medad 0.5", "0.5 pencil leads", 30000),
    ("ماوس پد", "mouse pad", "mouse pad", 120000),
]
# Not carried: (fa, Finglish, en)
MISSING = [
    ("پاوربانک سامسونگ", "powerbank samsung", "samsung power bank"),
    ("شارژر اپل 35 وات", "sharjer apple 35", "apple 35w charger"),
    ("هدفون بیتس استودیو", "beats studio", "beats studio headphones"),
    ("اسپیکر JBL Flip 6", "jbl flip 6", "jbl flip 6 speaker"),
    ("ماوس گیمینگ ریزر", "mouse razer", "razer gaming mouse"),
    ("ماشین حساب کاسیو fx-82", "casio fx-82", "casio fx-82 calculator"),
    ("کابل VGA", "kabl vga", "vga cable"),
    ("فلش مموری کینگستون", "flash kingston", "kingston flash drive"),
    ("کیف پول چرمی", "kif pool charmi", "leather wallet"),
    ("دفتر 200 برگ سیمی", "daftar 200 barg", "200 sheet notebook"),
    ("مداد رنگی 48 رنگ", "medad rangi 48", "48 colour pencils"),
    ("خودکار پارکر", "khodkar parker", "parker pen"),
    ("کتاب کیمیاگر", "kimiagar", "the alchemist book"),
    ("کتاب بیشعوری", "bishoori", "asshole book"),
    ("کتاب سووشون", "suvashun", "savushun"),
    ("کتاب ۱۹۸۴", "1984", "1984 novel"),
    ("ساعت هوشمند شیائومی", "saat hooshmand xiaomi", "xiaomi smart watch"),
    ("تبلت سامسونگ", "tablet samsung", "samsung tablet"),
]
MISSING_AUTHORS = [("هاروکی موراکامی", "haruki murakami"), ("پائولو کوئیلو", "paulo coelho"),
                   ("صادق چوبک", None), ("احمد شاملو", "ahmad shamloo"), ("فروغ فرخزاد", "forough farrokhzad"),
                   ("یووال نوح هراری", None), ("agatha christie", "agatha christie")]  # fmt: skip

KB = [
    {"id": "shipping", "questions": ["ارسال سفارش چند روز طول می‌کشد؟"],
     "answer": "سفارش‌های تهران ۱ تا ۲ روز کاری و شهرستان‌ها ۳ تا ۵ روز کاری با پست پیشتاز می‌رسند.", "lang": "fa"},
    {"id": "shipping-cost", "questions": ["هزینه ارسال چقدر است؟"],
     "answer": "هزینهٔ ارسال ۵۵٬۰۰۰ تومان است و برای خرید بالای ۹۰۰٬۰۰۰ تومان رایگان است.", "lang": "fa"},
    {"id": "returns", "questions": ["می‌توانم کالا را پس بدهم یا عوض کنم؟"],
     "answer": "تا ۷ روز پس از تحویل، کالای استفاده‌نشده را با جعبهٔ سالم پس می‌گیریم یا عوض می‌کنیم.", "lang": "fa"},
    {"id": "payment", "questions": ["چطور می‌توانم پرداخت کنم؟"],
     "answer": "پرداخت آنلاین با همهٔ کارت‌های بانکی در سایت؛ در تهران پرداخت در محل هم داریم.", "lang": "fa"},
    {"id": "hours", "questions": ["ساعت کاری فروشگاه چیست؟"],
     "answer": "فروشگاه شنبه تا چهارشنبه ۱۰ تا ۲۰ و پنجشنبه ۱۰ تا ۱۵ باز است؛ جمعه‌ها تعطیل.", "lang": "fa"},
    {"id": "address", "questions": ["آدرس فروشگاه کجاست؟"],
     "answer": "تهران، خیابان انقلاب، بازارچهٔ کتاب، پلاک ۴۲.", "lang": "fa"},
    {"id": "gift-wrap", "questions": ["کادوپیچ هم انجام می‌دهید؟"],
     "answer": "بله، کادوپیچی رایگان است؛ در توضیحات سفارش بنویسید.", "lang": "fa"},
    {"id": "warranty", "questions": ["محصولات گارانتی دارند؟"],
     "answer": "شارژر، پاوربانک، هدفون و اسپیکرها ۱۸ ماه گارانتی شرکتی دارند.", "lang": "fa"},
]  # fmt: skip
KB_QUESTIONS = [
    ("shipping", "سفارشم کی میرسه؟"), ("shipping", "ارسال به شیراز چند روزه؟"),
    ("shipping", "how long does delivery take"), ("shipping", "ersal chand rooz tool mikeshe?"),
    ("shipping-cost", "هزینه پست چنده؟"), ("shipping-cost", "is shipping free?"),
    ("shipping-cost", "hazine ersal chande"), ("shipping-cost", "ارسال رایگان دارید؟"),
    ("returns", "اگه خوشم نیومد میتونم پس بدم؟"), ("returns", "can I return a notebook?"),
    ("returns", "سایزش اندازه نبود عوض میکنید؟"), ("returns", "mishe pas bedam?"),
    ("payment", "پرداخت در محل دارین؟"), ("payment", "can I pay by card?"),
    ("payment", "chejuri pardakht konam"), ("payment", "با کارت میشه پرداخت کرد؟"),
    ("hours", "تا ساعت چند بازین؟"), ("hours", "are you open on friday"),
    ("hours", "saat kari shoma chie"), ("hours", "پنجشنبه ها بازید؟"),
    ("address", "مغازتون کجاست؟"), ("address", "where is your shop"),
    ("address", "adres forushgah koja hast"), ("address", "حضوری کجا بیام؟"),
    ("gift-wrap", "میشه کادو بپیچید؟"), ("gift-wrap", "do you gift wrap books?"),
    ("gift-wrap", "kadopich darid?"), ("gift-wrap", "برای تولد دوستم میخوام کادو شده بفرستید"),
    ("warranty", "پاوربانک ها گارانتی دارن؟"), ("warranty", "do headphones have a warranty?"),
    ("warranty", "garanti darid?"), ("warranty", "اگه شارژر خراب شد گارانتی داره؟"),
]  # fmt: skip
OOD = [
    "یه جوک بگو", "tell me a joke", "ساعت کاری مترو تهران تا چنده؟", "what time does the tehran metro close",
    "هوای فردا تهران چطوره؟", "who won the football match yesterday", "بهترین رستوران ونک کجاست؟",
    "دستور پخت قرمه سبزی", "what's the capital of australia", "ساعت کاری بانک ملت چنده", "translate hello to french",
    "بلیط هواپیما مشهد دارین؟", "can you recommend a good dentist", "قیمت دلار امروز چنده؟",
    "شعر بگو برام", "how do I fix my car's brakes", "ساعت کاری اداره پست", "do you sell cars?",
    "بیمه ماشین میفروشید؟", "چطوری ویزای کانادا بگیرم",
]  # fmt: skip

FA_PRICE = ["{n} چنده؟", "قیمت {n} چقدره؟", "سلام {n} قیمتش چنده", "{n} چند؟", "قیمت {n}"]
FA_STOCK = ["{n} دارین؟", "{n} موجوده؟", "{n} موجود دارید؟", "سلام، {n} دارید؟", "{n} هست؟"]
EN_PRICE = ["how much is the {n}?", "{n} price", "price of {n}?", "what does the {n} cost"]
EN_STOCK = ["do you have the {n}?", "is the {n} in stock?", "{n} available?", "got {n}?"]
FINGLISH = ["{n} darin?", "gheymate {n} chande?", "{n} mojoode?", "salam {n} darid?", "{n} chande"]
TYPO = str.maketrans({"ی": "ي", "ک": "ك"})
FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
AR_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def stock() -> tuple[str, str]:
    """(In stock?, Stock) as WooCommerce writes them: counted mostly, some out of stock."""
    roll = R.random()
    if roll < 0.12:
        return "0", "0"
    if roll < 0.22:
        return "1", str(R.randint(1, 3))
    if roll < 0.3:
        return "1", ""
    return "1", str(R.randint(4, 80))


def short_fa(name: str) -> str:
    """How a customer shortens a product's name: the words before the brand or model."""
    words = name.split()
    return " ".join(words[: R.choice([2, 3])]) if len(words) > 3 else name


def script_variant(text: str) -> str:
    """Arabic letters, or Persian / Arabic digits, as some keyboards and phones type them."""
    roll = R.random()
    if roll < 0.25:
        return text.translate(TYPO)
    if roll < 0.4:
        return text.translate(FA_DIGITS)
    if roll < 0.5:
        return text.translate(AR_DIGITS).translate(TYPO)
    return text


class Shop:
    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []
        self.next_id = 1000
        self.groups: list[dict] = []  # per product: what questions can ask

    def row(self, **kw: str) -> dict[str, str]:
        self.next_id += 1
        base = {c: "" for c in COLUMNS}
        base.update({"ID": str(self.next_id), "Published": "1", "Is featured?": "0",
                     "Visibility in catalog": "visible", "Tax status": "taxable", "Backorders allowed?": "0"})  # fmt: skip
        base.update(kw)
        self.rows.append(base)
        return base

    def simple(self, sku: str, name: str, price: int, cat: str, desc: str = "") -> dict[str, str]:
        instock, count = stock()
        sale = str(price - price // 10) if R.random() < 0.1 else ""
        return self.row(Type="simple", SKU=sku, Name=name, **{
            "Regular price": str(price), "Sale price": sale, "In stock?": instock, "Stock": count,
            "Categories": cat, "Short description": desc, "Description": f"<p>{desc or name}</p>",
            "Images": f"{SITE}{sku.lower()}.jpg"})  # fmt: skip

    def variable(self, sku: str, name: str, cat: str, attr: str, values: list[tuple[str, int]], desc: str = "") -> list:
        parent = self.row(Type="variable", SKU=sku, Name=name, **{
            "Categories": cat, "Short description": desc, "Description": f"<p>{desc or name}</p>",
            "Attribute 1 name": attr, "Attribute 1 value(s)": ", ".join(v for v, _ in values),
            "Attribute 1 visible": "1", "Attribute 1 global": "1"})  # fmt: skip
        kids = []
        for n, (value, price) in enumerate(values, start=1):
            instock, count = stock()
            kids.append(self.row(Type="variation", SKU=f"{sku}-{n}", Name=f"{name} - {value}", **{
                "Regular price": str(price), "In stock?": instock, "Stock": count, "Parent": f"id:{parent['ID']}",
                "Position": str(n), "Attribute 1 name": attr, "Attribute 1 value(s)": value,
                "Attribute 1 global": "1"}))  # fmt: skip
        return kids


def build() -> tuple[Shop, list[dict]]:
    shop = Shop()
    questions: list[tuple[int, dict]] = []  # (group number, question): the split is by group
    group = 0

    def ask(q: str, gold: str | None, fields: list[str] | None, kind: str = "in_scope") -> None:
        item: dict = {"query": script_variant(q), "gold": gold, "kind": kind}
        if fields is not None:
            item["fields"] = fields
        questions.append((group, item))

    def product_question(fa: str, fin: str, en: str, gold: str, n: int = 2) -> None:
        for lang in R.sample(["fa", "fa", "en", "finglish"], n):
            fields = R.choice([["price"], ["stock"], ["price", "stock"]])
            if lang == "fa":
                q = R.choice(FA_PRICE if "price" in fields else FA_STOCK).format(n=fa)
            elif lang == "en":
                q = R.choice(EN_PRICE if "price" in fields else EN_STOCK).format(n=en)
            else:
                q = R.choice(FINGLISH).format(n=fin)
            ask(q, gold, fields)

    for i, (name, fin, afa, aen) in enumerate(BOOKS, start=1):
        group += 1
        sku = f"BOOK-{i:03d}"
        shop.simple(sku, name, R.randrange(120, 790, 5) * 1000, "کتاب > رمان", f"{afa} / {aen}")
        product_question(f"کتاب {name}" if R.random() < 0.4 else name, fin, name if name.isascii() else fin, sku, 1)
    for i, (name, fin, afa, aen) in enumerate(EDITIONS, start=1):
        group += 1
        sku = f"ED-{i:02d}"
        price = R.randrange(180, 650, 5) * 1000
        if i <= 3:
            kids = shop.variable(sku, name, "کتاب > کلاسیک", "نوع جلد", [("شومیز", price), ("گالینگور", price + 220000)],
                                 f"{afa} / {aen}")  # fmt: skip
            skus = [k["SKU"] for k in kids]
        else:
            skus = []
            for b_fa, _, _ in BINDING:
                extra = 220000 if b_fa == "گالینگور" else 0
                row = shop.simple(f"{sku}-{'H' if extra else 'P'}", f"{name} (جلد {b_fa})", price + extra,
                                  "کتاب > کلاسیک", f"{afa} / {aen}")  # fmt: skip
                skus.append(row["SKU"])
        for (b_fa, b_en, b_fin), s in zip(BINDING, skus, strict=True):
            asked = R.choice(BINDING_ASKED[b_fa])
            ask(R.choice(["{n} {b} چنده؟", "{n} {b} دارین؟", "قیمت {n} {b}"]).format(n=name, b=asked), s, ["price"])
            ask(R.choice(["{b} {n} price?", "do you have the {b} edition of {n}?"]).format(b=b_en, n=fin), s, ["price"])
            if R.random() < 0.5:
                ask(f"{fin} {b_fin} darin?", s, ["stock"])
    for i, (name, fin, en, attr, values, base, step) in enumerate(VARIABLE, start=1):
        group += 1
        sku = f"VAR-{i:02d}"
        en = english(name, fin, en)
        priced = [(v, base + step * n) for n, v in enumerate(values)]
        kids = shop.variable(sku, name, "لوازم", attr, priced)
        product_question(short_fa(name), fin, en, sku, 1)
        for kid, value in R.sample(list(zip(kids, values, strict=True)), min(2, len(values))):
            v_fa = value.replace(" میلی‌آمپر", "")
            v_en = ENGLISH_VALUE.get(value, value.replace(" متر", "m").replace(" میلی‌آمپر", "mAh"))
            if attr == "ظرفیت" and v_fa.isdigit() and R.random() < 0.5:
                v_fa = f"{int(v_fa) // 1000} هزار"
            if attr == "طول" and R.random() < 0.5:
                v_fa = v_fa.replace(" متر", " متری")
            fa_q = R.choice([f"{short_fa(name)} {v_fa}", f"{short_fa(name)} {attr} {v_fa}"])
            ask(R.choice(FA_PRICE + FA_STOCK).format(n=fa_q), kid["SKU"], ["price"])
            if R.random() < 0.6:
                ask(R.choice(EN_PRICE + EN_STOCK).format(n=f"{en} {v_en}"), kid["SKU"], ["price"])
            else:
                ask(R.choice(FINGLISH).format(n=f"{fin} {v_en}"), kid["SKU"], ["price"])
        # a value the product doesn't have
        beyond = not_offered(attr, values)
        for b in R.sample(beyond, min(2, len(beyond))):
            b_fa = b.replace(" میلی‌آمپر", "")
            if attr == "ظرفیت" and b_fa.isdigit():
                b_fa = f"{int(b_fa) // 1000} هزار"
            b_en = ENGLISH_VALUE.get(b, b.replace(" متر", "m").replace(" میلی‌آمپر", "mAh"))
            if R.random() < 0.6:
                ask(R.choice(FA_PRICE + FA_STOCK).format(n=f"{short_fa(name)} {b_fa}"), None, ["price"], "id_oos")
            else:
                ask(R.choice(EN_PRICE + EN_STOCK).format(n=f"{en} {b_en}"), None, ["price"], "id_oos")
    for i, (name, fin, en, price) in enumerate(SIMPLE, start=1):
        group += 1
        sku = f"ITEM-{i:03d}"
        en = english(name, fin, en)
        shop.simple(sku, name, price, "لوازم")
        product_question(name if R.random() < 0.5 else short_fa(name), fin, en, sku, 1)
    for fa, fin, en in MISSING:
        group += 1
        lang = R.choice(["fa", "fa", "en", "finglish"])
        template = {"fa": FA_PRICE + FA_STOCK, "en": EN_PRICE + EN_STOCK, "finglish": FINGLISH}[lang]
        ask(R.choice(template).format(n={"fa": fa, "en": en, "finglish": fin}[lang]), None, ["price"], "id_oos")
    for fa, fin in MISSING_AUTHORS:
        group += 1
        if fin is None or R.random() < 0.6:
            q = R.choice(["کتابای {a} رو دارین؟", "از {a} چی دارین؟", "{a} دارید؟"]).format(a=fa)
        else:
            q = R.choice(["do you have books by {a}?", "{a} ketab darin?"]).format(a=fin)
        ask(q, None, ["price"], "id_oos")
    for gold, q in KB_QUESTIONS:
        group += 1
        ask(q, gold, None)
    for q in OOD:
        group += 1
        ask(q, None, None, "ood_oos")
    # The split: every group's questions on one side (test asks about products dev never saw).
    order = list(range(1, group + 1))
    R.shuffle(order)
    dev_groups = set(order[::2])
    dev = [q for g, q in questions if g in dev_groups]
    test = [q for g, q in questions if g not in dev_groups]
    R.shuffle(dev)
    R.shuffle(test)
    return shop, [dev, test]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    shop, (dev, test) = build()
    with (OUT / "catalog.csv").open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(shop.rows)
    with (OUT / "kb.jsonl").open("w", encoding="utf-8") as f:
        for e in KB:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    for name, part in (("dev.jsonl", dev), ("test.jsonl", test)):
        with (OUT / name).open("w", encoding="utf-8") as f:
            for q in part:
                f.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(f"{len(shop.rows)} catalog rows, {len(dev)} dev and {len(test)} test questions in {OUT}")


if __name__ == "__main__":
    main()
