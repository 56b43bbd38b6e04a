"""The one settings object.

Precedence, lowest first: the defaults below < ``settings.toml`` in the data directory <
``APPLIANCE_*`` environment variables < command-line flags. Every field describes itself
(``_doc``): what it means, and for the admin's settings page its group, whether it is secret and
whether it applies only at the next start; ``appliance settings`` and the admin read that, and
the Persian of the owner's fields is in the same catalogs as every other string (i18n). A value is
turned into the field's declared type (``typing.get_type_hints``), whatever its source.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

import jdatetime

from appliance import i18n, paths
from appliance.i18n import N_
from appliance.text.textnorm import ascii_digits

ENV_PREFIX = "APPLIANCE_"
SETTINGS_FILE = "settings.toml"
# The groups of the admin's settings page, in its order; each field names its own (``_doc``).
GROUPS = ("shop", "hours", "widget", "answers", "orders", "email", "channels", "operations")


class SettingsError(ValueError):
    """A settings value could not be understood; the message names the source and the field.
    ``key`` and ``params`` say it in the owner's language (i18n.refusal)."""

    def __init__(self, message: str, key: str = "", **params: object):
        super().__init__(message)
        self.key = key
        self.params = params


def _doc(
    text: str,
    *,
    group: str | None = None,
    secret: bool = False,
    restart: bool = False,
    choices: tuple[str, ...] = (),
    input: str = "",
    **kw: Any,
) -> Any:
    """A field that describes itself: ``text``, what it means, in English and a msgid of the
    catalogs (marked N_ so pybabel extracts it; its Persian is in locale/fa, for the admin and
    `appliance settings --lang fa`); ``group``, the admin settings page's group that shows it
    (None: not on the page); ``secret``, never shown back; ``restart``, changed on the page, it
    applies at the next start; ``choices``, the only values it takes (each has a label,
    ``setting_choice`` in locale/__init__.py, and the page shows a list of them); ``input``, how
    the page asks for it when that isn't said by its type: "time" (a time of day, checked and
    written HH:MM), "dates" (Solar Hijri dates, checked and written YYYY-MM-DD), "hours" (the
    business hours as seven days), "timezone", "model", "color", "textarea", "lines" (a list, one a line)."""
    meta = {"doc": text, "group": group, "secret": secret, "restart": restart, "choices": choices, "input": input}
    return field(metadata=meta, **kw)


@dataclass(frozen=True)
class Settings:
    # Where everything lives. Resolved before the settings file is read, so it can't be set in it.
    data_dir: Path = _doc(
        N_(
            "Directory holding the database, secret, backups, logs and owner-added models. Default: the "
            "platform's user data directory."
        ),
        default_factory=paths.default_data_dir,
    )
    demo: bool = _doc(N_("Run the bundled demo bookshop (uses its own data directory)."), default=False)

    # Network
    host: str = _doc(N_("Address to listen on. Keep 127.0.0.1 behind a reverse proxy."), default="127.0.0.1")
    port: int = _doc(N_("TCP port to listen on."), default=8750)
    public_url: str = _doc(
        N_("URL customers and the owner use to reach the appliance (printed links, e-mails). Empty: http://HOST:PORT."),
        default="",
    )
    trusted_proxies: tuple[str, ...] = _doc(
        N_("Reverse-proxy addresses whose X-Forwarded-For header is believed. Empty: none."), default=()
    )

    # Shop (the admin's settings page shows the groups in this order, and the fields in each)
    shop_name: str = _doc(N_("The shop's name, shown in the chat window and the admin."), group="shop", default="")
    default_language: str = _doc(
        N_("The language the chat uses when it can't tell which one a customer speaks."),
        group="shop",
        choices=("fa", "en"),
        default="fa",
    )
    timezone: str = _doc(
        N_("The shop's time zone: opening hours, holidays and the times the admin shows follow it."),
        group="shop",
        input="timezone",
        default="Asia/Tehran",
    )
    business_hours: str = _doc(
        N_(
            "When a person from the shop answers, day by day: a day may have two periods (closed at "
            "midday). Outside them, customers are told when you open."
        ),
        group="hours",
        input="hours",
        default="sat-wed 09:00-18:00; thu 09:00-13:00",
    )
    holidays: tuple[str, ...] = _doc(
        N_("Closed days besides the weekly ones, as Solar Hijri dates, one a line (e.g. 1405/01/01)."),
        group="hours",
        input="dates",
        default=(),
    )
    typical_reply_time: str = _doc(
        N_(
            "What customers are told about when you reply, in your own words (e.g. within two hours). "
            "Empty: worked out from the opening hours."
        ),
        group="shop",
        default="",
    )

    # Widget
    greeting_fa: str = _doc(
        N_(
            "The chat's first words to a customer who writes in Persian (empty: a short greeting with the shop's name)."
        ),
        group="widget",
        input="textarea",
        default="",
    )
    greeting_en: str = _doc(
        N_(
            "The chat's first words to a customer who writes in English (empty: a short greeting with the shop's name)."
        ),
        group="widget",
        input="textarea",
        default="",
    )
    greeting: str = _doc(
        N_(
            "The one greeting of older versions: used for the shop's default language when that language's "
            "own greeting is empty. The settings page moves it there."
        ),
        default="",
    )
    allowed_origins: tuple[str, ...] = _doc(
        N_(
            "The addresses of your website where the chat may appear, one a line, as the browser shows "
            "them (e.g. https://shop.example). On any other site the chat stays hidden."
        ),
        group="widget",
        input="lines",
        default=(),
    )
    widget_color: str = _doc(N_("The chat window's colour."), group="widget", input="color", default="#0b6e4f")
    show_sources: bool = _doc(
        N_("Under each of the bot's answers, name the knowledge-base entry it came from."), group="widget", default=True
    )
    privacy_policy_url: str = _doc(
        N_("Link to the shop's privacy policy, shown in the chat window."), group="widget", default=""
    )
    privacy_notice: str = _doc(
        N_("The privacy notice shown in the chat window (empty: a short default in the customer's language)."),
        group="widget",
        input="textarea",
        default="",
    )
    require_consent: bool = _doc(
        N_("Customers must tick 'I agree' to the privacy notice before their first message."),
        group="widget",
        default=False,
    )
    customer_photos: bool = _doc(
        N_("Customers may send a photo in the chat (a damaged parcel, the book they mean)."),
        group="widget",
        default=True,
    )
    attachment_max_mb: int = _doc(
        N_(
            "Largest photo or PDF that may be sent in a conversation, in megabytes (photos are stored "
            "smaller, at most 2000 pixels a side)."
        ),
        group="widget",
        default=8,
    )

    # Answers: the pipeline, the catalog, and which model
    shop_calibration: bool = _doc(
        N_(
            "Fit the decision to this shop's own knowledge base (in the background after every change) "
            "instead of using only the calibration shipped with the appliance."
        ),
        group="answers",
        default=True,
    )
    answer_safety: float = _doc(
        N_(
            "The most wrong answers the bot may give, as an estimated share of customers' questions (0.02 = "
            "2 %): lower is safer, higher answers more without you."
        ),
        group="answers",
        default=0.02,
    )
    phrase_with_model: bool = _doc(
        N_(
            "Let the chat model rephrase the owner's answers (checked against the owner's text before they "
            "are shown). Off by default: the bundled model's rephrasings almost never pass the checks and "
            "the customer waits for them; worth it with a larger model."
        ),
        group="answers",
        default=False,
    )
    phrase_budget_s: float = _doc(
        N_(
            "Longest a customer waits for the model's rephrasing of an answer, in seconds. Past it, or when "
            "the model is already writing another reply, the owner's text is sent at once."
        ),
        group="answers",
        default=0.8,
    )
    model_checks_answers: bool = _doc(
        N_(
            "Let the chat model check each answer before it goes out: shown the question and the top three "
            "entries, it says which answer it. An answer it doesn't pick is offered as choices, choices "
            "whose first it picks are answered, a question it says two entries answer gets both. Off by "
            "default: the bundled model picks at chance; worth it only with a larger model, measured on your "
            "own questions first."
        ),
        group="answers",
        default=False,
    )
    check_budget_s: float = _doc(
        N_(
            "Longest a customer waits for the model's check, in seconds. Past it, or when the model is "
            "already writing another reply, the bot's own choice goes out."
        ),
        group="answers",
        default=3.0,
    )
    answer_threshold: float = _doc(
        N_("How sure the bot must be, between 0 and 1, to answer from the knowledge base; 0: as calibrated."),
        group="answers",
        default=0.0,
    )
    clarify_threshold: float = _doc(
        N_(
            "How sure the bot must be, between 0 and 1, to offer choices instead of passing the question to you; 0: as calibrated."
        ),
        group="answers",
        default=0.0,
    )
    catalog_few_left: int = _doc(
        N_("When this many or fewer of a product are in stock, customers are told only a few are left."),
        group="answers",
        default=3,
    )
    catalog_missing: str = _doc(
        N_("What the bot does when a customer asks for a product the catalog doesn't have."),
        group="answers",
        choices=("closest", "handover"),
        default="closest",
    )
    catalog_feed_url: str = _doc(
        N_(
            "Address of the shop's product feed (CSV or JSON, e.g. a WooCommerce or Shopify export link), "
            "fetched on a schedule. Empty: catalogs are imported by hand only."
        ),
        group="answers",
        default="",
    )
    catalog_feed_hours: int = _doc(
        N_("Fetch the product feed every this many hours (0: never)."), group="answers", default=24
    )
    fetch_private_addresses: bool = _doc(
        N_(
            "Allow fetching pages and feeds from private or local network addresses (a shop site on the same"
            " network as the appliance). Off: only public addresses."
        ),
        group="answers",
        default=False,
    )
    model: str = _doc(
        N_(
            "The language model that writes with the bot: the one that comes with the appliance, none (answers "
            "from the knowledge base only), or a model file you added."
        ),
        group="answers",
        input="model",
        restart=True,
        default="default",
    )
    model_url: str = _doc(
        N_(
            "An OpenAI-compatible model server to use instead of a local model file (llama.cpp's "
            "llama-server, vLLM, Ollama), e.g. http://10.0.0.5:8080/v1. Empty: the local model."
        ),
        group="answers",
        restart=True,
        default="",
    )
    model_server_model: str = _doc(
        N_("Which of the server's models to use (empty: the first it lists)."),
        group="answers",
        restart=True,
        default="",
    )
    model_api_key: str = _doc(
        N_("API key for the model server (empty: none)."), group="answers", secret=True, restart=True, default=""
    )

    # Orders: where the bot reads the shop's orders when a customer asks "where is my order?"
    orders_source: str = _doc(
        N_(
            "Where the bot looks orders up when a customer asks about one: the shop's WooCommerce, a JSON "
            "address the shop already has, or a spreadsheet of orders (uploaded, or fetched from its "
            "address). None: the bot doesn't look orders up."
        ),
        group="orders",
        choices=("", "woocommerce", "json", "sheet"),
        default="",
    )
    orders_url: str = _doc(
        N_(
            "WooCommerce: the shop's site address (https://shop.example). JSON: the order's address with "
            "{order} where its number goes (https://shop.example/api/orders/{order}). Spreadsheet: the "
            "address it is fetched from on a schedule (empty: uploaded by hand only)."
        ),
        group="orders",
        default="",
    )
    orders_key: str = _doc(
        N_(
            "WooCommerce: the REST API's consumer key (ck_…, read-only is enough). JSON: the user name "
            "of the address's sign-in, if it has one. Empty: unchanged."
        ),
        group="orders",
        secret=True,
        default="",
    )
    orders_secret: str = _doc(
        N_("WooCommerce: the consumer secret (cs_…). JSON: the sign-in's password. Empty: unchanged."),
        group="orders",
        secret=True,
        default="",
    )
    orders_sheet_hours: int = _doc(
        N_("Fetch the spreadsheet of orders from its address every this many hours (0: never)."),
        group="orders",
        default=6,
    )
    orders_handover_statuses: tuple[str, ...] = _doc(
        N_(
            "Order statuses that pass the conversation to you with the order attached instead of the bot "
            "telling it (one a line: pending, processing, on-hold, completed, cancelled, refunded, failed, "
            "shipped, or your shop's own status)."
        ),
        group="orders",
        input="lines",
        default=("on-hold", "failed"),
    )
    orders_json_mapping: str = _doc(
        N_(
            "JSON address only: where each field is in its answer, one a line as field = dotted path "
            "(status = data.state, tracking_code = shipment.code, phone = customer.mobile), or as a JSON "
            "object. Fields: status, status_label, created, shipped, carrier, tracking_code, tracking_url, "
            "phone, email. A field left out is read from the same name at the top."
        ),
        group="orders",
        input="textarea",
        default="",
    )

    # Model tuning
    n_ctx: int = _doc(N_("Model context window in tokens."), default=2048)
    n_threads: int = _doc(N_("Threads for generating tokens; 0 = all cores."), default=0)
    n_threads_batch: int = _doc(N_("Threads for reading the prompt; 0 = all cores."), default=0)
    model_nice: int = _doc(
        N_(
            "Scheduling priority of the model's process (0-19, higher = yields more): customers' decisions "
            "get the CPU before the model. 19 also puts it in Linux's idle class: it runs only on CPU time "
            "nothing else wants."
        ),
        default=19,
    )
    model_queue_size: int = _doc(
        N_("Model jobs that may wait; beyond this the customer gets the knowledge-base answer at once."), default=4
    )
    model_timeout_s: float = _doc(N_("Longest a single model reply may take, in seconds."), default=30.0)
    max_reply_tokens: int = _doc(N_("Longest model reply in tokens."), default=200)
    model_languages: tuple[str, ...] = _doc(
        N_(
            "Languages the chat model writes well. Replies in other languages use the owner's text as "
            "written (the default model writes English only)."
        ),
        default=("en",),
    )

    # E-mail (owner replies to customers who left an address)
    smtp_host: str = _doc(
        N_("The mail server that sends the appliance's e-mails: the shop's own or a relay (empty: no e-mail)."),
        group="email",
        default="",
    )
    smtp_port: int = _doc(
        N_(
            "The mail server's port: usually 587; 465 for a connection encrypted from the start; 25 for a relay on this machine."
        ),
        group="email",
        default=587,
    )
    smtp_security: str = _doc(
        N_("How the connection to the mail server is protected (your mail provider says which)."),
        group="email",
        choices=("starttls", "ssl", "none"),
        default="starttls",
    )
    smtp_user: str = _doc(N_("The user name on the mail server (empty: no sign-in)."), group="email", default="")
    smtp_password: str = _doc(
        N_("The password on the mail server (kept on this appliance, readable by it only; never shown again)."),
        group="email",
        secret=True,
        default="",
    )
    smtp_from: str = _doc(N_("The From address of e-mails the appliance sends."), group="email", default="")
    owner_email: str = _doc(
        N_("Where the morning digest is e-mailed (empty: shown in the admin only)."), group="email", default=""
    )

    # Channels (group "channels"): the shop's Telegram or Bale bot (channels/telegram.py)
    bot_platform: str = _doc(
        N_("The shop's bot for customers on Telegram or Bale (off: none)."),
        group="channels",
        choices=("", "telegram", "bale"),
        default="",
    )
    bot_token: str = _doc(
        N_("The bot's token, from Telegram's BotFather or Bale's (kept on this appliance; never shown again)."),
        group="channels",
        secret=True,
        default="",
    )
    bot_api_base: str = _doc(
        N_("The bot API's address (empty: the platform's own, https://api.telegram.org or https://tapi.bale.ai)."),
        group="channels",
        default="",
    )
    # -- telegram settings end --

    # Channels: the shop's support mailbox, read over IMAP (channels/email_in.py)
    imap_host: str = _doc(
        N_("The shop's support mailbox: its IMAP server (empty: the mailbox isn't read)."),
        group="channels",
        default="",
    )
    imap_port: int = _doc(
        N_("The IMAP server's port: usually 993; 143 for a connection protected with STARTTLS or none."),
        group="channels",
        default=993,
    )
    imap_security: str = _doc(
        N_("How the connection to the IMAP server is protected (your mail provider says which)."),
        group="channels",
        choices=("ssl", "starttls", "none"),
        default="ssl",
    )
    imap_user: str = _doc(N_("The support mailbox's user name on the IMAP server."), group="channels", default="")
    imap_password: str = _doc(
        N_("The support mailbox's password (kept on this appliance, readable by it only; never shown again)."),
        group="channels",
        secret=True,
        default="",
    )
    imap_folder: str = _doc(N_("The folder customers' e-mails arrive in."), group="channels", default="INBOX")
    # -- mailbox settings end --

    # The owner's phone: who waits, told at once (channels/alerts.py)
    alerts_via: str = _doc(
        N_(
            "How you are told that a customer waits for you: a notification on the devices you turned "
            "on in Alerts, a message from the shop's bot in your own chat, both, or none."
        ),
        group="channels",
        choices=("", "push", "bot", "both"),
        default="both",
    )
    quiet_hours_from: str = _doc(
        N_("Quiet hours start (in the shop's time zone): no alerts until they end, then one summary. Empty: none."),
        group="channels",
        input="time",
        default="",
    )
    quiet_hours_until: str = _doc(
        N_("Quiet hours end (may be the next morning, e.g. 23:00 to 08:00). Empty: none."),
        group="channels",
        input="time",
        default="",
    )
    alert_waiting_minutes: int = _doc(
        N_("Remind you of a customer still waiting after this many minutes (0: no reminder)."),
        group="channels",
        default=30,
    )
    # -- alerts settings end --

    # Limits
    max_message_chars: int = _doc(N_("Longest customer message accepted, in characters."), default=2000)
    max_open_chats: int = _doc(
        N_("Open widgets the appliance keeps a live connection to (each is a socket); past it, widgets poll."),
        default=1000,
    )
    max_open_chats_per_address: int = _doc(
        N_("Open widgets from one network address (an office behind one router counts as one)."), default=50
    )
    visitor_messages_per_minute: int = _doc(N_("Messages one visitor may send a minute."), default=12)
    ip_messages_per_minute: int = _doc(N_("Messages one IP address may send a minute."), default=40)
    ip_conversations_per_day: int = _doc(N_("Conversations one IP address may start a day."), default=60)
    max_request_bytes: int = _doc(N_("Largest request body the public API accepts, in bytes."), default=16384)
    attachments_per_hour: int = _doc(N_("Photos one visitor may send an hour."), default=10)
    photos_per_address_per_day: int = _doc(
        N_(
            "Photos one network address may send a day, however many visitors it makes up (the disk's guard; a "
            "busy shop whose customers share one office or carrier address may need more)."
        ),
        default=100,
    )
    proactive_shown_per_address_per_day: int = _doc(
        N_(
            "Proactive messages one network address may be shown a day (each showing is a row written; an "
            "office of a hundred browsers each seeing a few)."
        ),
        default=500,
    )
    body_idle_timeout_s: float = _doc(
        N_("Longest pause, in seconds, while a request's body arrives (then 408)."), default=20.0
    )
    body_total_timeout_s: float = _doc(
        N_("Longest time, in seconds, a request's whole body may take (an upload on a slow line: minutes)."),
        default=300.0,
    )
    body_min_bytes_per_s: float = _doc(
        N_(
            "Slowest a request's body may arrive on average after its first 10 seconds, in bytes a second "
            "(then 408; 0: no minimum)."
        ),
        default=500.0,
    )
    requests_per_address: int = _doc(
        N_("Requests one network address may have in progress besides its open chats (then 429)."), default=20
    )

    # Operations
    log_level: str = _doc(
        N_("How much the appliance writes to its log: debug, info, warning, error."),
        choices=("debug", "info", "warning", "error"),
        default="info",
    )
    backup_time: str = _doc(
        N_("When the nightly backup is taken, by this computer's clock."),
        group="operations",
        restart=True,
        input="time",
        default="03:00",
    )
    backups_daily: int = _doc(
        N_("How many nightly backups are kept: one for each of the last days."), group="operations", default=7
    )
    backups_weekly: int = _doc(
        N_("How many weekly backups are kept besides them: one for each of the last weeks."),
        group="operations",
        default=4,
    )
    backups_monthly: int = _doc(
        N_("How many monthly backups are kept besides them: one for each of the last months."),
        group="operations",
        default=6,
    )
    # Off-site copies of the nightly backup, with restic (ops/offsite.py; set up on the backups page)
    offsite_repository: str = _doc(
        N_(
            "Where each nightly backup is also sent, encrypted (restic): a folder on another disk "
            "(/media/usb/shop), sftp:user@host:/folder, or s3:https://host/bucket. Set it up on the "
            "backups page. Empty: no off-site copies."
        ),
        group="operations",
        default="",
    )
    offsite_s3_key_id: str = _doc(
        N_("S3 storage for off-site copies: the access key ID (empty: unchanged)."),
        group="operations",
        secret=True,
        default="",
    )
    offsite_s3_secret: str = _doc(
        N_("S3 storage for off-site copies: the secret access key (empty: unchanged)."),
        group="operations",
        secret=True,
        default="",
    )
    offsite_keep_daily: int = _doc(
        N_("How many off-site copies are kept: one for each of the last days."), group="operations", default=7
    )
    offsite_keep_weekly: int = _doc(
        N_("How many weekly off-site copies are kept besides them."), group="operations", default=8
    )
    offsite_keep_monthly: int = _doc(
        N_("How many monthly off-site copies are kept besides them."), group="operations", default=12
    )
    # -- offsite settings end --
    retention_days: int = _doc(
        N_("Delete conversations untouched for this many days (0: keep them). The knowledge base is kept."),
        group="operations",
        default=365,
    )
    digest_time: str = _doc(
        N_("When the morning summary of yesterday's conversations is prepared, by this computer's clock."),
        group="operations",
        restart=True,
        input="time",
        default="07:30",
    )

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

    def greeting_for(self, lang: str) -> str:
        """The owner's greeting for a customer in ``lang``, or "" (then the built-in one): that
        language's own, else the one greeting of older versions if ``lang`` is the shop's default
        language (it was written for it: English visitors were greeted in Persian)."""
        own = {"fa": self.greeting_fa, "en": self.greeting_en}.get(lang, "").strip()
        if own:
            return own
        return self.greeting.strip() if lang == self.default_language else ""

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


@functools.cache
def _hints() -> dict[str, Any]:
    """Each field's type, evaluated (the annotations are strings here)."""
    return get_type_hints(Settings)


def describe(lang: str = "en") -> list[tuple[str, str, str]]:
    """(name, type, doc) of every field, for `appliance settings` and the admin; ``lang="fa"``:
    the Persian help (the English is the catalogs' msgid)."""
    hints = _hints()
    return [
        (
            f.name,
            _type_name(hints[f.name]),
            i18n.t(lang, f.metadata["doc"]),
        )
        for f in fields(Settings)
    ]


def owner_fields() -> list[tuple[str, list[dataclasses.Field]]]:
    """The fields the owner changes on the admin's settings page, by group, in the page's order."""
    return [(group, [f for f in fields(Settings) if f.metadata["group"] == group]) for group in GROUPS]


def _type_name(hint: Any) -> str:
    """A type as `appliance settings --explain` shows it: bool, int, float, str, Path, list, and
    "int | None" for an optional one."""
    inner = _optional(hint)
    if inner is not None:
        return f"{_type_name(inner)} | None"
    if get_origin(hint) in (list, tuple):
        return "list"
    return getattr(hint, "__name__", str(hint))


def _optional(hint: Any) -> Any:
    """X for ``X | None``, else None."""
    if get_origin(hint) in (Union, UnionType) and type(None) in get_args(hint):
        rest = [a for a in get_args(hint) if a is not type(None)]
        return rest[0] if len(rest) == 1 else None
    return None


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
                setting="allowed_origins",
            ) from None
    return tuple(dict.fromkeys(out))


def _coerce(name: str, value: Any, source: str) -> Any:
    """Turn a value from TOML, JSON, the environment or a flag into the field's type."""
    if name not in _field_map():
        raise SettingsError(f"{source}: unknown setting {name!r}")
    value = coerce_value(name, _hints()[name], value, source)
    if name == "allowed_origins":
        return _origins(value, source)
    meta = _field_map()[name].metadata
    if meta["choices"]:
        return _choice(name, value, meta["choices"], source)
    if meta["input"] == "time":
        # A time that may be left empty (quiet hours: none) has "" as its default.
        return "" if not value.strip() and _field_map()[name].default == "" else time_of_day(name, value, source)
    if meta["input"] == "dates":
        return tuple(jalali_date(name, v, source) for v in value)
    if name == "orders_url":
        return _orders_url(value, source)
    if name == "orders_handover_statuses":
        return tuple(dict.fromkeys(v.strip().lower() for v in value if v.strip()))
    if name == "orders_json_mapping":
        return orders_mapping(value, source)
    return value


def _orders_url(value: str, source: str) -> str:
    """The orders' address: empty, or http(s) with a host ({order} may stand in its path). Whether
    it is one of the shop's own sites is checked when it is read (documents/fetch.py)."""
    written = value.strip()
    parts = urlsplit(written.replace("{order}", "0"))
    if written and (parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username):
        raise SettingsError(
            f"{source}: setting 'orders_url': {value!r} is not an http(s) address",
            "setting.not_address",
            setting="orders_url",
            value=value[:200],
        )
    return written


# What the JSON address's mapping may name: the fields of appliance/orders/order.py's Order.
ORDER_FIELDS = (
    "number",
    "status",
    "status_label",
    "created",
    "shipped",
    "carrier",
    "tracking_code",
    "tracking_url",
    "phone",
    "email",
)
_PATH = re.compile(r"^[^.\s]+(\.[^.\s]+)*$")


def orders_mapping(value: str, source: str = "the settings page") -> str:
    """The JSON address's field paths: an Order field to a dotted path ("data.state"; a number
    steps into a list: "items.0.code"), typed one a line as ``field = path`` or as a JSON object;
    empty: none. Kept as a JSON object, so the page shows one form whatever was typed."""
    written = value.strip()
    if not written:
        return ""
    mapping: Any = None
    if written.startswith("{"):
        try:
            mapping = json.loads(written)
        except ValueError:
            pass
    else:
        pairs = [line.split("=", 1) for line in re.split(r"[\n,،]", written) if line.strip()]
        if all(len(p) == 2 for p in pairs):
            mapping = {k.strip(): v for k, v in pairs}
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and k in ORDER_FIELDS and isinstance(v, str) and _PATH.match(v.strip())
        for k, v in mapping.items()
    ):
        raise SettingsError(
            f"{source}: setting 'orders_json_mapping': not field = dotted path, one a line (or a JSON object)",
            "setting.bad_orders_mapping",
            setting="orders_json_mapping",
            fields=", ".join(ORDER_FIELDS),
        )
    return json.dumps({k: v.strip() for k, v in mapping.items()}, ensure_ascii=False)


def _choice(name: str, value: str, choices: tuple[str, ...], source: str) -> str:
    """One of the field's ``choices`` («فارسی» for the default language was saved, and the chat
    fell back on nothing it knew)."""
    written = value.strip().lower()
    if written not in choices:
        raise SettingsError(
            f"{source}: setting {name!r}: {value!r} is not one of {', '.join(choices)}",
            "setting.not_choice",
            setting=name,
            value=value[:100],
        )
    return written


_TIME = re.compile(r"^(\d{1,2})[:٫.](\d{2})$")


def time_of_day(name: str, value: str, source: str) -> str:
    """A time of day as ``HH:MM``, typed with Persian or Latin digits (``۳:۰۰`` is ``03:00``);
    ``25:00`` is refused (it was saved, and became 03:00 at the next start)."""
    found = _TIME.match(ascii_digits(value.strip()))
    if found and int(found.group(1)) < 24 and int(found.group(2)) < 60:
        return f"{int(found.group(1)):02d}:{found.group(2)}"
    raise SettingsError(
        f"{source}: setting {name!r}: {value!r} is not a time of day (00:00 to 23:59)",
        "setting.not_time",
        setting=name,
        value=value[:100],
    )


_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


def jalali_date(name: str, value: str, source: str) -> str:
    """A Solar Hijri date as ``YYYY-MM-DD``, typed with Persian or Latin digits and - or /
    (``۱۴۰۵/۱/۱`` is ``1405-01-01``); a date that doesn't exist (``1405-13-01``) is refused."""
    found = _DATE.match(ascii_digits(value.strip()))
    if found:
        year, month, day = (int(g) for g in found.groups())
        try:
            jdatetime.date(year, month, day)
        except ValueError:
            pass
        else:
            return f"{year:04d}-{month:02d}-{day:02d}"
    raise SettingsError(
        f"{source}: setting {name!r}: {value!r} is not a Solar Hijri date (write it like 1405-01-01)",
        "setting.not_jalali",
        setting=name,
        value=value[:100],
    )


_ITEMS = re.compile(r"[,،\n]")  # a list typed as text: commas (Latin or Persian) or one a line
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# What the owner reads when a value is refused (i18n.refusal); other types say it in English.
_NOT_A = {bool: N_("setting.not_bool"), int: N_("setting.not_whole"), float: N_("setting.not_number")}


def coerce_value(name: str, hint: Any, value: Any, source: str) -> Any:
    """``value`` as the type ``hint`` (bool, int, float, str, Path, ``X | None``, ``list[X]``,
    ``tuple[X, ...]``); SettingsError naming the source and the field otherwise."""
    inner = _optional(hint)
    if inner is not None:
        if value is None or (isinstance(value, str) and value.strip().lower() in {"", "none"}):
            return None
        return coerce_value(name, inner, value, source)
    origin = get_origin(hint)
    if origin in (list, tuple):
        item = get_args(hint)[0] if get_args(hint) else str
        if isinstance(value, str):
            value = [v.strip() for v in _ITEMS.split(value) if v.strip()]
        elif not isinstance(value, list | tuple):
            raise SettingsError(f"{source}: setting {name!r}: expected a list, got {value!r}", "", setting=name)
        items = [coerce_value(name, item, v, source) for v in value]
        return tuple(items) if origin is tuple else items
    try:
        return _scalar(hint, value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{source}: setting {name!r}: {exc}", _NOT_A.get(hint, ""), setting=name) from None


def _scalar(hint: Any, value: Any) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError(f"expected true/false, got {value!r}")
    if isinstance(value, list | tuple | dict):
        raise ValueError(f"expected one value, got {value!r}")
    if hint is int:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError(f"expected a whole number, got {value!r}")
        try:
            return int(_latin_number(value))
        except ValueError:
            raise ValueError(f"expected a whole number, got {value!r}") from None
    if hint is float:
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            return float(_latin_number(value))
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    if hint is Path:
        return Path(value).expanduser()
    if hint is str:
        return str(value)
    raise TypeError(f"settings of type {hint!r} aren't supported")


def _coerce_all(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    return {k: _coerce(k, v, source) for k, v in values.items()}


def check(values: Mapping[str, Any], source: str = "the settings page") -> dict[str, Any]:
    """``values`` as the fields take them (the admin checks each on its own, to say each refusal
    next to its field); SettingsError, with the field in its ``params``, for one that can't be."""
    return _coerce_all(values, source)


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
    # TOML has no null: a field set to None is left out, so its default (None) applies.
    plain = {
        k: (list(v) if isinstance(v, tuple) else str(v) if isinstance(v, Path) else v)
        for k, v in current.items()
        if v is not None
    }
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(plain), encoding="utf-8")
    tmp.chmod(0o600)  # it may hold the SMTP password
    tmp.replace(path)
    return path
