"""The owner's guided start: the steps from a fresh appliance to a chat working on the shop's own
site, each ticked from what is really there (never a box the owner ticks), the sites where the
chat was refused, and "check my site".

Refused sites are reported by the chat's loader on a page whose site is not one of
``allowed_origins`` (the widget's frame would be refused there). Anyone can send such a report,
so what is kept is small and plain: a site's origin only (scheme, host, port: checked by
``settings.origin``; never a path or a query), when it was first and last reported and how many
times, for at most ``MAX_REFUSED`` sites, in one ``meta`` note (``refused_origins``) this module
alone writes. The owner's page shows them as text; allowing one is the owner's click.

"Check my site" reads the page the owner names through the documents' safe fetch (the shop's
sites, plus the one typed; private addresses only when allowed; time and size limits) and says
whether the chat's script is on it, and whether it points at this appliance.

The step "put the chat on your site" ticks from evidence, never from the settings alone (a site
allowed only for a FAQ import is not a chat on the site): the loader's status call said yes to a
page of one of ``allowed_origins`` (``record_shown``, at most once per site an hour, for at
most ``MAX_SHOWN`` sites, in the ``meta`` note ``chat_shown``), or "check my site" found the
chat's script on an allowed site. A site dropped from ``allowed_origins`` since no longer counts.
The step "notifications" ticks when an e-mail really reached the owner's address through the
server now set: a test e-mail from the settings page (``record_mail_test``, the ``meta`` note
``owner_mail_test``, a failure kept too), or a sent e-mail in the outbox (the morning digest);
the latest of these says whether it works.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from appliance import settings as settings_mod
from appliance.db import Store, read_meta, write_meta
from appliance.documents import fetch
from appliance.settings import Settings
from appliance.text.textnorm import ascii_digits

SHOWN_KEY = "chat_shown"
MAX_SHOWN = 20  # sites kept; they are the shop's allowed sites, so a handful in practice
SHOWN_EVERY_S = 3600  # a site's note is written again at most once an hour: page views are not writes
MAIL_KEY = "owner_mail_test"

REFUSED_KEY = "refused_origins"
MAX_REFUSED = 20  # sites kept; a new one past that replaces the one reported longest ago
SHOWN_REFUSED = 3  # on the home page, the most reported first
MAX_ORIGIN_CHARS = 200
SITE_MAX_BYTES = 3 * 2**20  # a shop's page; the chat's script tag is in its HTML
SITE_TIMEOUT_S = 12.0
FIVE_ENTRIES = 5


# -- the sites where the chat was refused ------------------------------------------------------


def reported_origin(header: str | None) -> str | None:
    """The site a refusal report names, as a browser writes it in its Origin header; None for
    anything else (``null`` from a file or a sandboxed frame, a path, junk, too long)."""
    if not header or len(header) > MAX_ORIGIN_CHARS:
        return None
    try:
        written = settings_mod.origin(header)
    except ValueError:
        return None
    return written if written == header.strip().lower() else None


def framing_allowed(origin: str, allowed_origins: Iterable[str], own: str) -> bool:
    """Whether the widget's frame-ancestors lets a page of ``origin`` show the chat: one of the
    shop's sites, or the appliance itself (its own front page). An http:// site stands for its
    https:// page too (CSP matches a secure upgrade of a source)."""
    return is_shop_site(origin, [*allowed_origins, own])


def is_shop_site(origin: str, allowed_origins: Iterable[str]) -> bool:
    """``origin`` is one of the shop's allowed sites (the appliance's own page is not one). An
    http:// site stands for its https:// page too."""
    origin = origin.rstrip("/").lower()
    sites = {o.rstrip("/").lower() for o in allowed_origins}
    return origin in sites or (origin.startswith("https://") and "http://" + origin[8:] in sites)


def refusals(store: Store) -> list[dict[str, Any]]:
    return [r for r in refusals_in(store.read()) if reported_origin(r.get("origin"))]


def to_show(store: Store, settings: Settings) -> list[dict[str, Any]]:
    """The refused sites the owner hasn't allowed since, the most reported first."""
    own = settings.base_url
    rows = [r for r in refusals(store) if not framing_allowed(r["origin"], settings.allowed_origins, own)]
    rows.sort(key=lambda r: (int(r.get("count", 1)), str(r.get("last", ""))), reverse=True)
    return rows[:SHOWN_REFUSED]


def record_refusal(store: Store, origin: str, now: str) -> None:
    """A page of ``origin`` was refused the chat (``origin`` already checked by reported_origin).
    On the writer thread (``await store.run(record_refusal, ...)``)."""
    with store.write() as db:
        rows = refusals_in(db)
        for row in rows:
            if row.get("origin") == origin:
                row["count"] = min(int(row.get("count", 1)) + 1, 10**9)
                row["last"] = now
                break
        else:
            rows.append({"origin": origin, "first": now, "last": now, "count": 1})
            rows.sort(key=lambda r: str(r.get("last", "")), reverse=True)
            del rows[MAX_REFUSED:]
        write_meta(db, REFUSED_KEY, json.dumps(rows, ensure_ascii=False))


def forget_refusal(store: Store, origin: str) -> None:
    """The owner allowed the site, or said it isn't theirs."""
    with store.write() as db:
        rows = [r for r in refusals_in(db) if r.get("origin") != origin]
        write_meta(db, REFUSED_KEY, json.dumps(rows, ensure_ascii=False))


def refusals_in(db: Any) -> list[dict[str, Any]]:
    raw = read_meta(db, REFUSED_KEY)
    try:
        rows = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [r for r in rows if isinstance(r, dict)]


# -- where the chat was really shown ---------------------------------------------------------


def shown_in(db: Any) -> list[dict[str, Any]]:
    """Where the chat was shown: ``{"origin", "at", "by"}`` (``by``: "loader" or "check"), the
    latest first; anything malformed in the note is skipped."""
    raw = read_meta(db, SHOWN_KEY)
    try:
        rows = json.loads(raw) if raw else []
    except ValueError:
        return []
    rows = [r for r in rows if isinstance(r, dict) and reported_origin(r.get("origin")) and _time(r.get("at"))]
    return sorted(rows, key=lambda r: _time(r["at"]) or datetime.min.replace(tzinfo=UTC), reverse=True)


def _time(value: object) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def shown_due(db: Any, origin: str, now: datetime) -> bool:
    """Whether a yes to a page of ``origin`` is worth writing down: the site was never noted, or
    its note is an hour old (a cheap read, on every status call)."""
    for row in shown_in(db):
        if row["origin"] == origin:
            at = _time(row["at"])
            return at is None or (now - at).total_seconds() >= SHOWN_EVERY_S or at > now
    return True


def record_shown(store: Store, origin: str, now: datetime, by: str = "loader") -> None:
    """The chat was shown on (or found on) a page of ``origin``, one of the shop's allowed sites
    (``origin`` already checked by reported_origin). Blocking: the writer's thread or a worker."""
    with store.write() as db:
        if by == "loader" and not shown_due(db, origin, now):
            return  # noted by a concurrent call meanwhile
        rows = [r for r in shown_in(db) if r["origin"] != origin]
        rows.insert(0, {"origin": origin, "at": now.isoformat(timespec="seconds"), "by": by})
        write_meta(db, SHOWN_KEY, json.dumps(rows[:MAX_SHOWN], ensure_ascii=False))


def shown_now(db: Any, allowed_origins: Iterable[str]) -> dict[str, Any] | None:
    """The latest place the chat was shown that is still one of the shop's sites."""
    allowed = list(allowed_origins)
    return next((r for r in shown_in(db) if is_shop_site(r["origin"], allowed)), None)


# -- whether e-mail reaches the owner ------------------------------------------------------------


def record_mail_test(store: Store, *, to: str, host: str, now: datetime, ok: bool) -> None:
    """The settings page's test e-mail to the owner: sent (``ok``) or not, to which address,
    through which server. Blocking: a worker thread."""
    note = {"to": to, "host": host, "at": now.isoformat(timespec="seconds"), "ok": ok}
    with store.write() as db:
        write_meta(db, MAIL_KEY, json.dumps(note, ensure_ascii=False))


def mail_reached_owner(db: Any, settings: Settings) -> dict[str, Any] | None:
    """``{"at", "by"}`` when the latest evidence says e-mail reaches the owner with the settings as
    they are now: a successful test e-mail to this address through this server, or an e-mail
    (the morning digest) the outbox sent to this address since; None otherwise. The outbox is
    the mailer's (ops/mailer.py): only read here."""
    to, host = settings.owner_email.strip(), settings.smtp_host.strip()
    if not to or not host:
        return None
    events: list[tuple[datetime, bool, str]] = []
    try:
        test = json.loads(read_meta(db, MAIL_KEY) or "null")
    except ValueError:
        test = None
    if isinstance(test, dict) and test.get("to") == to and test.get("host") == host and _time(test.get("at")):
        events.append((_time(test["at"]) or datetime.min.replace(tzinfo=UTC), bool(test.get("ok")), "test"))
    row = db.execute(
        "SELECT MAX(sent_at) FROM outbox WHERE to_addr = ? COLLATE NOCASE AND sent_at IS NOT NULL", [to]
    ).fetchone()
    sent = _time(row[0]) if row and row[0] else None
    if sent is not None:
        events.append((sent, True, "sent"))
    if not events:
        return None
    at, ok, by = max(events, key=lambda e: e[0])
    return {"at": at.isoformat(timespec="seconds"), "by": by} if ok else None


def notes(db: Any, settings: Settings, now: datetime) -> dict[str, Any]:
    """The facts this module keeps for the steps (Facts' ``shown``, ``mailed`` and ``now``)."""
    return {"shown": shown_now(db, settings.allowed_origins), "mailed": mail_reached_owner(db, settings), "now": now}


def minutes_since(at: object, now: datetime | None) -> int | None:
    """Whole minutes from ``at`` (ISO) to ``now``, for "2 hours ago"; None when unknown."""
    then = _time(at)
    if then is None or now is None:
        return None
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    return max(0, int((now - then).total_seconds() // 60))


# -- the guided start ---------------------------------------------------------------------------


@dataclass
class Facts:
    """What the steps are ticked from, read by the home page."""

    entries: int = 0  # enabled knowledge-base entries
    documents: int = 0  # imported documents (the FAQ page, a PDF ...)
    conversations: int = 0  # customers' conversations, of any status
    tried: bool = False  # the owner asked a question on the try page
    saved: frozenset[str] = field(default_factory=frozenset)  # settings the owner has saved
    shown: dict[str, Any] | None = None  # where and when the chat was last shown on an allowed site
    mailed: dict[str, Any] | None = None  # when an e-mail last reached the owner (notes())
    now: datetime | None = None  # for "2 hours ago"


@dataclass
class Step:
    key: str  # start.step.<key>.title / .text in the catalogs
    done: bool
    href: str
    parts: list[tuple[str, bool]] = field(default_factory=list)  # (msgid, done): what makes the step
    # what ticked it: {"site", "at", "minutes", "by"} for "site", {"at", "minutes", "by"} for "notify"
    evidence: dict[str, Any] | None = None


def saved_settings(data_dir: Path) -> frozenset[str]:
    """The settings written in settings.toml (by the settings page or by hand): the shop's hours
    count as set once the owner has saved them, even when they kept the suggested ones."""
    try:
        with open(Path(data_dir) / settings_mod.SETTINGS_FILE, "rb") as f:
            return frozenset(tomllib.load(f))
    except (OSError, tomllib.TOMLDecodeError):
        return frozenset()


def steps(settings: Settings, facts: Facts) -> list[Step]:
    named = bool(settings.shop_name.strip())
    hours = "business_hours" in facts.saved
    knowledge = facts.documents > 0 or facts.entries >= FIVE_ENTRIES
    on_site = facts.shown is not None and is_shop_site(facts.shown["origin"], settings.allowed_origins)
    tried = facts.tried or facts.conversations > 0
    email = facts.mailed is not None and bool(settings.owner_email.strip() and settings.smtp_host.strip())
    return [
        Step(
            "shop",
            named and hours,
            "/admin/settings#settings-shop",
            [("start.part.name", named), ("start.part.hours", hours)],
        ),
        Step("knowledge", knowledge, "/admin/documents"),
        Step("site", on_site, "#start-site", evidence=_evidence(facts.shown, facts.now) if on_site else None),
        Step("try", tried, "/admin/try"),
        Step(
            "notify",
            email,
            "/admin/settings#settings-email",
            evidence=_evidence(facts.mailed, facts.now) if email else None,
        ),
    ]


def _evidence(note: dict[str, Any] | None, now: datetime | None) -> dict[str, Any] | None:
    if note is None:
        return None
    return {
        "site": note.get("origin", ""),
        "at": note.get("at", ""),
        "by": note.get("by", ""),
        "minutes": minutes_since(note.get("at"), now),
    }


# -- "check my site" ----------------------------------------------------------------------------


@dataclass
class SiteCheck:
    address: str  # the page read, after redirects
    origin: str  # its site, as a browser names it (what allowed_origins holds)
    found: str  # "ours": the chat's script, from this appliance; "elsewhere": from another address; "none"
    loader: str = ""  # the script's address as written on the page ("elsewhere", "ours")
    allowed: bool = False  # the site is one of allowed_origins already


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if "widget-loader-" in src:
                self.sources.append(src.strip())


def typed_address(text: str) -> str:
    """What the owner typed, as an address: Persian digits read, https:// when no scheme."""
    text = ascii_digits(text.strip())[:500]
    if text and "://" not in text:
        text = "https://" + text.lstrip("/")
    return text


def _same_site(a: str, b: str) -> bool:
    strip = lambda h: h[4:] if h.startswith("www.") else h  # noqa: E731
    return strip(a) == strip(b)


def check_site(typed: str, settings: Settings, *, resolver: fetch.Resolver = fetch.resolve) -> SiteCheck:
    """Read the owner's page and find the chat's script on it. Blocking: from a worker thread.
    Raises fetch.FetchError (its key says why in the owner's language)."""
    url = typed_address(typed)
    first = fetch.origin_of(url)
    if first is None or urlsplit(url).username or urlsplit(url).password:
        raise fetch.FetchError(url, "not an http(s) address", "fetch.bad_address", url=url[:200])
    extra = [f"{first[0]}://{first[1]}:{first[2]}"]
    for _ in range(3):
        origins = fetch.shop_origins(settings.public_url, [*settings.allowed_origins, *extra])
        try:
            page = fetch.fetch(
                url,
                origins=origins,
                allow_private=settings.fetch_private_addresses,
                timeout_s=SITE_TIMEOUT_S,
                max_bytes=SITE_MAX_BYTES,
                resolver=resolver,
                accept="text/html,*/*;q=0.5",
            )
            break
        except fetch.FetchError as exc:
            # shop.ir sending its visitors to https://www.shop.ir is the same site: followed.
            target = fetch.origin_of(str(exc.params.get("url", ""))) if exc.key == "fetch.redirect" else None
            if target is None or not _same_site(target[1], first[1]):
                raise
            extra.append(f"{target[0]}://{target[1]}:{target[2]}")
    else:
        raise fetch.FetchError(url, "too many redirects", "fetch.too_many_redirects")
    final = fetch.origin_of(page.url) or first
    scheme, host, port = final
    origin = settings_mod.origin(f"{scheme}://{host}:{port}")
    parser = _Scripts()
    try:
        parser.feed(page.body.decode("utf-8", "replace"))
    except Exception:
        parser.sources = []
    own = fetch.origin_of(settings.base_url)
    found, loader = "none", ""
    for src in parser.sources:
        at = fetch.origin_of(urljoin(page.url, src))
        if at is not None and own is not None and at[1:] == own[1:]:
            found, loader = "ours", src
            break
        found, loader = "elsewhere", src
    return SiteCheck(
        address=page.url,
        origin=origin,
        found=found,
        loader=loader[:300],
        allowed=framing_allowed(origin, settings.allowed_origins, settings.base_url),
    )
