"""UI strings in Persian and English, and choosing between them.

Every key is written out in full where it is used (``t("nav.inbox")``), never built from parts,
so tests/test_i18n.py can check each one against ``STRINGS``. A value shown by its own label (a
conversation's status, a decision's kind, a setting) goes through ``LABELS``, the tables from
value to key. A string with a count has plural forms (``tn``). A missing translation falls back
to English with a warning in the log, a missing key to the key itself: never an error page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC
from typing import Any

log = logging.getLogger(__name__)

LANGUAGES = ("fa", "en")
DIRECTION = {"fa": "rtl", "en": "ltr"}

# A plural string: a form per CLDR category the language uses. English has "one" and "other";
# Persian keeps the noun singular after a number ("۵ روز"), so "other" alone.
Plural = dict[str, str]

STRINGS: dict[str, dict[str, Any]] = {
    "setup.title": {"fa": "راه‌اندازی پشتیبانی فروشگاه", "en": "Set up your support appliance"},
    "setup.intro": {
        "fa": "یک گذرواژه برای ورود به بخش مدیریت انتخاب کنید. این پیوند فقط یک بار کار می‌کند.",
        "en": "Choose a password for the admin. This link works only once.",
    },
    "setup.password": {"fa": "گذرواژه (دست‌کم ۱۰ نویسه)", "en": "Password (at least 10 characters)"},
    "setup.confirm": {"fa": "تکرار گذرواژه", "en": "Repeat the password"},
    "setup.submit": {"fa": "ذخیره گذرواژه", "en": "Save password"},
    "setup.done.title": {"fa": "گذرواژه ذخیره شد", "en": "Password saved"},
    "setup.done.body": {
        "fa": "حساب مدیر ساخته شد. از این پس با همین گذرواژه وارد بخش مدیریت شوید.",
        "en": "The owner account is ready. Use this password to sign in to the admin from now on.",
    },
    "setup.done.sign_in": {"fa": "ورود به بخش مدیریت", "en": "Sign in to the admin"},
    "setup.error.invalid": {
        "fa": "این پیوند راه‌اندازی معتبر نیست. پیوند تازه را از خروجی دستور appliance serve بردارید.",
        "en": "This setup link is not valid. Use the newest link printed by appliance serve.",
    },
    "setup.error.used": {
        "fa": "این پیوند قبلاً استفاده شده است. اگر گذرواژه را فراموش کرده‌اید از appliance reset-password استفاده کنید.",
        "en": "This setup link has already been used. Forgot the password? Run appliance reset-password.",
    },
    "setup.error.expired": {
        "fa": "این پیوند منقضی شده است. appliance serve را دوباره اجرا کنید تا پیوند تازه چاپ شود.",
        "en": "This setup link has expired. Restart appliance serve to print a new one.",
    },
    "setup.error.too_short": {
        "fa": "گذرواژه باید دست‌کم ۱۰ نویسه باشد.",
        "en": "The password must have at least 10 characters.",
    },
    "setup.error.too_long": {"fa": "گذرواژه بیش از حد بلند است.", "en": "The password is too long."},
    "setup.error.mismatch": {"fa": "دو گذرواژه یکسان نیستند.", "en": "The two passwords differ."},
    "setup.error.origin": {
        "fa": "درخواست از صفحه‌ای دیگر آمده و رد شد.",
        "en": "The request came from another site and was refused.",
    },
    "lang.switch": {"fa": "English", "en": "فارسی"},
    "lang.fa": {"fa": "فارسی", "en": "Persian"},
    "lang.en": {"fa": "انگلیسی", "en": "English"},
    # The admin
    "admin.title": {"fa": "مدیریت پشتیبانی", "en": "Support admin"},
    "nav.home": {"fa": "خانه", "en": "Home"},
    "nav.kb": {"fa": "پایگاه دانش", "en": "Knowledge base"},
    "nav.catalog": {"fa": "کالاها", "en": "Catalog"},
    "nav.triggers": {"fa": "پیام‌های آغازگر", "en": "Proactive messages"},
    "trig.intro": {
        "fa": "ابزارک گفتگو می‌تواند خودش گفتگو را شروع کند: پیامی کوتاه کنار دکمه‌ی گفتگو، در صفحه و زمانی که شما تعیین می‌کنید. به کسی که امروز یکی از این پیام‌ها را بسته، تا فردا پیامی نشان داده نمی‌شود.",
        "en": "The chat can speak first: a short message by the chat button, on the pages and at the moments you choose. A visitor who closes one sees none again that day.",
    },
    "trig.new": {"fa": "پیام آغازگر تازه", "en": "New proactive message"},
    "trig.edit": {"fa": "ویرایش پیام آغازگر", "en": "Edit proactive message"},
    "trig.none": {"fa": "هنوز پیام آغازگری نساخته‌اید.", "en": "You haven't made any proactive messages yet."},
    "trig.name": {"fa": "نام (فقط برای شما)", "en": "Name (for you only)"},
    "trig.message_fa": {"fa": "پیام به فارسی", "en": "Message in Persian"},
    "trig.message_en": {"fa": "پیام به انگلیسی", "en": "Message in English"},
    "trig.message_help": {
        "fa": "حداکثر ۳۰۰ نویسه. هر مشتری پیام را به زبان گفتگوی خودش می‌بیند؛ اگر خالی باشد، برای آن زبان نشان داده نمی‌شود.",
        "en": "At most 300 characters. Each visitor sees the message in their chat's language; left empty, it isn't shown in that language.",
    },
    "trig.where": {"fa": "کجا و کی", "en": "Where and when"},
    "trig.page": {"fa": "نشانی صفحه", "en": "Page address"},
    "trig.page_help": {
        "fa": "مسیر صفحه در سایت شما؛ * یعنی هر متنی و آنچه پس از ? می‌آید به حساب نمی‌آید مگر خودتان ? بنویسید. خالی: همه‌ی صفحه‌ها. مثلاً برای همه‌ی صفحه‌های کتاب:",
        "en": "The page's path on your site; * stands for any text, and what follows ? counts only if you write a ? yourself. Empty: every page. For every book page, for example:",
    },
    "trig.seconds": {"fa": "پس از چند ثانیه در صفحه", "en": "After this many seconds on the page"},
    "trig.scroll": {"fa": "پس از پیمایش این درصد از صفحه", "en": "After scrolling this far down the page (%)"},
    "trig.visitors": {"fa": "به چه کسانی", "en": "To whom"},
    "trig.visitors.all": {"fa": "همه", "en": "Everyone"},
    "trig.visitors.new": {"fa": "فقط بازدیدکننده‌های تازه", "en": "First-time visitors only"},
    "trig.visitors.returning": {"fa": "فقط بازدیدکننده‌هایی که برگشته‌اند", "en": "Returning visitors only"},
    "trig.lang": {"fa": "زبان گفتگو", "en": "Chat language"},
    "trig.lang.any": {"fa": "هر دو", "en": "Both"},
    "trig.hours": {"fa": "ساعت کاری", "en": "Business hours"},
    "trig.hours.any": {"fa": "هر زمان", "en": "Any time"},
    "trig.hours.open": {"fa": "فقط وقتی فروشگاه باز است", "en": "Only while the shop is open"},
    "trig.hours.closed": {"fa": "فقط وقتی فروشگاه بسته است", "en": "Only while the shop is closed"},
    "trig.every": {"fa": "به هر بازدیدکننده حداکثر", "en": "To each visitor at most"},
    "trig.every.1": {"fa": "روزی یک بار", "en": "once a day"},
    "trig.every.7": {"fa": "هفته‌ای یک بار", "en": "once a week"},
    "trig.every.30": {"fa": "ماهی یک بار", "en": "once a month"},
    "trig.every.0": {"fa": "فقط یک بار", "en": "only once"},
    "trig.script_name": {"fa": "نام برای اسکریپت سایت (اختیاری)", "en": "Name for your site's script (optional)"},
    "trig.script_help": {
        "fa": "اگر نامی بدهید، این پیام فقط وقتی نشان داده می‌شود که اسکریپت سایت شما آن را بخواهد (برای فروشگاه‌های تک‌صفحه‌ای، مثلاً در مرحله‌ی پرداخت):",
        "en": "With a name, this message is shown only when your site's own script asks for it (for single-page shops, e.g. at checkout):",
    },
    "trig.enabled": {"fa": "روشن", "en": "On"},
    "trig.save": {"fa": "ذخیره", "en": "Save"},
    "trig.turn_on": {"fa": "روشن کن", "en": "Turn on"},
    "trig.turn_off": {"fa": "خاموش کن", "en": "Turn off"},
    "trig.delete": {"fa": "حذف", "en": "Delete"},
    "trig.delete_confirm": {
        "fa": "این پیام آغازگر و آمارش حذف شود؟",
        "en": "Delete this proactive message and its figures?",
    },
    "trig.off": {"fa": "خاموش", "en": "off"},
    "trig.figures": {"fa": "در {n} روز گذشته", "en": "In the last {n} days"},
    "trig.figures_def": {
        "fa": "نمایش: چند بار کنار دکمه آمد؛ باز شد: مشتری با آن گفتگو را باز کرد؛ پاسخ: مشتری چیزی نوشت؛ پاسخ ربات / ارجاع: نخستین تصمیم ربات در آن گفتگو.",
        "en": "Shown: times it appeared by the button; opened: the visitor opened the chat from it; replied: they wrote something; answered / handed over: the bot's first decision in that conversation.",
    },
    "trig.shown": {"fa": "نمایش", "en": "Shown"},
    "trig.opened": {"fa": "باز شد", "en": "Opened"},
    "trig.closed": {"fa": "بسته شد", "en": "Closed"},
    "trig.replied": {"fa": "پاسخ مشتری", "en": "Replied"},
    "trig.answered": {"fa": "پاسخ ربات", "en": "Answered"},
    "trig.handover": {"fa": "ارجاع به شما", "en": "Handed over"},
    "trig.summary_page": {"fa": "صفحه:", "en": "page:"},
    "trig.summary_any_page": {"fa": "همه‌ی صفحه‌ها", "en": "every page"},
    "trig.summary_script": {"fa": "با اسکریپت سایت:", "en": "by your site's script:"},
    "trig.summary_after": {"fa": "پس از {s} ثانیه", "en": "after {s} s"},
    "trig.summary_scroll": {"fa": "پیمایش {p}٪", "en": "scrolled {p}%"},
    "trigger.no_name": {"fa": "یک نام بدهید.", "en": "Give it a name."},
    "trigger.no_message": {
        "fa": "پیام را دست‌کم به زبانی که برایش انتخاب کرده‌اید بنویسید.",
        "en": "Write the message in at least one of the languages it is for.",
    },
    "trigger.too_long": {"fa": "هر پیام حداکثر ۳۰۰ نویسه است.", "en": "A message is at most 300 characters."},
    "trigger.bad_script_name": {
        "fa": "نام برای اسکریپت فقط حروف لاتین، رقم، - و _ است (حداکثر ۴۰).",
        "en": "The script name is Latin letters, digits, - and _ only (at most 40).",
    },
    "trigger.bad_choice": {"fa": "یکی از گزینه‌ها را انتخاب کنید.", "en": "Pick one of the choices."},
    "trigger.bad_seconds": {"fa": "ثانیه‌ها عددی از ۰ تا ۳۶۰۰ است.", "en": "Seconds is a number from 0 to 3600."},
    "trigger.bad_scroll": {
        "fa": "درصد پیمایش عددی از ۰ تا ۱۰۰ است.",
        "en": "The scroll depth is a number from 0 to 100.",
    },
    "trigger.bad_every": {"fa": "یکی از گزینه‌ها را انتخاب کنید.", "en": "Pick one of the choices."},
    "trigger.too_many": {"fa": "حداکثر ۵۰ پیام آغازگر.", "en": "At most 50 proactive messages."},
    "nav.available": {"fa": "در دسترسم", "en": "I'm available"},
    "nav.away": {"fa": "در دسترس نیستم", "en": "I'm away"},
    "nav.available_help": {
        "fa": "وقتی در دسترسید و این صفحه باز است، مشتریان می‌بینند که کسی آنلاین است.",
        "en": "While you are available and this page is open, customers see that a person is online.",
    },
    "nav.documents": {"fa": "اسناد", "en": "Documents"},
    "documents.intro": {
        "fa": "صفحهٔ پرسش‌های متداول سایت، قوانین مرجوعی به PDF، فهرست قیمت در Word: ربات از بخش‌های آن‌ها پاسخ می‌دهد و نام سند را می‌گوید.",
        "en": "Your site's FAQ page, a returns policy in PDF, a price list in Word: the bot answers from their sections and names the document.",
    },
    "documents.upload": {"fa": "بارگذاری سند", "en": "Upload a document"},
    "documents.upload_help": {
        "fa": "HTML، Markdown، متن، PDF یا Word (‎.docx)، تا ۲۰ مگابایت. پیش از ورود، بخش‌ها را می‌بینید.",
        "en": "HTML, Markdown, text, PDF or Word (.docx), up to 20 MB. You see its sections before anything is imported.",
    },
    "documents.url": {"fa": "یا نشانی صفحه‌ای از سایت فروشگاه", "en": "Or the address of a page on your shop's site"},
    "documents.url_help": {
        "fa": "فقط سایت‌های خود فروشگاه (در تنظیمات: نشانی عمومی و سایت‌های مجاز).",
        "en": "Only your shop's own sites (settings: public address and allowed sites).",
    },
    "documents.fetch": {"fa": "خواندن صفحه", "en": "Read the page"},
    "documents.none_yet": {"fa": "هنوز سندی نیست.", "en": "No documents yet."},
    "documents.sections": {"fa": {"other": "{n} بخش"}, "en": {"one": "{n} section", "other": "{n} sections"}},
    "documents.refresh": {"fa": "خواندن دوباره", "en": "Read again"},
    "documents.delete": {"fa": "حذف سند", "en": "Remove"},
    "documents.delete_confirm": {
        "fa": "این سند و بخش‌هایش حذف شوند؟ پرسش‌وپاسخ‌هایی که از آن ساخته‌اید می‌مانند.",
        "en": "Remove this document and its sections? Entries you made from its questions stay.",
    },
    "documents.deleted": {"fa": "سند حذف شد.", "en": "The document was removed."},
    "documents.done": {
        "fa": "وارد شد: {added} بخش تازه، {changed} بخش تغییرکرده، {removed} بخش حذف‌شده، {faq} پرسش‌وپاسخ تازه.",
        "en": "Imported: {added} new sections, {changed} changed, {removed} removed, {faq} new question-and-answer entries.",
    },
    "documents.history": {"fa": "ورودهای اخیر", "en": "Recent imports"},
    "documents.preview": {"fa": "پیش‌نمایش سند", "en": "Document preview"},
    "documents.before": {
        "fa": "پیش از این {n} بخش داشت؛ ورود دوباره جایگزینشان می‌کند.",
        "en": "It had {n} sections; importing it again replaces them.",
    },
    "documents.proposals": {
        "fa": "پرسش‌وپاسخ‌هایی که در سند پیدا شد",
        "en": "Questions and answers found in the document",
    },
    "documents.proposals_help": {
        "fa": "هرکدام را که تیک بزنید یک پرسش‌وپاسخ جدا در پایگاه دانش می‌شود (بعداً ویرایش‌پذیر)؛ بقیه بخشی از سند می‌مانند.",
        "en": "Each one you tick becomes an entry of its own in the knowledge base (yours to edit later); the rest stay sections of the document.",
    },
    "documents.section_list": {"fa": "بخش‌های سند", "en": "The document's sections"},
    "documents.more_sections": {"fa": "و {n} بخش دیگر", "en": "and {n} more"},
    "documents.import": {"fa": "ورود سند", "en": "Import the document"},
    "documents.in_kb": {
        "fa": "{n} بخش از اسناد نیز پاسخ می‌دهند (صفحهٔ اسناد).",
        "en": "{n} sections of documents answer too (the documents page).",
    },
    "catalog.counts": {
        "fa": "{products} کالا ({all} ردیف با گونه‌ها؛ {off} خاموش)",
        "en": "{products} products ({all} rows with variants; {off} turned off)",
    },
    "catalog.feed": {"fa": "خوراک کالاها", "en": "Product feed"},
    "catalog.feed_every": {"fa": {"other": "هر {n} ساعت"}, "en": {"one": "every {n} hour", "other": "every {n} hours"}},
    "catalog.feed_now": {"fa": "خواندن همین حالا", "en": "Fetch now"},
    "catalog.no_feed": {
        "fa": "نشانی خوراک کالاها در تنظیمات نیامده است.",
        "en": "No product feed address is set (settings).",
    },
    "catalog.export": {"fa": "خروجی فهرست کالاها", "en": "Export the catalog"},
    "catalog.import": {"fa": "ورود فهرست کالاها", "en": "Import a catalog"},
    "catalog.import_help": {
        "fa": "CSV یا JSON از ووکامرس، شاپیفای یا یک صفحه‌گسترده. فهرست فعلی با آن جایگزین می‌شود؛ کالاهایی که خاموش کرده‌اید خاموش می‌مانند.",
        "en": "CSV or JSON from WooCommerce, Shopify or a spreadsheet. It replaces the current catalog; products you turned off stay off.",
    },
    "catalog.currency": {"fa": "واحد پول (آن‌طور که مشتری بخواند)", "en": "Currency (as customers should read it)"},
    "catalog.currency_example": {"fa": "تومان", "en": "Toman"},
    "catalog.history": {"fa": "ورودهای اخیر", "en": "Recent imports"},
    "catalog.imported": {"fa": "{n} کالا و گونه وارد شد.", "en": "{n} products and variants imported."},
    "catalog.search": {"fa": "جستجوی نام یا کد کالا", "en": "Search a product's name or SKU"},
    "catalog.product": {"fa": "کالا", "en": "Product"},
    "catalog.price": {"fa": "قیمت", "en": "Price"},
    "catalog.stock": {"fa": "موجودی", "en": "Stock"},
    "catalog.save": {"fa": "ذخیره", "en": "Save"},
    "catalog.saved": {"fa": "ذخیره شد.", "en": "Saved."},
    "catalog.link": {"fa": "صفحهٔ کالا", "en": "product page"},
    "catalog.see_variants": {"fa": "قیمت و موجودی در گونه‌ها", "en": "price and stock on its variants"},
    "catalog.none_yet": {"fa": "هنوز کالایی نیست. یک فهرست وارد کنید.", "en": "No products yet. Import a catalog."},
    "catalog.previous": {"fa": "قبلی", "en": "previous"},
    "catalog.next": {"fa": "بعدی", "en": "next"},
    "catalog.mapping": {"fa": "کدام ستون چیست؟", "en": "Which column is what?"},
    "catalog.rows": {"fa": "{n} ردیف در فایل.", "en": "{n} rows in the file."},
    "catalog.preset": {"fa": "نوع فایل", "en": "Kind of file"},
    "catalog.attributes": {"fa": "ستون‌های گونه (سایز، رنگ...)", "en": "Variant columns (size, colour...)"},
    "catalog.preview_again": {"fa": "پیش‌نمایش دوباره", "en": "Preview again"},
    "catalog.import_confirm": {"fa": "ورود و جایگزینی فهرست", "en": "Import and replace the catalog"},
    "catalog.sample": {"fa": "نخستین ردیف‌ها با این انتخاب", "en": "The first rows, read this way"},
    "catalog.field.sku": {"fa": "کد کالا (SKU)", "en": "SKU"},
    "catalog.field.name": {"fa": "نام (هر زبان)", "en": "Name (either language)"},
    "catalog.field.name_fa": {"fa": "نام فارسی", "en": "Persian name"},
    "catalog.field.name_en": {"fa": "نام انگلیسی", "en": "English name"},
    "catalog.field.price": {"fa": "قیمت", "en": "Price"},
    "catalog.field.sale_price": {"fa": "قیمت با تخفیف", "en": "Sale price"},
    "catalog.field.currency": {"fa": "واحد پول", "en": "Currency"},
    "catalog.field.stock": {"fa": "موجودی (تعداد)", "en": "Stock (count)"},
    "catalog.field.in_stock": {"fa": "موجود است؟ (بله/نه)", "en": "In stock? (yes/no)"},
    "catalog.field.link": {"fa": "لینک صفحهٔ کالا", "en": "Product page link"},
    "catalog.field.description": {"fa": "توضیح کوتاه", "en": "Short description"},
    "catalog.field.parent": {"fa": "کالای مادرِ گونه", "en": "A variant's parent"},
    "catalog.field.enabled": {"fa": "فعال", "en": "Enabled"},
    "nav.logout": {"fa": "خروج", "en": "Sign out"},
    "nav.logout_all": {"fa": "خروج از همه دستگاه‌ها", "en": "Sign out everywhere"},
    "login.title": {"fa": "ورود به مدیریت", "en": "Sign in"},
    "login.password": {"fa": "گذرواژه", "en": "Password"},
    "login.submit": {"fa": "ورود", "en": "Sign in"},
    "login.not_set_up": {
        "fa": "هنوز گذرواژه‌ای تعیین نشده. پیوند راه‌اندازی را که appliance serve چاپ کرد باز کنید (یا appliance setup-link).",
        "en": "No password has been set yet. Open the setup link printed by appliance serve (or run appliance setup-link).",
    },
    "login.error.wrong": {"fa": "گذرواژه درست نیست.", "en": "That password is not right."},
    "login.error.throttled": {
        "fa": "تلاش‌های زیادی انجام شد. چند دقیقه دیگر دوباره امتحان کنید.",
        "en": "Too many attempts. Try again in a few minutes.",
    },
    "login.error.origin": {
        "fa": "درخواست از صفحه‌ای دیگر آمده و رد شد.",
        "en": "The request came from another site and was refused.",
    },
    "digest.title": {"fa": "خلاصه صبح", "en": "Morning digest"},
    "digest.since": {"fa": "از", "en": "since"},
    "digest.top": {"fa": "سؤال‌های بی‌پاسخ پرتکرار", "en": "Most asked without an answer"},
    "home.numbers": {"fa": "۲۴ ساعت گذشته", "en": "The last 24 hours"},
    "home.conversations": {"fa": "گفتگو", "en": "conversations"},
    "home.answered": {"fa": "پاسخ ربات", "en": "answered by the bot"},
    "home.clarified": {"fa": "پرسش روشن‌کننده", "en": "clarified"},
    "home.escalated": {"fa": "ارجاع به شما", "en": "handed to you"},
    "home.waiting": {"fa": "منتظر پاسخ شما", "en": "Waiting for your reply"},
    "home.none_waiting": {"fa": "گفتگویی منتظر نیست.", "en": "Nobody is waiting."},
    "home.entries": {"fa": "مطلب در پایگاه دانش", "en": "knowledge-base entries"},
    "home.gap_wordings": {"fa": {"other": "{n} جور پرسیده‌اند"}, "en": {"one": "{n} wording", "other": "{n} wordings"}},
    "home.gap_add": {
        "fa": "جوابش «{title}» است؟ این جمله‌ها را به آن بیفزایید",
        "en": "Answered by «{title}»? Add these words to it",
    },
    "home.gaps": {"fa": "شکاف‌های پایگاه دانش", "en": "Knowledge gaps"},
    "home.gaps_help": {
        "fa": "سؤال‌هایی که ربات پاسخشان را نداشت، دسته‌بندی‌شده بر اساس شباهت (۳۰ روز گذشته).",
        "en": "Questions the bot had no answer for, grouped by similarity (last 30 days).",
    },
    "nav.settings": {"fa": "تنظیمات", "en": "Settings"},
    "set.group.shop": {"fa": "فروشگاه", "en": "Shop"},
    "set.group.widget": {"fa": "ابزارک گفتگو", "en": "Chat widget"},
    "set.group.answers": {"fa": "پاسخ‌ها", "en": "Answers"},
    "set.group.email": {"fa": "ایمیل", "en": "E-mail"},
    "set.group.operations": {"fa": "نگهداری", "en": "Operations"},
    "set.shop_name": {"fa": "نام فروشگاه", "en": "Shop name"},
    "set.default_language": {"fa": "زبان پیش‌فرض (fa یا en)", "en": "Default language (fa or en)"},
    "set.timezone": {"fa": "منطقه زمانی (مثلاً Asia/Tehran)", "en": "Time zone (e.g. Asia/Tehran)"},
    "set.business_hours": {
        "fa": "ساعت کاری (مثلاً sat-wed 09:00-18:00; thu 09:00-13:00)",
        "en": "Business hours (e.g. sat-wed 09:00-18:00; thu 09:00-13:00)",
    },
    "set.holidays": {
        "fa": "تعطیلات (تاریخ شمسی، مثلاً 1405-01-01، با ویرگول)",
        "en": "Holidays (Jalali dates, e.g. 1405-01-01, comma-separated)",
    },
    "set.typical_reply_time": {
        "fa": "متن ثابت زمان پاسخ (خالی = از روی ساعت کاری)",
        "en": "Fixed reply-time text (empty = from the business hours)",
    },
    "set.greeting": {"fa": "خوشامدگویی ابزارک (خالی = پیش‌فرض)", "en": "Widget greeting (empty = default)"},
    "kb.filter_all": {"fa": "همه", "en": "All"},
    "set.allowed_origins": {
        "fa": "سایت‌هایی که گفتگو را نشان می‌دهند (با ویرگول جدا کنید)",
        "en": "Websites that show the chat (comma-separated)",
    },
    "set.widget_color": {"fa": "رنگ ابزارک", "en": "Widget colour"},
    "set.show_sources": {"fa": "نمایش منبع پاسخ‌ها", "en": "Show the source of answers"},
    "set.privacy_policy_url": {"fa": "نشانی صفحه حریم خصوصی", "en": "Privacy policy address"},
    "set.privacy_notice": {"fa": "متن اطلاعیه حریم خصوصی", "en": "Privacy notice text"},
    "set.require_consent": {"fa": "پیش از گفتگو «موافقم» لازم باشد", "en": "Require 'I agree' before chatting"},
    "set.customer_photos": {"fa": "مشتری بتواند عکس بفرستد", "en": "Customers may send photos"},
    "set.attachment_max_mb": {"fa": "بیشترین اندازه‌ی عکس یا PDF (مگابایت)", "en": "Largest photo or PDF (MB)"},
    "set.phrase_with_model": {
        "fa": "مدل زبانی پاسخ‌ها را بازنویسی کند (با بررسی)",
        "en": "Let the model rephrase answers (checked)",
    },
    "set.phrase_budget_s": {
        "fa": "بیشترین انتظار برای بازنویسی مدل، به ثانیه (پس از آن متن خودتان فرستاده می‌شود)",
        "en": "Longest wait for the model's rephrasing, in seconds (then your own text is sent)",
    },
    "set.model_checks_answers": {
        "fa": "مدل زبانی پاسخ‌ها را پیش از فرستادن بسنجد (برای مدل بزرگ‌تر)",
        "en": "Let the model check answers before they go out (for a larger model)",
    },
    "set.check_budget_s": {
        "fa": "بیشترین انتظار برای سنجش مدل، به ثانیه",
        "en": "Longest wait for the model's check, in seconds",
    },
    "set.dial_option": {
        "fa": "حداکثر {safety}٪ نادرست: پاسخ خودکار {answered}٪ · گزینه {clarified}٪ · به شما {handed}٪ (نادرست حدود {wrong}٪)",
        "en": "At most {safety}\u00a0% wrong: answers {answered}\u00a0% · choices {clarified}\u00a0% · to you {handed}\u00a0% (wrong about {wrong}\u00a0%)",
    },
    "set.dial_safest": {"fa": "امن‌ترین", "en": "safest"},
    "set.dial_history": {
        "fa": "با پرسش‌های {days} روز گذشته‌ی شما ({questions} پرسش): {answered} پاسخ خودکار، {wrong} از آن‌ها را شما نادرست علامت زده‌اید.",
        "en": "On your last {days} days ({questions} questions): {answered} answered outright, {wrong} of them marked wrong by you",
    },
    "home.week": {"fa": "پاسخ‌های این هفته", "en": "This week's answers"},
    "home.week_answered": {"fa": "پاسخ خودکار", "en": "answered"},
    "home.week_offered": {"fa": "بار گزینه پیشنهاد شد", "en": "offered choices"},
    "home.week_picked": {"fa": "بار مشتری گزینه‌ای را برگزید", "en": "picked"},
    "home.week_handed_over": {"fa": "به شما سپرده شد", "en": "handed to you"},
    "home.week_wrong": {
        "fa": "نادرستی برآوردشده: حدود {estimated}٪ پرسش‌ها.",
        "en": "Estimated wrong answers: about {estimated}\u00a0% of questions.",
    },
    "home.week_marked": {
        "fa": "شما {wrong} پاسخ از {marked} پاسخ علامت‌زده را نادرست دانسته‌اید.",
        "en": "You marked {wrong} of {marked} marked answers wrong.",
    },
    "home.week_dial": {"fa": "تنظیم ایمنی پاسخ‌ها", "en": "Adjust the answers' safety"},
    "set.dial_helpful": {"fa": "کمک‌کننده‌ترین", "en": "most helpful"},
    "set.calibration_estimate": {
        "fa": {
            "other": "برآورد روی {n} مطلب پایگاه دانش شما: ربات به حدود {answered}٪ پرسش‌ها خودش پاسخ می‌دهد، برای {clarified}٪ گزینه پیشنهاد می‌کند و {handed}٪ را به شما می‌سپارد؛ پاسخ نادرست حدود {wrong}٪."
        },
        "en": {
            "one": "Estimated on your {n} knowledge-base entry: the bot answers about {answered} % of questions itself, offers choices for {clarified} % and hands {handed} % to you; wrong answers about {wrong} %.",
            "other": "Estimated on your {n} knowledge-base entries: the bot answers about {answered} % of questions itself, offers choices for {clarified} % and hands {handed} % to you; wrong answers about {wrong} %.",
        },
    },
    "set.shop_calibration": {
        "fa": "تصمیم‌گیری بر پایه پایگاه دانش همین فروشگاه تنظیم شود",
        "en": "Fit the bot's decisions to this shop's knowledge base",
    },
    "set.answer_safety": {
        "fa": "بیشترین سهم پاسخ نادرست (۰٫۰۲ = ۲٪؛ کمتر = محتاط‌تر)",
        "en": "Most wrong answers allowed (0.02 = 2 %; lower = safer)",
    },
    "set.answer_threshold": {
        "fa": "آستانه اطمینان برای پاسخ (۰ = پیش‌فرض)",
        "en": "Confidence needed to answer (0 = default)",
    },
    "set.clarify_threshold": {
        "fa": "آستانه برای پرسیدن منظور (۰ = پیش‌فرض)",
        "en": "Confidence needed to offer choices (0 = default)",
    },
    "set.model": {"fa": "مدل زبانی", "en": "Language model"},
    "set.model_url": {
        "fa": "نشانی سرور مدل سازگار با OpenAI (خالی = مدل همین دستگاه)",
        "en": "OpenAI-compatible model server address (empty = the model on this machine)",
    },
    "set.model_server_model": {
        "fa": "نام مدل روی آن سرور (خالی = نخستین مدل)",
        "en": "Model name on that server (empty = the first it lists)",
    },
    "set.model_api_key": {
        "fa": "کلید API سرور مدل (خالی = بدون تغییر)",
        "en": "Model server API key (empty = unchanged)",
    },
    "set.smtp_host": {"fa": "سرور SMTP", "en": "SMTP server"},
    "set.smtp_port": {"fa": "درگاه SMTP", "en": "SMTP port"},
    "set.catalog_few_left": {"fa": "«فقط چند عدد مانده» از موجودی", "en": "“Only a few left” at a stock of"},
    "set.catalog_missing": {
        "fa": "کالای ناموجود در فهرست (closest یا handover)",
        "en": "A product not in the catalog (closest or handover)",
    },
    "set.catalog_feed_url": {"fa": "نشانی فهرست کالاها (خوراک)", "en": "Product feed address"},
    "set.catalog_feed_hours": {"fa": "خواندن فهرست کالاها هر چند ساعت", "en": "Fetch the product feed every (hours)"},
    "set.fetch_private_addresses": {
        "fa": "اجازه‌ی خواندن از نشانی‌های شبکه‌ی داخلی",
        "en": "Allow fetching from private network addresses",
    },
    "set.smtp_security": {"fa": "امنیت (starttls، ssl یا none)", "en": "Security (starttls, ssl or none)"},
    "set.smtp_user": {"fa": "نام کاربری SMTP", "en": "SMTP user"},
    "set.smtp_password": {"fa": "گذرواژه SMTP (خالی = بدون تغییر)", "en": "SMTP password (empty = unchanged)"},
    "set.smtp_from": {"fa": "نشانی فرستنده", "en": "From address"},
    "set.owner_email": {"fa": "ایمیل شما برای خلاصه صبح", "en": "Your e-mail for the morning digest"},
    "set.backup_time": {"fa": "ساعت پشتیبان‌گیری شبانه", "en": "Nightly backup time"},
    "set.backups_daily": {"fa": "تعداد پشتیبان روزانه", "en": "Daily backups kept"},
    "set.backups_weekly": {"fa": "تعداد پشتیبان هفتگی", "en": "Weekly backups kept"},
    "set.backups_monthly": {"fa": "تعداد پشتیبان ماهانه", "en": "Monthly backups kept"},
    "set.retention_days": {"fa": "نگهداری گفتگوها (روز؛ ۰ = همیشه)", "en": "Keep conversations (days; 0 = always)"},
    "set.digest_time": {"fa": "ساعت خلاصه صبح", "en": "Morning digest time"},
    "set.save": {"fa": "ذخیره تنظیمات", "en": "Save settings"},
    "set.saved": {"fa": "ذخیره شد و اعمال شد.", "en": "Saved and applied."},
    "set.restart": {"fa": "پس از راه‌اندازی دوباره اعمال می‌شود", "en": "applies after a restart"},
    "set.fixed": {"fa": "با متغیر محیطی تعیین شده", "en": "set by an environment variable"},
    "set.snippet": {"fa": "کد افزودن گفتگو به سایت", "en": "The code that adds the chat to your site"},
    "nav.analytics": {"fa": "آمار", "en": "Analytics"},
    "weekday.sat": {"fa": "شنبه", "en": "Sat"},
    "weekday.sun": {"fa": "یکشنبه", "en": "Sun"},
    "weekday.mon": {"fa": "دوشنبه", "en": "Mon"},
    "weekday.tue": {"fa": "سه‌شنبه", "en": "Tue"},
    "weekday.wed": {"fa": "چهارشنبه", "en": "Wed"},
    "weekday.thu": {"fa": "پنجشنبه", "en": "Thu"},
    "weekday.fri": {"fa": "جمعه", "en": "Fri"},
    "an.seconds": {"fa": "{n} ثانیه", "en": "{n} s"},
    "an.minutes": {"fa": "{n} دقیقه", "en": "{n} min"},
    "an.axis_max": {"fa": "بیشینه {n}", "en": "max {n}"},
    "an.days": {"fa": {"other": "{n} روز"}, "en": {"one": "{n} day", "other": "{n} days"}},
    "an.per_day": {"fa": "گفتگو در هر روز", "en": "Conversations per day"},
    "an.per_day_def": {
        "fa": "گفتگوهایی که در آن روز از ابزارک سایت شروع شدند.",
        "en": "Conversations started in the website widget that day.",
    },
    "an.outcomes": {"fa": "نتیجه پیام‌ها", "en": "What happened to messages"},
    "an.outcomes_def": {
        "fa": "سهم هر تصمیم از همه پیام‌های مشتری‌ها که ربات درباره‌شان تصمیم گرفت.",
        "en": "Share of each decision among all customer messages the bot decided on.",
    },
    "an.reasons": {"fa": "دلیل ارجاع به شما", "en": "Why messages were handed to you"},
    "an.times": {"fa": "زمان پاسخ و رضایت", "en": "Response times and satisfaction"},
    "an.bot_median": {"fa": "میانه پاسخ اول ربات", "en": "bot's median first response"},
    "an.owner_median": {"fa": "میانه زمان پاسخ شما", "en": "your median reply time"},
    "an.csat": {"fa": "مشتری‌های راضی", "en": "satisfied customers"},
    "an.times_def": {
        "fa": "پاسخ ربات: از پیام مشتری تا پاسخ ربات. پاسخ شما: از نخستین ارجاع گفتگو تا نخستین پاسخ شما. رضایت: سهم «بله» از گفتگوهای امتیازداده‌شده.",
        "en": "Bot: from a customer's message to the bot's reply. You: from a conversation's first hand-over to your first reply. Satisfaction: share of 'yes' among rated conversations.",
    },
    "an.top": {"fa": "پرکاربردترین مطالب", "en": "Most used entries"},
    "an.heatmap": {"fa": "ساعت و روز پیام‌ها", "en": "Messages by weekday and hour"},
    "an.heatmap_def": {
        "fa": "پیام‌های مشتری‌ها به وقت محلی فروشگاه؛ پررنگ‌تر یعنی بیشتر.",
        "en": "Customer messages by the shop's local time; darker means more.",
    },
    "nav.backups": {"fa": "نسخه‌های پشتیبان", "en": "Backups"},
    "backups.help": {
        "fa": "هر شب خودکار پشتیبان گرفته می‌شود؛ ۷ روزانه، ۴ هفتگی و ۶ ماهانه نگه داشته و قدیمی‌ترها خودکار پاک می‌شوند.",
        "en": "A backup is taken every night; 7 daily, 4 weekly and 6 monthly are kept and older ones removed on their own.",
    },
    "backups.now": {"fa": "همین حالا پشتیبان بگیر", "en": "Back up now"},
    "backups.done": {"fa": "پشتیبان گرفته شد:", "en": "Backup taken:"},
    "backups.restore": {"fa": "بازگردانی", "en": "Restore"},
    "backups.restore_help": {
        "fa": "همه داده‌های فعلی با این پشتیبان جایگزین می‌شود (پیش از آن از داده فعلی پشتیبان گرفته می‌شود). برای تأیید {word} را بنویسید.",
        "en": "All current data is replaced by this backup (the current data is backed up first). Type {word} to confirm.",
    },
    "backups.confirm_needed": {
        "fa": "برای بازگردانی کلمه تأیید را بنویسید.",
        "en": "Type the confirmation word to restore.",
    },
    "backups.unknown": {"fa": "این پشتیبان پیدا نشد.", "en": "That backup was not found."},
    "backups.none": {"fa": "هنوز پشتیبانی نیست.", "en": "No backups yet."},
    "home.backup": {"fa": "آخرین پشتیبان‌گیری", "en": "Last backup"},
    "home.backup_none": {"fa": "هنوز نه", "en": "none yet"},
    "home.backup_failed": {"fa": "پشتیبان‌گیری شبانه ناموفق بود:", "en": "The nightly backup failed:"},
    "home.model": {"fa": "مدل زبانی", "en": "Language model"},
    "home.model_file.missing": {
        "fa": "فایل مدل پس از بارگذاری از دیسک حذف شده است. پاسخ‌ها ادامه دارند (مدل در حافظه است)، اما در راه‌اندازی بعدی فقط از پایگاه دانش پاسخ داده می‌شود. فایل را با ‎./install.sh‎ برگردانید.",
        "en": "The model file was removed from disk after it was loaded. Answers go on (the model is in memory), but after the next restart the appliance will answer from the knowledge base only. Put the file back with ./install.sh.",
    },
    "home.model_file.changed": {
        "fa": "فایل مدل پس از بارگذاری روی دیسک تغییر کرده است. پاسخ‌ها با نسخهٔ داخل حافظه ادامه دارند؛ در راه‌اندازی بعدی فایل دوباره بررسی می‌شود و اگر خراب باشد فقط از پایگاه دانش پاسخ داده می‌شود.",
        "en": "The model file changed on disk after it was loaded. Answers go on with the copy in memory; at the next restart the file is checked again, and if it is damaged the appliance answers from the knowledge base only.",
    },
    "model.ready": {"fa": "آماده", "en": "ready"},
    "model.loading": {"fa": "در حال بارگذاری", "en": "loading"},
    "model.none": {
        "fa": "بدون مدل: پاسخ‌ها مستقیم از پایگاه دانش",
        "en": "none: answers come straight from the knowledge base",
    },
    "model.failed": {"fa": "بارگذاری نشد؛ پاسخ‌ها از پایگاه دانش", "en": "failed; answering from the knowledge base"},
    "model.restarting": {
        "fa": "در حال راه‌اندازی دوباره؛ تا آن موقع پاسخ‌ها از پایگاه دانش",
        "en": "restarting; answering from the knowledge base meanwhile",
    },
    "model.crashed_off": {
        "fa": "چند بار پشت سر هم از کار افتاد و خاموش ماند تا شما دوباره راه‌اندازی‌اش کنید؛ پاسخ‌ها از پایگاه دانش",
        "en": "crashed several times in a row and stays off until you start it again; answering from the knowledge base",
    },
    "home.model_details": {"fa": "جزئیات فنی", "en": "Technical details"},
    "home.model_crashed": {
        "fa": "مدل زبانی از کار افتاد (پاسخ‌ها از پایگاه دانش ادامه یافت). آخرین بار:",
        "en": "The language model crashed (answers went on from the knowledge base). Last time:",
    },
    "home.model_restart": {"fa": "راه‌اندازی دوباره مدل", "en": "Start the model again"},
    "kb.search": {"fa": "جستجو در پایگاه دانش", "en": "Search the knowledge base"},
    "kb.title": {"fa": "عنوان", "en": "Title"},
    "kb.lang": {"fa": "زبان", "en": "Language"},
    "kb.questions": {"fa": "پرسش‌ها", "en": "Questions"},
    "kb.enabled": {"fa": "فعال", "en": "On"},
    "kb.disabled": {"fa": "غیرفعال", "en": "Off"},
    "kb.empty": {"fa": "مطلبی پیدا نشد.", "en": "No entries found."},
    "kb.new": {"fa": "مطلب تازه", "en": "New entry"},
    "kb.edit": {"fa": "ویرایش مطلب", "en": "Edit entry"},
    "kb.answer": {"fa": "پاسخ شما", "en": "Your answer"},
    "kb.questions_help": {
        "fa": "هر سؤال در یک سطر؛ همان‌طور که مشتری می‌پرسد.",
        "en": "One per line, the way customers ask.",
    },
    "kb.tags": {"fa": "برچسب‌ها (با ویرگول جدا کنید)", "en": "Tags (comma-separated)"},
    "kb.enabled_label": {"fa": "ربات از این مطلب پاسخ بدهد", "en": "The bot may answer with this entry"},
    "kb.save": {"fa": "ذخیره", "en": "Save"},
    "kb.saved": {"fa": "ذخیره شد.", "en": "Saved."},
    "kb.delete": {"fa": "حذف", "en": "Delete"},
    "kb.delete_confirm": {"fa": "این مطلب حذف شود؟", "en": "Delete this entry?"},
    "kb.toggle_on": {"fa": "فعال کن", "en": "Turn on"},
    "kb.toggle_off": {"fa": "غیرفعال کن", "en": "Turn off"},
    "kb.history": {"fa": "تاریخچه تغییرات", "en": "Edit history"},
    "kb.import": {"fa": "ورود از فایل", "en": "Import"},
    "kb.import_help": {
        "fa": "فایل ‎.jsonl‎، ‎.csv‎ یا ‎.md‎ (پیش از ذخیره پیش‌نمایش می‌بینید).",
        "en": "A .jsonl, .csv or .md file (you'll see a preview before anything is saved).",
    },
    "kb.import_preview": {"fa": "پیش‌نمایش ورود", "en": "Import preview"},
    "kb.import_confirm": {"fa": "ذخیره همه", "en": "Import all"},
    "kb.import_new": {"fa": "تازه", "en": "new"},
    "kb.import_changed": {"fa": "تغییر کرده", "en": "changed"},
    "kb.import_same": {"fa": "بدون تغییر", "en": "unchanged"},
    "kb.import_done": {
        "fa": "ذخیره شد: {created} تازه، {updated} تغییر کرده.",
        "en": "Imported: {created} new, {updated} changed.",
    },
    "kb.import_error": {
        "fa": "فایل پذیرفته نشد و چیزی تغییر نکرد:",
        "en": "The file was not accepted and nothing changed:",
    },
    "kb.import_expired": {
        "fa": "پیش‌نمایش منقضی شده؛ فایل را دوباره بفرستید.",
        "en": "The preview has expired; upload the file again.",
    },
    "kb.export": {"fa": "خروجی", "en": "Export"},
    "system.takeover": {
        "fa": "یک نفر از همکاران {shop} به گفتگو پیوست و خودش پاسخ می‌دهد.",
        "en": "A person from {shop} has joined the conversation and will answer you.",
    },
    "system.handback": {"fa": "دستیار خودکار دوباره پاسخ می‌دهد.", "en": "The automated assistant is answering again."},
    "inbox.take_over": {"fa": "پیوستن به گفتگو (ربات ساکت می‌شود)", "en": "Take over (the bot stays silent)"},
    "inbox.hand_back": {"fa": "سپردن دوباره به ربات", "en": "Hand back to the bot"},
    "role.system": {"fa": "اعلان", "en": "Notice"},
    "status.human": {"fa": "شما در گفتگو هستید", "en": "you are in the conversation"},
    "decision.held": {"fa": "ربات ساکت ماند (شما در گفتگو بودید)", "en": "bot silent (you were in the conversation)"},
    "mail.file_in_chat": {
        "fa": "یک فایل هم برایتان در گفتگو فرستادیم؛ آن را در پنجره‌ی گفتگوی سایت ببینید.",
        "en": "We've also sent you a file in the chat; open the chat on our website to see it.",
    },
    "mail.reply_subject": {"fa": "پاسخ {shop} به پیام شما", "en": "A reply from {shop}"},
    "mail.title": {"fa": "ایمیل‌ها", "en": "E-mails"},
    "mail.sent": {"fa": "فرستاده شد", "en": "sent"},
    "mail.pending": {"fa": "در صف", "en": "queued"},
    "mail.failed": {"fa": "ناموفق (دوباره تلاش می‌شود)", "en": "failed (will retry)"},
    "inbox.waited": {"fa": "{hours} ساعت و {minutes} دقیقه منتظر", "en": "waiting {hours} h {minutes} min"},
    "nav.notify": {"fa": "خبرم کن", "en": "Notify me"},
    "nav.new_escalation": {"fa": "یک مشتری منتظر پاسخ شماست", "en": "A customer is waiting for your reply"},
    "inbox.export": {"fa": "خروجی داده‌های این مشتری", "en": "Export this customer's data"},
    "reason.confident": {"fa": "پاسخ مطمئن از پایگاه دانش", "en": "a sure match in the knowledge base"},
    "reason.close_candidates": {
        "fa": "چند مطلب به یک اندازه نزدیک بودند؛ مطمئن نبود کدام",
        "en": "several entries fitted about as well; not sure which",
    },
    "reason.model_doubted": {
        "fa": "مدل زبانی گفت این مطلب پاسخ پرسش نیست؛ گزینه‌ها پیشنهاد شد",
        "en": "the model said the entry doesn't answer it; choices were offered",
    },
    "reason.model_confirmed": {
        "fa": "مدل زبانی نخستین گزینه را پاسخ پرسش دانست",
        "en": "the model confirmed the first choice answers it",
    },
    "reason.model_joined": {
        "fa": "پرسش دو بخش داشت؛ پاسخ از دو مطلب",
        "en": "the question asked two things; answered from two entries",
    },
    "reason.no_match": {"fa": "پاسخی در پایگاه دانش پیدا نکرد", "en": "no answer in the knowledge base"},
    "reason.product": {"fa": "کالا را در فهرست کالاها پیدا کرد", "en": "found the product in the catalog"},
    "reason.close_products": {
        "fa": "چند کالا به یک اندازه به نام پرسیده‌شده نزدیک بودند",
        "en": "several products fitted the name asked about as well",
    },
    "reason.no_such_product": {
        "fa": "کالایی را خواست که در فهرست کالاها نیست",
        "en": "asked for a product the catalog doesn't have",
    },
    "reason.follow_up": {"fa": "ادامه‌ی پرسش قبلی", "en": "a follow-up to the previous question"},
    "reason.exact_phrasing": {
        "fa": "پرسش دقیقاً با جمله‌ای از همین مطلب یکی بود",
        "en": "the question was worded exactly as one of this entry's phrasings",
    },
    "reason.follow_up_choices": {
        "fa": "ادامه‌ی گفت‌وگو بود اما موضوع تازه‌ای داشت؛ گزینه‌ها پیشنهاد شد",
        "en": "a follow-up with a topic of its own; choices were offered",
    },
    "reason.chosen_by_customer": {"fa": "مشتری از گزینه‌ها انتخاب کرد", "en": "the customer picked it from the choices"},
    "reason.empty": {"fa": "پیام خالی", "en": "an empty message"},
    "reason.empty_knowledge_base": {"fa": "پایگاه دانش خالی است", "en": "the knowledge base is empty"},
    "reason.asked_for_person": {"fa": "مشتری خواست با یک نفر حرف بزند", "en": "the customer asked for a person"},
    "reason.upset": {"fa": "مشتری ناراحت به نظر می‌رسید", "en": "the customer seemed upset"},
    "reason.interrupted": {
        "fa": "پاسخ ربات نیمه‌کاره ماند (سرور متوقف شد)",
        "en": "the bot's reply was cut short (the server stopped)",
    },
    "reason.owner_in_conversation": {"fa": "شما در گفتگو بودید", "en": "you were in the conversation"},
    "reason.attachment": {"fa": "مشتری عکس فرستاد", "en": "the customer sent a photo"},
    "attachment.too_big": {"fa": "این فایل بزرگ‌تر از حد مجاز است.", "en": "That file is larger than allowed."},
    "attachment.empty": {"fa": "فایل خالی است.", "en": "The file is empty."},
    "attachment.not_image": {
        "fa": "این فایل عکس نیست. یک عکس JPEG، PNG، WebP یا GIF بفرستید.",
        "en": "That file isn't a photo. Send a JPEG, PNG, WebP or GIF picture.",
    },
    "attachment.not_allowed": {
        "fa": "فقط عکس (JPEG، PNG، WebP) یا PDF را می‌توان فرستاد.",
        "en": "Only a photo (JPEG, PNG, WebP) or a PDF can be sent.",
    },
    "attachment.too_many_pixels": {"fa": "ابعاد این عکس بیش از اندازه است.", "en": "That picture is too large."},
    "attachment.damaged": {"fa": "فایل آسیب دیده است و باز نمی‌شود.", "en": "The file is damaged and won't open."},
    "attachment.encrypted": {
        "fa": "این PDF رمز دارد؛ نسخه‌ی بدون رمز آن را بفرستید.",
        "en": "That PDF is locked with a password; send it without one.",
    },
    "attachment.busy": {
        "fa": "الان عکس‌های زیادی در دست بررسی است؛ یک دقیقه‌ی دیگر دوباره بفرستید.",
        "en": "Many pictures are being handled right now; send it again in a minute.",
    },
    "attachment.one_at_a_time": {
        "fa": "عکس قبلی شما هنوز در حال ارسال است؛ کمی صبر کنید.",
        "en": "Your last photo is still being sent; wait a moment.",
    },
    "reason.clarification_failed": {
        "fa": "هیچ‌کدام از گزینه‌ها به کار مشتری نیامد",
        "en": "none of the offered choices fitted",
    },
    "inbox.with_others": {
        "fa": {"other": "(این گفتگو و {n} گفتگوی دیگر همین مشتری)"},
        "en": {
            "one": "(this conversation and this customer's {n} other one)",
            "other": "(this conversation and this customer's {n} others)",
        },
    },
    "inbox.same_contact": {
        "fa": {"other": "{n} گفتگوی دیگر همین ایمیل یا شماره تلفن را داده‌اند"},
        "en": {
            "one": "{n} other conversation left the same e-mail address or phone number",
            "other": "{n} other conversations left the same e-mail address or phone number",
        },
    },
    "inbox.same_contact_warning": {
        "fa": "این نشانی یا شماره را کسی تأیید نکرده است: هر کسی می‌تواند نشانی دیگری را بنویسد. آن گفتگوها را فقط وقتی همراه کنید که مطمئن هستید از همین مشتری است.",
        "en": "Nobody verified these details: anyone can type someone else's address. Include those conversations only if you are sure they are this customer's.",
    },
    "inbox.export_with_contact": {"fa": "خروجی همراه آن گفتگوها", "en": "Export, including those conversations"},
    "inbox.erase_with_contact": {"fa": "پاک کردن همراه آن گفتگوها", "en": "Erase, including those conversations"},
    "inbox.erase": {"fa": "پاک کردن داده‌های این مشتری", "en": "Erase this customer's data"},
    "inbox.erase_confirm": {
        "fa": "همه گفتگوهای این مشتری برای همیشه پاک شود؟ (پشتیبان‌ها طبق برنامه خودشان پاک می‌شوند.)",
        "en": "Erase all of this customer's conversations for good? (Backups age out on their own schedule.)",
    },
    "inbox.notes": {"fa": "یادداشت‌های خصوصی (مشتری نمی‌بیند)", "en": "Private notes (the customer never sees them)"},
    "inbox.add_note": {"fa": "افزودن یادداشت", "en": "Add note"},
    "inbox.saved": {"fa": "پاسخ‌های آماده", "en": "Saved replies"},
    "inbox.insert": {"fa": "درج:", "en": "Insert:"},
    "saved.title": {"fa": "عنوان", "en": "Title"},
    "saved.text": {"fa": "متن پاسخ", "en": "Reply text"},
    "saved.add": {"fa": "افزودن", "en": "Add"},
    "nav.inbox": {"fa": "صندوق پیام", "en": "Inbox"},
    "inbox.waiting": {"fa": "منتظر", "en": "Waiting"},
    "inbox.answered": {"fa": "پاسخ داده‌شده", "en": "Answered"},
    "inbox.resolved": {"fa": "بسته‌شده", "en": "Resolved"},
    "inbox.all": {"fa": "همه", "en": "All"},
    "inbox.search": {"fa": "جستجو در گفتگوها", "en": "Search conversations"},
    "inbox.empty": {"fa": "گفتگویی نیست.", "en": "No conversations."},
    "inbox.contact": {"fa": "راه تماس", "en": "Contact"},
    "inbox.best_guess": {"fa": "حدس ربات:", "en": "The bot's guess:"},
    "inbox.language": {"fa": "زبان مشتری", "en": "Customer's language"},
    "inbox.conversation": {"fa": "گفتگو", "en": "Conversation"},
    "inbox.suggested": {
        "fa": "پاسخ‌های نزدیک از پایگاه دانش (برای درج و ویرایش):",
        "en": "Closest knowledge-base answers (insert, then edit):",
    },
    "inbox.keys": {
        "fa": "کلیدها: j/k بعدی و قبلی، r پاسخ، e بستن",
        "en": "Keys: j/k next and previous, r reply, e resolve",
    },
    "inbox.reply": {"fa": "پاسخ شما", "en": "Your reply"},
    "inbox.attach": {"fa": "پیوست (عکس یا PDF)", "en": "Attach (an image or a PDF)"},
    "inbox.send": {"fa": "ارسال پاسخ", "en": "Send reply"},
    "inbox.sent": {
        "fa": "پاسخ فرستاده شد؛ مشتری آن را در گفتگو می‌بیند.",
        "en": "Sent: the customer sees it in the chat.",
    },
    "inbox.resolve": {"fa": "بستن گفتگو", "en": "Resolve"},
    "inbox.reopen": {"fa": "بازکردن دوباره", "en": "Reopen"},
    "inbox.save_entry": {"fa": "ذخیره به‌عنوان مطلب پایگاه دانش", "en": "Save as a knowledge-base entry"},
    # Why an entry or a file was refused (answering.entry.EntryError keys), in the owner's language.
    "entry.missing_id": {"fa": "شناسه ندارد", "en": "missing id"},
    "catalog.bad_price": {"fa": "قیمت «{value}» عدد نیست", "en": "price “{value}” is not a number"},
    "catalog.bad_stock": {"fa": "موجودی «{value}» عدد نیست", "en": "stock “{value}” is not a number"},
    "catalog.bad_yes_no": {"fa": "«{value}»: بله یا نه بنویسید", "en": "“{value}”: write yes or no"},
    "catalog.bad_sku": {
        "fa": "کد کالا خالی است یا فاصله یا / ? # % دارد",
        "en": "the SKU is empty or has spaces or / ? # %",
    },
    "catalog.no_name": {"fa": "نام ندارد", "en": "no name"},
    "catalog.long_name": {"fa": "نام بیش از {n} نویسه است", "en": "name longer than {n} characters"},
    "catalog.bad_link": {
        "fa": "لینک باید با http:// یا https:// شروع شود",
        "en": "the link must start with http:// or https://",
    },
    "catalog.html": {
        "fa": "این یک صفحهٔ وب است، نه فایل CSV یا JSON",
        "en": "this is a web page, not a CSV or JSON catalog",
    },
    "catalog.empty": {"fa": "کالایی در فایل نیست: فایل خالی است", "en": "no products found: the file is empty"},
    "catalog.too_many": {"fa": "بیش از {n} ردیف", "en": "more than {n} rows"},
    "catalog.bad_csv": {"fa": "CSV معتبر نیست", "en": "not valid CSV"},
    "document.too_big": {"fa": "فایل بزرگ‌تر از {n} مگابایت است", "en": "the file is larger than {n} MB"},
    "document.file_type": {
        "fa": "این فایل سند نیست: ‎.html، ‎.md، ‎.txt، ‎.pdf یا ‎.docx بفرستید",
        "en": "not a document: use .html, .md, .txt, .pdf or .docx",
    },
    "upload.no_file": {"fa": "فایلی انتخاب نشده است", "en": "no file was chosen"},
    "document.empty": {"fa": "فایل خالی است", "en": "the file is empty"},
    "document.no_text": {"fa": "متنی در این سند پیدا نشد", "en": "no text found in the document"},
    "document.too_long": {"fa": "سند بیش از {n} بخش دارد", "en": "the document has more than {n} sections"},
    "document.not_html": {"fa": "این فایل صفحهٔ وب نیست", "en": "not a web page"},
    "document.pdf_locked": {"fa": "PDF رمز دارد؛ نسخهٔ بی‌رمز را بفرستید", "en": "the PDF is password-protected"},
    "document.bad_pdf": {"fa": "PDF خراب است و خوانده نمی‌شود", "en": "the PDF is damaged and can't be read"},
    "document.pdf_scanned": {
        "fa": "این PDF متن ندارد (اسکن شده است؟): متن آن باید قابل انتخاب باشد",
        "en": "the PDF has no text (a scan?): its text must be selectable",
    },
    "document.bad_docx": {
        "fa": "این فایل Word (‎.docx) نیست یا خراب است",
        "en": "not a Word (.docx) file, or a damaged one",
    },
    "fetch.bad_address": {"fa": "نشانی معتبر نیست: {url}", "en": "not a valid address: {url}"},
    "fetch.not_allowed": {
        "fa": "«{host}» سایت فروشگاه نیست (در تنظیمات: نشانی عمومی و سایت‌های مجاز)",
        "en": "“{host}” is not one of the shop's sites (settings: public address, allowed sites)",
    },
    "fetch.private": {
        "fa": "«{host}» به یک نشانی داخلی می‌رسد؛ در تنظیمات اجازه داده نشده است",
        "en": "“{host}” is a private or local address, and the settings don't allow those",
    },
    "fetch.redirect": {
        "fa": "صفحه به جای دیگری فرستاده شد ({url})؛ فقط سایت‌های فروشگاه خوانده می‌شوند",
        "en": "the page redirects elsewhere ({url}); only the shop's sites are read",
    },
    "fetch.too_many_redirects": {"fa": "صفحه بیش از حد جابه‌جا شد", "en": "too many redirects"},
    "fetch.timeout": {"fa": "صفحه در {n} ثانیه پاسخ نداد", "en": "the page did not answer within {n} s"},
    "fetch.too_big": {"fa": "صفحه بزرگ‌تر از {n} مگابایت است", "en": "the page is larger than {n} MB"},
    "fetch.status": {"fa": "سایت خطای {status} داد", "en": "the site answered with error {status}"},
    "fetch.failed": {"fa": "صفحه خوانده نشد: {detail}", "en": "the page could not be fetched: {detail}"},
    "fetch.not_catalog": {
        "fa": "نشانی یک صفحهٔ وب برگرداند، نه فهرست کالا (CSV یا JSON)",
        "en": "the address returned a web page, not a catalog (CSV or JSON)",
    },
    "catalog.bad_json_shape": {
        "fa": "فهرستی از کالاها (شیء‌ها) انتظار می‌رفت",
        "en": "expected a list of products (objects)",
    },
    "catalog.bad_preset": {"fa": "نوع فایل ناشناخته است", "en": "unknown kind of file"},
    "catalog.no_column": {"fa": "ستون «{column}» در فایل نیست", "en": "no column “{column}” in the file"},
    "catalog.map_name": {"fa": "بگویید نام کالا در کدام ستون است", "en": "say which column holds the product's name"},
    "catalog.map_price": {"fa": "بگویید قیمت در کدام ستون است", "en": "say which column holds the price"},
    "catalog.dup_sku": {"fa": "کد کالای «{sku}» تکراری است", "en": "SKU “{sku}” appears twice"},
    "catalog.no_parent": {"fa": "کالای مادر این گونه در فایل نیست", "en": "its parent product is not in the file"},
    "catalog.no_handle": {"fa": "Handle ندارد", "en": "no Handle"},
    "catalog.gone": {"fa": "این کالا دیگر وجود ندارد", "en": "that product no longer exists"},
    "entry.bad_id": {
        "fa": "شناسهٔ «{id}»: فقط حروف لاتین، رقم، «-» و «_» (حداکثر {n} نویسه)",
        "en": "id “{id}”: use only Latin letters, digits, '-' and '_' (at most {n})",
    },
    "entry.missing_answer": {"fa": "پاسخ خالی است", "en": "missing answer"},
    "entry.missing_title": {"fa": "عنوان ندارد (یا دست‌کم یک پرسش)", "en": "missing title (or at least one question)"},
    "entry.bad_lang": {"fa": "زبان باید fa یا en باشد", "en": "lang must be fa or en"},
    "entry.long_title": {"fa": "عنوان بیش از {n} نویسه است", "en": "title longer than {n} characters"},
    "entry.long_answer": {"fa": "پاسخ بیش از {n} نویسه است", "en": "answer longer than {n} characters"},
    "entry.many_questions": {"fa": "بیش از {n} پرسش", "en": "more than {n} questions"},
    "entry.long_question": {
        "fa": "یکی از پرسش‌ها بیش از {n} نویسه است",
        "en": "a question is longer than {n} characters",
    },
    "entry.duplicate_id": {
        "fa": "شناسهٔ تکراری «{id}» (نخستین بار در {first})",
        "en": "duplicate id “{id}” (first at {first})",
    },
    "entry.big_file": {"fa": "فایل بزرگ‌تر از {n} مگابایت است", "en": "file larger than {n} MB"},
    "entry.not_utf8": {
        "fa": "متن UTF-8 نیست (فایل را با کدگذاری UTF-8 ذخیره کنید)",
        "en": "not UTF-8 text (save the file as UTF-8)",
    },
    "entry.file_type": {
        "fa": "نوع فایل ناشناخته: پرسش‌وپاسخ‌ها ‎.jsonl یا ‎.csv یا ‎.md؛ سندها (‎.html، ‎.pdf، ‎.docx، ‎.txt) در صفحهٔ اسناد",
        "en": "unknown file type: entries are .jsonl, .csv or .md; documents (.html, .pdf, .docx, .txt) go on the Documents page",
    },
    "entry.empty_file": {"fa": "مطلبی پیدا نشد: فایل خالی است", "en": "no entries found: the file is empty"},
    "entry.bad_json": {"fa": "JSON معتبر نیست", "en": "not valid JSON"},
    "entry.missing_columns": {"fa": "ستون‌هایی نیست: {columns}", "en": "missing columns: {columns}"},
    "entry.extra_cells": {"fa": "خانه‌ها بیش از ستون‌هاست", "en": "more cells than columns"},
    "entry.bad_csv": {"fa": "CSV خراب است", "en": "broken CSV"},
    "entry.long_line": {"fa": "سطری بیش از {n} نویسه", "en": "a line longer than {n} characters"},
    "entry.before_heading": {"fa": "متنی پیش از نخستین عنوان", "en": "text before the first heading"},
    "entry.no_answer_under": {
        "fa": "زیر عنوان «{heading}» پاسخی نیست",
        "en": "heading “{heading}” has no answer under it",
    },
    "setting.not_number": {"fa": "«{setting}»: یک عدد بنویسید", "en": "“{setting}”: write a number"},
    "setting.not_whole": {"fa": "«{setting}»: یک عدد صحیح بنویسید", "en": "“{setting}”: write a whole number"},
    "setting.not_bool": {"fa": "«{setting}»: روشن یا خاموش", "en": "“{setting}”: on or off"},
    "setting.bad_origin": {
        "fa": "«{origin}» نشانی یک سایت نیست: آن را مانند https://shop.example بنویسید (فقط http یا https، نام سایت و در صورت نیاز درگاه؛ بی مسیر)",
        "en": "“{origin}” is not a site's address: write it like https://shop.example (http or https, the host and, if needed, a port; no path)",
    },
    "hours.unreadable": {
        "fa": "ساعت کاری «{part}» خوانده نشد: مثلاً sat-wed 09:00-18:00 بنویسید",
        "en": "business hours “{part}” can't be read: write e.g. sat-wed 09:00-18:00",
    },
    "hours.backwards": {
        "fa": "ساعت کاری «{part}»: ساعت بستن پیش از ساعت باز کردن است",
        "en": "business hours “{part}”: closing time before opening time",
    },
    "hours.bad_holiday": {
        "fa": "تعطیلی «{day}»: تاریخ شمسی را به شکل ۱۴۰۵-۰۱-۰۱ بنویسید",
        "en": "holiday “{day}”: write Jalali dates as YYYY-MM-DD, e.g. 1405-01-01",
    },
    "hours.bad_tz": {
        "fa": "منطقهٔ زمانی ناشناخته «{tz}» (مثلاً Asia/Tehran)",
        "en": "unknown time zone “{tz}” (e.g. Asia/Tehran)",
    },
    "entry.line": {"fa": "{file}، سطر {n}", "en": "{file} line {n}"},
    "entry.row": {"fa": "{file}، ردیف {n}", "en": "{file} row {n}"},
    "learn.which": {"fa": "کدام مطلب به این سؤال پاسخ می‌دهد؟", "en": "Which entry answers this question?"},
    "learn.help": {
        "fa": "با یک کلیک، این جملهٔ مشتری به پرسش‌های آن مطلب اضافه می‌شود و ربات دفعهٔ بعد خودش پاسخ می‌دهد.",
        "en": "One click adds the customer's words to that entry's questions: next time the bot answers it itself.",
    },
    "learn.added": {
        "fa": "افزوده شد: ربات از این پس این سؤال را با «{title}» پاسخ می‌دهد.",
        "en": "Added: from now on the bot answers this question with “{title}”.",
    },
    "learn.right": {"fa": "پاسخ درست بود", "en": "Right answer"},
    "learn.wrong": {"fa": "پاسخ نادرست بود", "en": "Wrong answer"},
    "learn.marked_right": {"fa": "شما این پاسخ را درست دانستید.", "en": "You marked this answer right."},
    "learn.marked_wrong": {"fa": "شما این پاسخ را نادرست دانستید.", "en": "You marked this answer wrong."},
    "learn.unmark": {"fa": "برداشتن علامت", "en": "Remove the mark"},
    "learn.suggested": {"fa": "جمله‌های پیشنهادی مشتری‌ها", "en": "Wordings customers used"},
    "learn.suggested_help": {
        "fa": "مشتری از میان گزینه‌ها این مطلب را انتخاب کرد. اگر درست است، جمله‌اش را به پرسش‌های مطلب اضافه کنید؛ "
        "بدون تأیید شما چیزی به پایگاه دانش اضافه نمی‌شود.",
        "en": "A customer picked this entry among the choices the bot offered. If it is right, add their words to "
        "the entry's questions; nothing reaches the knowledge base without you.",
    },
    "learn.waiting": {
        "fa": {"other": "{n} جملهٔ مشتری منتظر تأیید شما برای افزودن به پایگاه دانش است."},
        "en": {
            "one": "{n} wording a customer used waits for your yes to join the knowledge base.",
            "other": "{n} wordings customers used wait for your yes to join the knowledge base.",
        },
    },
    "learn.review": {"fa": "پاسخ‌هایی که ربات کمتر از همه به آن‌ها مطمئن بود", "en": "Answers the bot was least sure of"},
    "learn.review_help": {
        "fa": "پاسخ‌های ۳۰ روز گذشته که هنوز بررسی نکرده‌اید. اگر پاسخی نادرست بود، علامتش بزنید تا ربات از این پس محتاط‌تر باشد.",
        "en": "Answers from the last 30 days you haven't checked. Mark a wrong one and the bot becomes more careful.",
    },
    "learn.answered_with": {"fa": "پاسخ با", "en": "answered with"},
    "learn.unhelpful": {"fa": "مشتری گفت کمکی نکرد", "en": "the customer said it didn't help"},
    "learn.sure": {"fa": "{n}٪ مطمئن", "en": "{n} % sure"},
    "learn.approve": {"fa": "افزودن به مطلب", "en": "Add to the entry"},
    "learn.dismiss": {"fa": "نه", "en": "No"},
    "learn.for_entry": {"fa": "برای", "en": "for"},
    "learn.gone": {"fa": "افزوده نشد: این مطلب دیگر وجود ندارد.", "en": "Not added: that entry no longer exists."},
    "learn.full": {
        "fa": "افزوده نشد: این مطلب به سقف ۵۰ پرسش رسیده است؛ چند پرسش قدیمی‌اش را پاک کنید.",
        "en": "Not added: this entry already has 50 questions; remove some old ones first.",
    },
    "learn.too_long": {
        "fa": "افزوده نشد: یک پرسش حداکثر ۵۰۰ نویسه است.",
        "en": "Not added: a question is at most 500 characters.",
    },
    "reply.invalid": {"fa": "پاسخ خالی یا بیش از حد بلند است.", "en": "The reply is empty or too long."},
    "role.customer": {"fa": "مشتری", "en": "Customer"},
    "role.bot": {"fa": "ربات", "en": "Bot"},
    "role.owner": {"fa": "شما", "en": "You"},
    "status.open": {"fa": "با ربات", "en": "with the bot"},
    "status.waiting": {"fa": "منتظر شما", "en": "waiting for you"},
    "status.answered": {"fa": "پاسخ داده‌شده", "en": "answered"},
    "status.resolved": {"fa": "بسته‌شده", "en": "resolved"},
    "try.title": {"fa": "یک سؤال را امتحان کنید", "en": "Try a question"},
    "try.placeholder": {"fa": "سؤالی که مشتری می‌پرسد…", "en": "A question a customer might ask…"},
    "try.submit": {"fa": "امتحان", "en": "Try"},
    "try.decision": {"fa": "تصمیم", "en": "Decision"},
    "try.confidence": {"fa": "اطمینان", "en": "Confidence"},
    "try.reply": {"fa": "پاسخی که مشتری می‌بیند", "en": "The reply the customer gets"},
    "try.top": {"fa": "نزدیک‌ترین مطالب", "en": "Closest entries"},
    "try.scores": {"fa": "امتیازها", "en": "Scores"},
    "try.details": {"fa": "جزئیات تصمیم", "en": "How it decided"},
    "try.said.answer": {"fa": "پاسخ با «{entry}»، {sure}٪ مطمئن", "en": "Answered with «{entry}», {sure} % sure"},
    "try.said.clarify": {
        "fa": "پرسید منظور مشتری کدام است: {entries}",
        "en": "Asked which one the customer means: {entries}",
    },
    "try.said.escalate": {"fa": "به شما سپرد: {reason}", "en": "Handed to you: {reason}"},
    "try.said.best_guess": {"fa": "؛ نزدیک‌ترین حدس «{entry}»", "en": "; closest guess «{entry}»"},
    "try.said.second": {"fa": "؛ گزینه‌ی دوم «{entry}»", "en": "; second choice «{entry}»"},
    "try.said.and": {"fa": "» و «", "en": "» and «"},
    "try.said.checked": {"fa": "؛ {why}", "en": "; {why}"},
    "decision.answer": {"fa": "پاسخ داد", "en": "answered"},
    "decision.clarify": {"fa": "پرسیدن منظور مشتری", "en": "ask which one the customer means"},
    "decision.escalate": {"fa": "ارجاع به شما", "en": "hand to you"},
    "decision.greeting": {"fa": "سلام و احوال‌پرسی", "en": "greeting"},
    "decision.thanks": {"fa": "تشکر", "en": "thanks"},
    "decision.goodbye": {"fa": "خداحافظی", "en": "goodbye"},
    # The front page
    "home.title": {"fa": "پشتیبانی {shop}", "en": "{shop} support"},
    "home.intro": {
        "fa": "این دستیار پاسخ‌گوی {shop} است. برای گفتگو دکمه پایین صفحه را بزنید.",
        "en": "This is the support assistant of {shop}. Press the button at the bottom of the page to chat.",
    },
    "home.embed": {
        "fa": "برای افزودن گفتگو به سایت فروشگاه، این کد را در صفحه‌های سایت بگذارید و نشانی سایت را در تنظیمات (allowed_origins) وارد کنید:",
        "en": "To add the chat to the shop's website, put this code in its pages and add the site's address to the settings (allowed_origins):",
    },
    # The chat widget
    "widget.title": {"fa": "گفتگو با {shop}", "en": "Chat with {shop}"},
    "widget.disclosure": {
        "fa": "من دستیار خودکار {shop} هستم و از روی اطلاعاتی که فروشگاه نوشته پاسخ می‌دهم. هر وقت بخواهید گفتگو را به یک نفر از همکاران فروشگاه می‌سپارم. پیام‌های شما نزد فروشگاه نگه داشته می‌شود.",
        "en": "I'm the automated assistant of {shop}; I answer from what the shop has written. I can hand you to a person at any time. Your messages are kept by the shop.",
    },
    "widget.consent": {"fa": "با شرایط حریم خصوصی موافقم", "en": "I agree to the privacy notice"},
    "widget.privacy": {"fa": "سیاست حریم خصوصی", "en": "Privacy policy"},
    "widget.placeholder": {"fa": "پیامتان را بنویسید…", "en": "Type your message…"},
    "widget.send": {"fa": "ارسال", "en": "Send"},
    "widget.person": {"fa": "صحبت با یک نفر", "en": "Talk to a person"},
    "widget.person_label": {"fa": "می‌خواهم با یک نفر صحبت کنم", "en": "I'd like to talk to a person"},
    "widget.close": {"fa": "بستن گفتگو", "en": "Close chat"},
    "widget.open": {"fa": "گفتگو با پشتیبانی", "en": "Chat with support"},
    "widget.typing": {"fa": "در حال نوشتن…", "en": "Typing…"},
    "widget.seen": {"fa": "دیده شد", "en": "Seen"},
    "widget.attach": {"fa": "فرستادن عکس", "en": "Send a photo"},
    "widget.photo": {"fa": "عکس", "en": "Photo"},
    "widget.sending_photo": {"fa": "در حال فرستادن عکس…", "en": "Sending the photo…"},
    "widget.error.photo_too_big": {
        "fa": "این عکس بزرگ‌تر از حد مجاز است.",
        "en": "That photo is larger than the shop accepts.",
    },
    "widget.error.not_photo": {
        "fa": "این فایل عکس نیست. یک عکس JPEG، PNG، WebP یا GIF بفرستید.",
        "en": "That file isn't a photo. Send a JPEG, PNG, WebP or GIF picture.",
    },
    "widget.error.photo_damaged": {"fa": "این عکس باز نمی‌شود.", "en": "That photo won't open."},
    "widget.error.photo_too_many_pixels": {
        "fa": "ابعاد این عکس بیش از اندازه است؛ عکس کوچک‌تری بفرستید.",
        "en": "That picture has too many pixels; send a smaller one.",
    },
    "widget.error.photos_busy": {
        "fa": "الان عکس‌های زیادی در دست بررسی است؛ یک دقیقه‌ی دیگر دوباره بفرستید.",
        "en": "Many pictures are being handled right now; send it again in a minute.",
    },
    "widget.person_online": {
        "fa": "یکی از همکاران {shop} الان آنلاین است.",
        "en": "Someone from {shop} is online now.",
    },
    "widget.person_away": {"fa": "همکاران {shop} {when} پاسخ می‌دهند.", "en": "A person from {shop} will reply {when}."},
    "widget.from": {"fa": "از:", "en": "from:"},
    "widget.none_of_these": {"fa": "هیچ‌کدام", "en": "None of these"},
    "widget.contact.title": {"fa": "راه تماس (اختیاری)", "en": "How to reach you (optional)"},
    "widget.contact.email": {"fa": "ایمیل", "en": "E-mail"},
    "widget.contact.phone": {"fa": "تلفن", "en": "Phone"},
    "widget.contact.save": {"fa": "ذخیره", "en": "Save"},
    "widget.contact.saved": {"fa": "ممنون، ذخیره شد.", "en": "Thanks, saved."},
    "widget.rate.question": {"fa": "این گفتگو کمکتان کرد؟", "en": "Did this help?"},
    "widget.rate.yes": {"fa": "بله", "en": "Yes"},
    "widget.rate.no": {"fa": "نه", "en": "No"},
    "widget.rate.comment": {"fa": "نظرتان (اختیاری)", "en": "Your comment (optional)"},
    "widget.rate.thanks": {"fa": "ممنون از نظرتان.", "en": "Thank you for your feedback."},
    "widget.error.network": {
        "fa": "اتصال برقرار نشد. دوباره تلاش می‌کنم…",
        "en": "Couldn't connect. Trying again…",
    },
    "widget.error.failed": {"fa": "ارسال نشد. برای تلاش دوباره بزنید.", "en": "Not sent. Tap to try again."},
    "widget.error.rate_limited": {
        "fa": "کمی آهسته‌تر لطفاً؛ چند لحظه دیگر دوباره بفرستید.",
        "en": "A little slower, please; send again in a moment.",
    },
    "widget.error.too_long": {"fa": "پیام بیش از حد بلند است.", "en": "The message is too long."},
    "widget.owner": {"fa": "همکار فروشگاه", "en": "Shop staff"},
    "widget.unread": {"fa": "پاسخ تازه", "en": "new reply"},
    # The bot's own words ({shop} is the shop's name)
    "bot.the_shop": {"fa": "فروشگاه", "en": "the shop"},
    "bot.clarify": {
        "fa": "مطمئن نیستم منظورتان کدام است. یکی از این‌ها را انتخاب کنید، یا اگر هیچ‌کدام نیست بگویید تا پیامتان به همکاران {shop} برسد:",
        "en": "I'm not sure which of these you mean. Pick one, or tell me if it's none of them and I'll pass your message to {shop}:",
    },
    "bot.greeting": {
        "fa": "سلام! من دستیار خودکار {shop} هستم. سؤالتان را بپرسید.",
        "en": "Hello! I'm the automated assistant of {shop}. What would you like to know?",
    },
    "bot.thanks": {
        "fa": "خواهش می‌کنم! اگر سؤال دیگری دارید بپرسید.",
        "en": "You're welcome! Ask me if there's anything else.",
    },
    "bot.goodbye": {"fa": "خدانگهدار! روز خوبی داشته باشید.", "en": "Goodbye, and have a good day!"},
    "bot.reply_time": {
        "fa": "پاسخ را {when} در همین گفتگو می‌بینید. اگر بخواهید، ایمیل یا شماره تلفنتان را هم بگذارید تا از آن راه هم خبرتان کنیم.",
        "en": "You'll see the reply here in this chat, {when}. If you like, leave an e-mail address or phone number too.",
    },
    "bot.reply_time.default": {"fa": "معمولاً تا یک روز کاری", "en": "usually within one working day"},
    "bot.escalate.unknown": {
        "fa": "پاسخ این سؤال را در اطلاعاتم ندارم و نمی‌خواهم حدس بزنم. پیامتان را برای همکاران {shop} فرستادم تا خودشان پاسخ دهند.",
        "en": "I don't have the answer to that and I'd rather not guess. I've passed your question to {shop} so a person can answer.",
    },
    "bot.escalate.person": {
        "fa": "حتماً. گفتگو را به همکاران {shop} سپردم و یکی از آن‌ها پاسخ می‌دهد.",
        "en": "Of course. I've handed this conversation to {shop}; a person will reply.",
    },
    "bot.escalate.photo": {
        "fa": "عکس را گرفتم. من نمی‌توانم عکس‌ها را ببینم؛ آن را برای همکاران {shop} فرستادم تا خودشان نگاه کنند.",
        "en": "Got your photo. I can't look at pictures myself, so I've passed it to {shop} for a person to look at.",
    },
    "bot.escalate.upset": {
        "fa": "متأسفم که این مشکل پیش آمده. پیامتان را مستقیم برای همکاران {shop} فرستادم تا خودشان پیگیری کنند.",
        "en": "I'm sorry about this. I've sent your message straight to {shop} so a person can look into it.",
    },
    # About a product: built from the catalog's fields (appliance/catalog/reply.py), never by the model
    "bot.product.price": {"fa": "قیمت: {price}", "en": "Price: {price}"},
    "bot.product.price_range": {"fa": "قیمت: از {low} تا {high}", "en": "Price: from {low} to {high}"},
    "bot.product.no_price": {"fa": "قیمتش هنوز ثبت نشده است.", "en": "Its price isn't listed yet."},
    "bot.product.in": {"fa": "موجود است.", "en": "In stock."},
    "bot.product.few": {"fa": "فقط {n} عدد مانده است.", "en": "Only {n} left."},
    "bot.product.out": {"fa": "فعلاً موجود نیست.", "en": "Out of stock at the moment."},
    "bot.product.variants_in": {"fa": "موجود: {list}.", "en": "In stock: {list}."},
    "bot.product.variants_out": {"fa": "ناموجود: {list}.", "en": "Out of stock: {list}."},
    "bot.product.few_of": {"fa": "{name} (فقط {n} عدد)", "en": "{name} (only {n} left)"},
    "bot.product.link": {"fa": "صفحهٔ کالا: {link}", "en": "Product page: {link}"},
    "document.from": {"fa": "از «{title}»", "en": "From “{title}”"},
    "bot.product.choose": {
        "fa": "چند کالا با این نام داریم. کدام را می‌خواهید؟",
        "en": "We have more than one product by that name. Which one do you mean?",
    },
    "bot.product.missing": {
        "fa": "این کالا را در فهرست کالاهای {shop} پیدا نکردم.",
        "en": "I couldn't find that product in {shop}'s catalog.",
    },
    "bot.product.closest": {
        "fa": "نزدیک‌ترین کالاهایی که داریم این‌ها هستند؛ اگر هیچ‌کدام نیست بگویید تا پیامتان به همکاران {shop} برسد:",
        "en": "These are the closest we have; if it's none of them, tell me and I'll pass your message to {shop}:",
    },
}


_PERSIAN_DIGITS = str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")


def digits(value: object, lang: str) -> str:
    """Numbers as the reader writes them: Persian digits on Persian pages."""
    text = str(value)
    return text.translate(_PERSIAN_DIGITS) if lang == "fa" else text


def day(value: object, lang: str) -> str:
    """A calendar day ("2026-11-22") as the reader writes it: "۱۴۰۵/۰۹/۰۱" on Persian pages."""
    from datetime import date

    import jdatetime

    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    if lang == "fa":
        return digits(jdatetime.date.fromgregorian(date=d).strftime("%Y/%m/%d"), "fa")
    return d.isoformat()


def when(value: object, lang: str, tz: str = "UTC") -> str:
    """A stored ISO timestamp as the owner reads it: their time zone, and the Jalali calendar with
    Persian digits on Persian pages ("۱۴۰۵/۰۹/۰۱ ۱۱:۳۰"); "2026-11-22 11:30" on English ones."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import jdatetime

    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        at = at.astimezone(ZoneInfo(tz))
    except Exception:  # an unknown zone name: show UTC rather than fail the page
        at = at.astimezone(UTC)
    if lang == "fa":
        jalali = jdatetime.datetime.fromgregorian(datetime=at.replace(tzinfo=None))
        return digits(jalali.strftime("%Y/%m/%d %H:%M"), "fa")
    return at.strftime("%Y-%m-%d %H:%M")


_warned: set[tuple[str, str]] = set()


def _warn(key: str, lang: str, what: str) -> None:
    if (key, lang) not in _warned:  # once per key and language, not on every page view
        _warned.add((key, lang))
        log.warning("i18n: %s for %r in %r", what, key, lang)


def _entry(lang: str, key: str) -> Any:
    entry = STRINGS.get(key)
    if entry is None:
        _warn(key, lang, "no such string")
        return key
    if lang not in entry:
        _warn(key, lang, "no translation, English shown")
        return entry.get("en", key)
    return entry[lang]


def t(lang: str, key: str) -> str:
    """The string ``key`` in ``lang``."""
    value = _entry(lang, key)
    return value if isinstance(value, str) else value["other"]


_WHERE = re.compile(r"^(?P<file>.*) (?P<unit>line|row) (?P<n>\d+)$")


def refusal(lang: str, exc: Any, *, with_where: bool = True) -> str:
    """Why an entry, a file or a setting was refused, in the owner's language (the error's
    ``key`` and ``params``: EntryError, SettingsError, HoursError); its English text where it has
    no key. A ``setting`` parameter is shown by its label."""
    key = getattr(exc, "key", "")
    params = {k: digits(v, lang) if isinstance(v, int) else v for k, v in getattr(exc, "params", {}).items()}
    if "setting" in params:
        params["setting"] = label(lang, "setting", params["setting"])
    reason = t(lang, key).format(**params) if key in STRINGS else getattr(exc, "reason", str(exc))
    where = getattr(exc, "where", "") if with_where else ""
    found = _WHERE.match(where)
    if found:
        unit = {"line": "entry.line", "row": "entry.row"}[found["unit"]]
        where = t(lang, unit).format(file=found["file"], n=digits(int(found["n"]), lang))
    return f"{where}: {reason}" if where else reason


def plural_category(lang: str, n: int) -> str:
    """CLDR's plural category of ``n`` in ``lang``, among the ones STRINGS uses."""
    return "one" if lang == "en" and n == 1 else "other"


def tn(lang: str, key: str, n: int, **values: object) -> str:
    """The string ``key`` for a count ``n``, in its plural form, with ``{n}`` in the reader's
    digits and the other ``values`` filled in."""
    value = _entry(lang, key)
    if isinstance(value, dict):
        value = value.get(plural_category(lang, n)) or value["other"]
    return value.format(n=digits(n, lang), **values)


# The label of each value that is shown by name: value -> key.
LABELS: dict[str, dict[str, str]] = {
    "status": {
        "open": "status.open",
        "waiting": "status.waiting",
        "answered": "status.answered",
        "human": "status.human",
        "resolved": "status.resolved",
    },
    "role": {"customer": "role.customer", "bot": "role.bot", "owner": "role.owner", "system": "role.system"},
    "language": {"fa": "lang.fa", "en": "lang.en"},
    "decision": {
        "answer": "decision.answer",
        "clarify": "decision.clarify",
        "escalate": "decision.escalate",
        "greeting": "decision.greeting",
        "thanks": "decision.thanks",
        "goodbye": "decision.goodbye",
        "held": "decision.held",
    },
    "inbox_view": {
        "waiting": "inbox.waiting",
        "answered": "inbox.answered",
        "resolved": "inbox.resolved",
        "all": "inbox.all",
    },
    "import": {"new": "kb.import_new", "changed": "kb.import_changed", "same": "kb.import_same"},
    "model_file": {"missing": "home.model_file.missing", "changed": "home.model_file.changed"},
    "model_state": {
        "none": "model.none",
        "loading": "model.loading",
        "ready": "model.ready",
        "restarting": "model.restarting",
        "failed": "model.failed",
    },
    "setup_error": {
        "invalid": "setup.error.invalid",
        "used": "setup.error.used",
        "expired": "setup.error.expired",
        "too_short": "setup.error.too_short",
        "too_long": "setup.error.too_long",
        "mismatch": "setup.error.mismatch",
        "origin": "setup.error.origin",
    },
    "settings_group": {
        "shop": "set.group.shop",
        "widget": "set.group.widget",
        "answers": "set.group.answers",
        "email": "set.group.email",
        "operations": "set.group.operations",
    },
    "setting": {
        "shop_name": "set.shop_name",
        "default_language": "set.default_language",
        "timezone": "set.timezone",
        "business_hours": "set.business_hours",
        "holidays": "set.holidays",
        "typical_reply_time": "set.typical_reply_time",
        "greeting": "set.greeting",
        "allowed_origins": "set.allowed_origins",
        "widget_color": "set.widget_color",
        "show_sources": "set.show_sources",
        "privacy_policy_url": "set.privacy_policy_url",
        "privacy_notice": "set.privacy_notice",
        "require_consent": "set.require_consent",
        "customer_photos": "set.customer_photos",
        "attachment_max_mb": "set.attachment_max_mb",
        "shop_calibration": "set.shop_calibration",
        "answer_safety": "set.answer_safety",
        "phrase_with_model": "set.phrase_with_model",
        "phrase_budget_s": "set.phrase_budget_s",
        "model_checks_answers": "set.model_checks_answers",
        "check_budget_s": "set.check_budget_s",
        "answer_threshold": "set.answer_threshold",
        "clarify_threshold": "set.clarify_threshold",
        "catalog_few_left": "set.catalog_few_left",
        "catalog_missing": "set.catalog_missing",
        "catalog_feed_url": "set.catalog_feed_url",
        "catalog_feed_hours": "set.catalog_feed_hours",
        "fetch_private_addresses": "set.fetch_private_addresses",
        "model": "set.model",
        "model_url": "set.model_url",
        "model_server_model": "set.model_server_model",
        "model_api_key": "set.model_api_key",
        "smtp_host": "set.smtp_host",
        "smtp_port": "set.smtp_port",
        "smtp_security": "set.smtp_security",
        "smtp_user": "set.smtp_user",
        "smtp_password": "set.smtp_password",
        "smtp_from": "set.smtp_from",
        "owner_email": "set.owner_email",
        "backup_time": "set.backup_time",
        "backups_daily": "set.backups_daily",
        "backups_weekly": "set.backups_weekly",
        "backups_monthly": "set.backups_monthly",
        "retention_days": "set.retention_days",
        "digest_time": "set.digest_time",
    },
    "catalog_field": {
        "sku": "catalog.field.sku",
        "name": "catalog.field.name",
        "name_fa": "catalog.field.name_fa",
        "name_en": "catalog.field.name_en",
        "price": "catalog.field.price",
        "sale_price": "catalog.field.sale_price",
        "currency": "catalog.field.currency",
        "stock": "catalog.field.stock",
        "in_stock": "catalog.field.in_stock",
        "link": "catalog.field.link",
        "description": "catalog.field.description",
        "parent": "catalog.field.parent",
        "enabled": "catalog.field.enabled",
    },
    # Why the bot decided as it did (decide.py, conversations/chat.py, the widget's buttons).
    "reason": {
        "confident": "reason.confident",
        "close_candidates": "reason.close_candidates",
        "model_doubted": "reason.model_doubted",
        "model_confirmed": "reason.model_confirmed",
        "model_joined": "reason.model_joined",
        "no_match": "reason.no_match",
        "product": "reason.product",
        "close_products": "reason.close_products",
        "no_such_product": "reason.no_such_product",
        "follow_up": "reason.follow_up",
        "follow_up_choices": "reason.follow_up_choices",
        "exact_phrasing": "reason.exact_phrasing",
        "chosen_by_customer": "reason.chosen_by_customer",
        "empty": "reason.empty",
        "empty_knowledge_base": "reason.empty_knowledge_base",
        "asked_for_person": "reason.asked_for_person",
        "upset": "reason.upset",
        "interrupted": "reason.interrupted",
        "owner_in_conversation": "reason.owner_in_conversation",
        "clarification_failed": "reason.clarification_failed",
        "attachment": "reason.attachment",
        "greeting": "decision.greeting",
        "thanks": "decision.thanks",
        "goodbye": "decision.goodbye",
    },
    "trigger_visitors": {
        "all": "trig.visitors.all",
        "new": "trig.visitors.new",
        "returning": "trig.visitors.returning",
    },
    "trigger_lang": {"": "trig.lang.any", "fa": "lang.fa", "en": "lang.en"},
    "trigger_hours": {"any": "trig.hours.any", "open": "trig.hours.open", "closed": "trig.hours.closed"},
    "trigger_every": {"1": "trig.every.1", "7": "trig.every.7", "30": "trig.every.30", "0": "trig.every.0"},
    "weekday": {
        "sat": "weekday.sat",
        "sun": "weekday.sun",
        "mon": "weekday.mon",
        "tue": "weekday.tue",
        "wed": "weekday.wed",
        "thu": "weekday.thu",
        "fri": "weekday.fri",
    },
    # The bot's own short replies, by the decision's kind.
    "bot_reply": {"greeting": "bot.greeting", "thanks": "bot.thanks", "goodbye": "bot.goodbye"},
}


def label(lang: str, group: str, value: object) -> str:
    """How ``value`` of ``group`` (a status, a decision's kind, ...) reads in ``lang``; an unknown
    value is shown as it is, with a warning in the log."""
    key = LABELS[group].get(str(value))
    if key is None:
        _warn(f"{group}:{value}", lang, "no label")
        return str(value)
    return t(lang, key)


def choose(query_lang: str | None, accept_language: str | None, default: str) -> str:
    """An explicit ?lang= wins, then the browser's first supported language, then the shop's default."""
    if query_lang in LANGUAGES:
        return query_lang
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default if default in LANGUAGES else "fa"


def isolate(text: object) -> str:
    """``text`` as a bidi isolate (FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE), for a name
    put into a sentence of the other direction: a Persian title in an English sentence took the
    words and figures after it along (and the reverse)."""
    return f"\u2068{text}\u2069"


def context(lang: str) -> Mapping[str, object]:
    """What every template gets: the language, its direction, and the string functions bound to it."""
    return {
        "lang": lang,
        "dir": DIRECTION[lang],
        "t": lambda key: t(lang, key),
        "tn": lambda key, n, **values: tn(lang, key, n, **values),
        "label": lambda group, value: label(lang, group, value),
        "isolate": isolate,
    }
