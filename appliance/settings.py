"""The one settings object.

Precedence, lowest first: the defaults below < ``settings.toml`` in the data directory <
``APPLIANCE_*`` environment variables < command-line flags. Every field carries its own
documentation (``field(metadata={"doc": ...})``) so ``appliance settings`` and the admin can
explain it without a second copy of the text.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from appliance import paths
from appliance.text.textnorm import ascii_digits

ENV_PREFIX = "APPLIANCE_"
SETTINGS_FILE = "settings.toml"


class SettingsError(ValueError):
    """A settings value could not be understood; the message names the source and the field.
    ``key`` and ``params`` say it in the owner's language (i18n.refusal)."""

    def __init__(self, message: str, key: str = "", **params: object):
        super().__init__(message)
        self.key = key
        self.params = params


def _doc(text: str, **kw: Any) -> Any:
    return field(metadata={"doc": text}, **kw)


@dataclass(frozen=True)
class Settings:
    # Where everything lives. Resolved before the settings file is read, so it can't be set in it.
    data_dir: Path = _doc(
        "Directory holding the database, secret, backups, logs and owner-added models. "
        "Default: the platform's user data directory.",
        default_factory=paths.default_data_dir,
    )
    demo: bool = _doc("Run the bundled demo bookshop (uses its own data directory).", default=False)

    # Network
    host: str = _doc("Address to listen on. Keep 127.0.0.1 behind a reverse proxy.", default="127.0.0.1")
    port: int = _doc("TCP port to listen on.", default=8750)
    public_url: str = _doc(
        "URL customers and the owner use to reach the appliance (printed links, e-mails). Empty: http://HOST:PORT.",
        default="",
    )
    trusted_proxies: tuple[str, ...] = _doc(
        "Reverse-proxy addresses whose X-Forwarded-For header is believed. Empty: none.",
        default=(),
    )
    allowed_origins: tuple[str, ...] = _doc(
        "The shop's websites allowed to embed the chat widget (frame-ancestors).", default=()
    )

    # Shop
    shop_name: str = _doc("The shop's name, shown in the widget and the admin.", default="")
    default_language: str = _doc("Language used when the customer's can't be told: fa or en.", default="fa")
    business_hours: str = _doc(
        "When a person answers, e.g. 'sat-wed 09:00-18:00; thu 09:00-13:00' (unnamed days are closed).",
        default="sat-wed 09:00-18:00; thu 09:00-13:00",
    )
    holidays: tuple[str, ...] = _doc("Closed days, as Jalali dates (1405-01-01, 1405-01-02 ...).", default=())
    timezone: str = _doc("The shop's time zone, for times shown in the admin (IANA name).", default="Asia/Tehran")

    # Model
    model: str = _doc(
        "Chat model: 'default' (the bundled SmolLM2), 'none' (knowledge-base answers only), "
        "or a GGUF file name under models/ or the data directory's models/, or a path.",
        default="default",
    )
    model_url: str = _doc(
        "An OpenAI-compatible model server to use instead of a local model file (llama.cpp's "
        "llama-server, vLLM, Ollama), e.g. http://10.0.0.5:8080/v1. Empty: the local model.",
        default="",
    )
    model_api_key: str = _doc("API key for the model server (empty: none).", default="")
    model_server_model: str = _doc("Which of the server's models to use (empty: the first it lists).", default="")
    n_ctx: int = _doc("Model context window in tokens.", default=2048)
    n_threads: int = _doc("Threads for generating tokens; 0 = all cores.", default=0)
    n_threads_batch: int = _doc("Threads for reading the prompt; 0 = all cores.", default=0)
    model_nice: int = _doc(
        "Scheduling priority of the model's process (0-19, higher = yields more): customers' "
        "decisions get the CPU before the model. 19 also puts it in Linux's idle class: it "
        "runs only on CPU time nothing else wants.",
        default=19,
    )
    model_queue_size: int = _doc(
        "Model jobs that may wait; beyond this the customer gets the knowledge-base answer at once.",
        default=4,
    )
    model_timeout_s: float = _doc("Longest a single model reply may take, in seconds.", default=30.0)
    max_reply_tokens: int = _doc("Longest model reply in tokens.", default=200)
    phrase_with_model: bool = _doc(
        "Let the chat model rephrase the owner's answers (checked against the owner's text "
        "before they are shown). Off by default: the bundled model's rephrasings almost never pass "
        "the checks and the customer waits for them; worth it with a larger model.",
        default=False,
    )
    phrase_budget_s: float = _doc(
        "Longest a customer waits for the model's rephrasing of an answer, in seconds. Past it, or "
        "when the model is already writing another reply, the owner's text is sent at once.",
        default=0.8,
    )
    model_checks_answers: bool = _doc(
        "Let the chat model check each answer before it goes out: shown the question and the top "
        "three entries, it says which answer it. An answer it doesn't pick is offered as choices, "
        "choices whose first it picks are answered, a question it says two entries answer gets "
        "both. Off by default: the bundled model picks at chance; measure a larger model on your "
        "own questions first (appliance eval --llm --check).",
        default=False,
    )
    check_budget_s: float = _doc(
        "Longest a customer waits for the model's check, in seconds. Past it, or when the model is "
        "already writing another reply, the bot's own choice goes out.",
        default=3.0,
    )
    model_languages: tuple[str, ...] = _doc(
        "Languages the chat model writes well. Replies in other languages use the owner's text "
        "as written (the default model writes English only).",
        default=("en",),
    )

    # Answer pipeline
    answer_threshold: float = _doc(
        "Confidence (0-1) needed to answer from the knowledge base; 0 = the calibrated default.",
        default=0.0,
    )
    shop_calibration: bool = _doc(
        "Fit the decision to this shop's own knowledge base (in the background after every change) "
        "instead of using only the calibration shipped with the appliance.",
        default=True,
    )
    answer_safety: float = _doc(
        "The most wrong answers the bot may give, as an estimated share of customers' questions "
        "(0.02 = 2 %): lower is safer, higher answers more without you.",
        default=0.02,
    )
    clarify_threshold: float = _doc(
        "Confidence (0-1) needed to offer choices instead of escalating; 0 = the calibrated default.",
        default=0.0,
    )
    catalog_few_left: int = _doc("A product's stock at or below this is told as 'only N left'.", default=3)
    catalog_missing: str = _doc(
        "When a customer asks for a product the catalog doesn't have: 'closest' offers the closest "
        "products, 'handover' passes the question to you.",
        default="closest",
    )
    catalog_feed_url: str = _doc(
        "Address of the shop's product feed (CSV or JSON, e.g. a WooCommerce or Shopify export link), "
        "fetched on a schedule. Empty: catalogs are imported by hand only.",
        default="",
    )
    catalog_feed_hours: int = _doc("Fetch the product feed every this many hours (0: never).", default=24)
    fetch_private_addresses: bool = _doc(
        "Allow fetching pages and feeds from private or local network addresses (a shop site on the same "
        "network as the appliance). Off: only public addresses.",
        default=False,
    )

    # Widget
    widget_color: str = _doc("Accent colour of the chat widget (#rrggbb).", default="#0b6e4f")
    show_sources: bool = _doc("Show 'from: <entry title>' under the bot's answers.", default=True)
    greeting: str = _doc("The widget's first words to a customer (empty: a greeting in their language).", default="")
    privacy_policy_url: str = _doc("Link to the shop's privacy policy, shown in the widget.", default="")
    privacy_notice: str = _doc(
        "The privacy notice shown in the widget (empty: a short default in the customer's language).",
        default="",
    )
    require_consent: bool = _doc(
        "Customers must tick 'I agree' to the privacy notice before their first message.", default=False
    )
    typical_reply_time: str = _doc(
        "When the owner usually replies, told to customers on escalation (empty: a working day).",
        default="",
    )

    # E-mail (owner replies to customers who left an address)
    smtp_host: str = _doc("SMTP server (empty: no e-mail). A local relay or the shop's mail server.", default="")
    smtp_port: int = _doc("SMTP port (587 for STARTTLS, 465 for SSL, 25 for a local relay).", default=587)
    smtp_security: str = _doc("starttls, ssl or none.", default="starttls")
    smtp_user: str = _doc("SMTP user name (empty: no login).", default="")
    smtp_password: str = _doc("SMTP password (kept in settings.toml, readable by the appliance only).", default="")
    smtp_from: str = _doc("The From address of e-mails the appliance sends.", default="")
    owner_email: str = _doc("Where the morning digest is e-mailed (empty: shown in the admin only).", default="")

    # Limits
    max_message_chars: int = _doc("Longest customer message accepted, in characters.", default=2000)
    max_open_chats: int = _doc(
        "Open widgets the appliance keeps a live connection to (each is a socket); past it, widgets poll.",
        default=1000,
    )
    max_open_chats_per_address: int = _doc(
        "... of them from one network address (an office behind one router counts as one).", default=50
    )
    visitor_messages_per_minute: int = _doc("Messages one visitor may send a minute.", default=12)
    ip_messages_per_minute: int = _doc("Messages one IP address may send a minute.", default=40)
    ip_conversations_per_day: int = _doc("Conversations one IP address may start a day.", default=60)
    max_request_bytes: int = _doc("Largest request body the public API accepts, in bytes.", default=16384)
    customer_photos: bool = _doc(
        "Customers may send a photo in the chat (a damaged parcel, the book they mean).", default=True
    )
    attachment_max_mb: int = _doc(
        "Largest photo or PDF that may be sent in a conversation, in MB (photos are stored re-encoded, "
        "at most 2000 pixels a side).",
        default=8,
    )
    attachments_per_hour: int = _doc("Photos one visitor may send an hour.", default=10)
    body_idle_timeout_s: float = _doc(
        "Longest pause, in seconds, while a request's body arrives (then 408).", default=20.0
    )
    body_total_timeout_s: float = _doc(
        "Longest time, in seconds, a request's whole body may take (an upload on a slow line: minutes).",
        default=300.0,
    )
    body_min_bytes_per_s: float = _doc(
        "Slowest a request's body may arrive on average after its first 10 seconds, in bytes a second "
        "(then 408; 0: no minimum).",
        default=500.0,
    )
    requests_per_address: int = _doc(
        "Requests one network address may have in progress besides its open chats (then 429).", default=20
    )

    # Operations
    log_level: str = _doc("Log level: debug, info, warning, error.", default="info")
    backup_time: str = _doc("Time of day (HH:MM, server time) of the nightly backup.", default="03:00")
    backups_daily: int = _doc("Nightly backups kept: one for each of the last N days.", default=7)
    backups_weekly: int = _doc("... and one for each of the last N weeks.", default=4)
    backups_monthly: int = _doc("... and one for each of the last N months.", default=6)
    retention_days: int = _doc(
        "Delete conversations untouched for this many days (0: keep them). The knowledge base is kept.",
        default=365,
    )
    digest_time: str = _doc("Time of day (HH:MM, server time) the morning digest is prepared.", default="07:30")

    # -- derived paths -------------------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.data_dir / "appliance.db"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def models_dirs(self) -> list[Path]:
        """Where GGUF files are looked for: the data directory's models/ first, then the install's."""
        return [self.data_dir / "models", paths.project_models_dir()]

    @property
    def backup_keep(self) -> dict[str, int]:
        return {"daily": self.backups_daily, "weekly": self.backups_weekly, "monthly": self.backups_monthly}

    @property
    def attachment_max_bytes(self) -> int:
        """``attachment_max_mb`` in bytes, held between 1 and 25 MB (a request body is read whole
        before anything else: a typo of 8000 mustn't let 8 GB in)."""
        return max(1, min(self.attachment_max_mb, 25)) * 1_000_000

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- (de)serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        return cls(**_coerce_all(json.loads(text), source="serialised settings"))

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **_coerce_all(changes, source="override"))


# What the admin's settings page says under each field the owner can change, in Persian (the
# English is each field's own doc above). tests/test_i18n.py checks that none is missing.
HELP_FA = {
    "shop_name": "نام فروشگاه، در ابزارک گفتگو و بخش مدیریت.",
    "default_language": "زبانی که وقتی زبان مشتری معلوم نیست به کار می‌رود: fa یا en.",
    "timezone": "منطقه‌ی زمانی فروشگاه، برای زمان‌هایی که در بخش مدیریت می‌بینید (مثل Asia/Tehran).",
    "business_hours": "ساعت‌هایی که کسی پاسخ می‌دهد، مثلاً «sat-wed 09:00-18:00; thu 09:00-13:00» (روزهایی که نیامده‌اند تعطیل‌اند).",
    "holidays": "روزهای تعطیل، به تاریخ شمسی (1405-01-01، 1405-01-02 ...).",
    "typical_reply_time": "معمولاً کی پاسخ می‌دهید؛ هنگام ارجاع به مشتری گفته می‌شود (خالی: یک روز کاری).",
    "greeting": "نخستین جمله‌ی ابزارک به مشتری (خالی: خوشامدی به زبان خود مشتری).",
    "allowed_origins": "سایت‌های فروشگاه که اجازه دارند ابزارک گفتگو را نشان دهند.",
    "widget_color": "رنگ اصلی ابزارک گفتگو (#rrggbb).",
    "show_sources": "نشان دادن «از: عنوان مطلب» زیر پاسخ‌های ربات.",
    "privacy_policy_url": "پیوند صفحه‌ی حریم خصوصی فروشگاه، در ابزارک.",
    "privacy_notice": "متن حریم خصوصی در ابزارک (خالی: متنی کوتاه به زبان مشتری).",
    "require_consent": "مشتری پیش از نخستین پیام باید «موافقم» را با متن حریم خصوصی بزند.",
    "customer_photos": "مشتری بتواند در گفتگو عکس بفرستد (بسته‌ی آسیب‌دیده، کتابی که منظورش است).",
    "attachment_max_mb": "بیشترین اندازه‌ی عکس یا PDF در گفتگو، به مگابایت (عکس‌ها دوباره ذخیره می‌شوند، حداکثر ۲۰۰۰ پیکسل در هر ضلع).",
    "shop_calibration": "تصمیم ربات با پایگاه دانش همین فروشگاه تنظیم شود (پس از هر تغییر، در پس‌زمینه) به جای تنظیم همراه برنامه.",
    "answer_safety": "بیشترین سهم پاسخ نادرستی که ربات مجاز است بدهد، برآوردی از پرسش‌های مشتریان (0.02 یعنی ۲٪): کمتر امن‌تر است، بیشتر یعنی ربات بیشتر بی شما پاسخ می‌دهد.",
    "phrase_with_model": "مدل زبانی پاسخ‌های شما را بازنویسی کند (پیش از نمایش با متن خودتان سنجیده می‌شود). پیش‌فرض خاموش است: بازنویسی‌های مدل همراه برنامه تقریباً هیچ‌وقت از این سنجش نمی‌گذرند و مشتری منتظرشان می‌ماند؛ با مدلی بزرگ‌تر ارزشش را دارد.",
    "phrase_budget_s": "بیشترین زمانی که مشتری منتظر بازنویسی مدل می‌ماند، به ثانیه. پس از آن، یا وقتی مدل مشغول پاسخ دیگری است، متن خود شما فوراً فرستاده می‌شود.",
    "model_checks_answers": "مدل زبانی هر پاسخ را پیش از فرستادن بسنجد: پرسش و سه مطلب نزدیک را می‌بیند و می‌گوید کدام پاسخ آن است. پاسخی که مدل انتخابش نکند به صورت گزینه پیشنهاد می‌شود، گزینه‌هایی که مدل اولی‌شان را انتخاب کند پاسخ داده می‌شوند، و پرسشی که به گفته‌ی مدل دو مطلب پاسخش هستند هر دو را می‌گیرد. پیش‌فرض خاموش است: مدل همراه برنامه تصادفی انتخاب می‌کند؛ مدل بزرگ‌تر را اول با فرمان «appliance eval --llm --check» بسنجید.",
    "check_budget_s": "بیشترین زمانی که مشتری منتظر سنجش مدل می‌ماند، به ثانیه. پس از آن، یا وقتی مدل مشغول پاسخ دیگری است، انتخاب خود ربات فرستاده می‌شود.",
    "answer_threshold": "اطمینان لازم (۰ تا ۱) برای پاسخ از پایگاه دانش؛ ۰ یعنی مقدار تنظیم‌شده.",
    "clarify_threshold": "اطمینان لازم (۰ تا ۱) برای پیشنهاد گزینه به جای ارجاع؛ ۰ یعنی مقدار تنظیم‌شده.",
    "catalog_few_left": "موجودی کالا اگر این‌قدر یا کمتر باشد، به مشتری گفته می‌شود «فقط N عدد مانده».",
    "catalog_missing": "وقتی مشتری کالایی را می‌خواهد که در فهرست نیست: «closest» نزدیک‌ترین کالاها را پیشنهاد می‌دهد، «handover» پرسش را به شما می‌سپارد.",
    "catalog_feed_url": "نشانی فهرست کالاهای فروشگاه (CSV یا JSON، مثلاً پیوند خروجی ووکامرس یا شاپیفای) که به‌طور منظم خوانده می‌شود. خالی: فهرست فقط با دست وارد می‌شود.",
    "catalog_feed_hours": "فهرست کالاها هر چند ساعت یک بار خوانده شود (۰: هرگز).",
    "fetch_private_addresses": "اجازه‌ی خواندن صفحه و فهرست کالا از نشانی‌های شبکه‌ی داخلی (سایت فروشگاه روی همان شبکه). خاموش: فقط نشانی‌های عمومی.",
    "model": "مدل زبانی: «default» (مدل همراه برنامه)، «none» (فقط پاسخ‌های پایگاه دانش)، یا نام یک فایل GGUF در پوشه‌ی models یا نشانی آن.",
    "model_url": "نشانی یک سرور مدل سازگار با OpenAI به جای فایل مدل محلی (llama-server، vLLM، Ollama)، مثلاً http://10.0.0.5:8080/v1. خالی: مدل محلی.",
    "model_server_model": "کدام مدل آن سرور به کار رود (خالی: نخستین مدلی که فهرست می‌کند).",
    "model_api_key": "کلید API سرور مدل (خالی: بدون کلید).",
    "smtp_host": "سرور SMTP (خالی: بدون ایمیل). یک رله‌ی محلی یا سرور ایمیل فروشگاه.",
    "smtp_port": "درگاه SMTP (587 برای STARTTLS، 465 برای SSL، 25 برای رله‌ی محلی).",
    "smtp_security": "starttls، ssl یا none.",
    "smtp_user": "نام کاربری SMTP (خالی: بدون ورود).",
    "smtp_password": "گذرواژه‌ی SMTP (در settings.toml نگه داشته می‌شود و فقط خود برنامه آن را می‌خواند).",
    "smtp_from": "نشانی فرستنده‌ی ایمیل‌هایی که برنامه می‌فرستد.",
    "owner_email": "خلاصه‌ی صبح به کدام نشانی ایمیل شود (خالی: فقط در بخش مدیریت).",
    "backup_time": "ساعت پشتیبان‌گیری شبانه (HH:MM، به وقت سرور).",
    "backups_daily": "نسخه‌های شبانه‌ای که نگه داشته می‌شوند: یکی برای هر یک از N روز گذشته.",
    "backups_weekly": "... و یکی برای هر یک از N هفته‌ی گذشته.",
    "backups_monthly": "... و یکی برای هر یک از N ماه گذشته.",
    "retention_days": "گفتگوهایی که این‌همه روز دست نخورده‌اند پاک شوند (۰: نگه داشتن). پایگاه دانش همیشه می‌ماند.",
    "digest_time": "ساعت آماده شدن خلاصه‌ی صبح (HH:MM، به وقت سرور).",
}


def describe(lang: str = "en") -> list[tuple[str, str, str]]:
    """(name, type, doc) of every field, for `appliance settings` and the admin (``lang="fa"``:
    the Persian help where a field has one)."""
    return [
        (f.name, _type_name(f), (HELP_FA.get(f.name) if lang == "fa" else None) or f.metadata.get("doc", ""))
        for f in fields(Settings)
    ]


def _type_name(f: dataclasses.Field) -> str:
    return str(f.type).replace("tuple[str, ...]", "list")


def _field_map() -> dict[str, dataclasses.Field]:
    return {f.name: f for f in fields(Settings)}


_NUMBER_MAP = str.maketrans({"٫": ".", "٬": "", "،": ""})  # the digits: textnorm.ascii_digits


def _latin_number(value: Any) -> Any:
    """A number typed on a Persian keyboard ("۰٫۰۱") as Python reads numbers ("0.01")."""
    return ascii_digits(value.strip()).translate(_NUMBER_MAP) if isinstance(value, str) else value


_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(written: str) -> str:
    """A site as a browser names it in its Origin header: ``scheme://host[:port]``, lower case, a
    scheme's default port left out, a Persian host name in its xn-- form. ValueError for anything
    else: a path, a bare host name, another scheme. (Any string was taken: a path never matched a
    browser's Origin, and the widget's frame-ancestors quietly left it out.)"""
    text = written.strip()
    text = text[:-1] if text.endswith("/") else text
    if any(c in text for c in "?#@\\ ") or text.count("://") != 1:
        raise ValueError(written)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or parts.path or not parts.hostname:
        raise ValueError(written)
    port = parts.port  # ValueError when it is not a port number
    host = parts.hostname
    if ":" in host:  # an IPv6 address, written in brackets
        host = f"[{ipaddress.IPv6Address(host.strip('[]'))}]"
    else:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise ValueError(written) from None
        if not _HOST_NAME.match(host):
            raise ValueError(written)
    if port == 0:
        raise ValueError(written)
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


def _origins(values: tuple[str, ...], source: str) -> tuple[str, ...]:
    out = []
    for value in values:
        try:
            out.append(origin(value))
        except ValueError:
            raise SettingsError(
                f"{source}: setting 'allowed_origins': {value!r} is not a site's address "
                "(write it as https://shop.example: scheme, host and port only, no path)",
                "setting.bad_origin",
                origin=value[:200],
            ) from None
    return tuple(dict.fromkeys(out))


def _coerce(name: str, value: Any, source: str) -> Any:
    """Turn a value from TOML, JSON, the environment or a flag into the field's type."""
    f = _field_map().get(name)
    if f is None:
        raise SettingsError(f"{source}: unknown setting {name!r}")
    if name == "allowed_origins":
        return _origins(_coerce_value(f, name, value, source), source)
    return _coerce_value(f, name, value, source)


def _coerce_value(f: dataclasses.Field, name: str, value: Any, source: str) -> Any:
    kind = str(f.type)
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(f"expected true/false, got {value!r}")
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError("expected a whole number")
            return int(_latin_number(value))
        if kind == "float":
            return float(_latin_number(value))
        if kind == "Path":
            return Path(value).expanduser()
        if kind == "tuple[str, ...]":
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(str(v) for v in value)
        return str(value)
    except (TypeError, ValueError) as exc:
        key = {"bool": "setting.not_bool", "int": "setting.not_whole", "float": "setting.not_number"}.get(kind, "")
        raise SettingsError(f"{source}: setting {name!r}: {exc}", key, setting=name) from None


def _coerce_all(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    return {k: _coerce(k, v, source) for k, v in values.items()}


def _read_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    if "data_dir" in data:
        raise SettingsError(f"{path}: data_dir can't be set inside the data directory")
    return _coerce_all(data, source=str(path))


def _read_env(environ: Mapping[str, str]) -> dict[str, Any]:
    known = _field_map()
    out = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in known:
            out[name] = _coerce(name, value, source=key)
    return out


def load(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from all four layers. ``overrides`` are CLI flags (None = not given)."""
    environ = os.environ if environ is None else environ
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    env = _read_env(environ)
    flags = _coerce_all(flags, source="command line")

    demo = flags.get("demo", env.get("demo", False))
    if "data_dir" in flags:
        data_dir = flags["data_dir"]
    elif "data_dir" in env:
        data_dir = env["data_dir"]
    else:
        data_dir = paths.default_data_dir(demo=demo)

    merged: dict[str, Any] = {}
    merged.update(_read_file(Path(data_dir) / SETTINGS_FILE))
    merged.update(env)
    merged.update(flags)
    merged["data_dir"] = Path(data_dir).expanduser().resolve()
    return Settings(**merged)


def write_file(data_dir: Path, values: Mapping[str, Any]) -> Path:
    """Merge ``values`` into the data directory's settings.toml (used by the admin)."""
    import tomli_w

    path = Path(data_dir) / SETTINGS_FILE
    current = _read_file(path)
    current.update(_coerce_all(values, source="new settings"))
    plain = {k: (list(v) if isinstance(v, tuple) else str(v) if isinstance(v, Path) else v) for k, v in current.items()}
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(plain), encoding="utf-8")
    tmp.chmod(0o600)  # it may hold the SMTP password
    tmp.replace(path)
    return path
