"""The admin's own pages: sign-in and sign-out, the owner's language, the presence switch, the
model's restart, the home page (today's figures, what waits, the knowledge gaps) and the manifest
that lets a phone add the admin to its home screen. The sign-in page and the manifest are the
only ones without a session; the rest carry ``owner_guard`` on each handler."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from litestar import Request, Response, Router, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from appliance import i18n
from appliance.answering.shop_calibration import Keeper
from appliance.clock import Clock
from appliance.conversations.presence import Presence
from appliance.conversations.store import Conversations
from appliance.db import Store, read_meta, read_meta_like
from appliance.documents import store as documents
from appliance.kb import store as kb
from appliance.kb import suggestions
from appliance.kb.embedder import Embedder
from appliance.llm.runtime import ModelRuntime
from appliance.orders import store as orders_store
from appliance.owner import account as owner
from appliance.owner import checklist
from appliance.owner import sessions as auth
from appliance.owner import throttle as signin_throttle
from appliance.owner.throttle import SignInThrottle
from appliance.reports import digest
from appliance.reports.gaps import GapFinder
from appliance.settings import Settings
from appliance.web.admin.core import (
    EXCEPTION_HANDLERS,
    OWNER_BODY_BYTES,
    PAGE,
    SIGN_IN_BODY_BYTES,
    Form,
    Page,
    cookie_session_id,
    owner_guard,
)
from appliance.web.security import is_https, is_same_origin
from appliance.web.services import Inject
from appliance.web.visitors import client_ip, network
from appliance.web.widget import snippet

# -- sign-in ------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    # Only our own admin pages: never an open redirect to another site.
    if target and target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin/"


@get("/login", sync_to_thread=True)
def login_page(
    request: Request, page: Inject[Page], store: Inject[Store], settings: Inject[Settings], next: FromQuery[str] = ""
) -> Template:
    lang = (
        page.lang
        if owner.is_set_up(store)
        else i18n.choose(
            request.query_params.get("lang"), request.headers.get("accept-language"), settings.default_language
        )
    )
    target = _safe_next(next)
    return page(
        "admin/login.html",
        lang=lang,
        next=target,
        error=None,
        set_up=owner.is_set_up(store),
        switch=_switch(lang, target),
    )


def _switch(lang: str, target: str) -> str:
    """The sign-in page in the other language, going to the same page afterwards."""
    other = "en" if lang == "fa" else "fa"
    return "/admin/login?" + urlencode({"lang": other, **({"next": target} if target != "/admin/" else {})})


@post("/login", sync_to_thread=True, status_code=200, request_max_body_size=SIGN_IN_BODY_BYTES)
def login(
    request: Request,
    data: Form,
    page: Inject[Page],
    settings: Inject[Settings],
    store: Inject[Store],
    clock: Inject[Clock],
    throttle: Inject[SignInThrottle],
    secret: Inject[bytes],
) -> Response:
    lang = i18n.choose(data.get("lang"), request.headers.get("accept-language"), settings.default_language)
    target = _safe_next(data.get("next"))

    def again(error: str, status: int, headers: dict[str, str] | None = None) -> Template:
        shown = page(
            "admin/login.html",
            lang=lang,
            next=target,
            error=error,
            set_up=True,
            status=status,
            switch=_switch(lang, target),
        )
        shown.headers.update(headers or {})
        return shown

    if not is_same_origin(request):
        return again("login.error.origin", 403)
    device = signin_throttle.known_device(secret, request.cookies.get(signin_throttle.DEVICE_COOKIE))
    # A browser that signed in before is counted as itself (an attack from its network doesn't
    # slow it down); any other by its address (IPv6 by /64).
    key = f"device:{device}" if device else network(client_ip(request, settings.trusted_proxies))
    wait = throttle.wait(key, known=device is not None)
    if wait > 0:  # even the right password waits: otherwise the delay would tell it apart
        return again("login.error.throttled", 429, {"retry-after": str(max(1, math.ceil(wait)))})
    stored = owner.password_hash(store)
    password = data.get("password", "")[: owner.MAX_PASSWORD_LENGTH]
    # Runs in a worker thread (sync_to_thread): argon2 never blocks the event loop. The try was
    # counted as a failure by ``wait`` already: tries sent at once can't all pass it.
    if stored is None or not owner.verify_password(stored, password):
        return again("login.error.wrong", 401)
    throttle.succeeded(key)
    return signed_in(Redirect(target, status_code=303), request, store, clock, secret, known_device=device is not None)


def signed_in(
    response: Response, request: Request, store: Store, clock: Clock, secret: bytes, *, known_device: bool
) -> Response:
    """``response`` with a new session's cookie (the one the browser had is ended: its id rotates
    at each sign-in), and the device cookie the sign-in throttle knows this browser by. Used by the
    sign-in and by the setup page, which signs the owner in once the password is chosen."""
    session_id, _ = auth.start(
        store, clock, request.headers.get("user-agent", ""), replacing=cookie_session_id(request)
    )
    if not known_device:
        response.set_cookie(
            signin_throttle.DEVICE_COOKIE,
            signin_throttle.new_device(secret),
            httponly=True,
            samesite="lax",
            path="/admin",
            secure=is_https(request),
            max_age=signin_throttle.DEVICE_MAX_AGE_S,
        )
    response.set_cookie(
        auth.COOKIE,
        session_id,
        httponly=True,
        samesite="lax",
        path="/admin",
        secure=is_https(request),
        max_age=int(auth.ABSOLUTE.total_seconds()),
    )
    return response


@post("/logout", guards=[owner_guard], sync_to_thread=True, status_code=200)
def logout(request: Request, store: Inject[Store]) -> Response:
    sid = cookie_session_id(request)
    if sid:
        auth.end(store, sid)
    return _signed_out()


@post("/logout-everywhere", guards=[owner_guard], sync_to_thread=True, status_code=200)
def logout_everywhere(store: Inject[Store]) -> Response:
    auth.end_all(store)
    return _signed_out()


def _signed_out() -> Response:
    response = Response("", status_code=200, headers={"hx-redirect": "/admin/login"})
    response.delete_cookie(auth.COOKIE, path="/admin")
    return response


@post("/language", guards=[owner_guard], sync_to_thread=True, status_code=200)
def set_language(request: Request, data: Form, store: Inject[Store], clock: Inject[Clock]) -> Response:
    lang = data.get("lang")
    if lang in i18n.LANGUAGES:
        owner.set_language(store, lang, clock)
    # Back to the page the owner was on, without its ?lang= (it would show the old language again).
    current = urlsplit(request.headers.get("hx-current-url", ""))
    query = urlencode([(k, v) for k, v in parse_qsl(current.query, keep_blank_values=True) if k != "lang"])
    return Response(
        "", status_code=200, headers={"hx-redirect": _safe_next(current.path + (f"?{query}" if query else ""))}
    )


@post("/presence", guards=[owner_guard], sync_to_thread=True, status_code=200)
def set_presence(data: Form, presence: Inject[Presence]) -> Response:
    """The owner's switch: available (customers' open chats say a person is online while an
    admin page is open) or away."""
    presence.set_available(data.get("available") == "1")
    return Response("", status_code=200, headers={"hx-refresh": "true"})


@post("/presence/beat", guards=[owner_guard], sync_to_thread=False, status_code=204)
def presence_beat(presence: Inject[Presence]) -> None:
    """An admin page is open and in view (its script says so every presence.BEAT_S seconds)."""
    presence.beat()


@post("/model/restart", guards=[owner_guard], sync_to_thread=True, status_code=200)
def restart_model(llm: Inject[ModelRuntime]) -> Response:
    """The owner's "start the model again" after it kept crashing or was switched off. Waits only
    for the old process to stop (a few seconds at most), not for the new one to load."""
    llm.restart()
    return Response("", status_code=200, headers={"hx-refresh": "true"})


# -- pages --------------------------------------------------------------------------------------


# The try page (web/admin/trying.py) notes here when the owner first asked it a question.
TRIED_KEY = "owner_tried_at"


def _start(store: Store, settings: Settings, conversations: Conversations, clock: Clock) -> dict[str, Any]:
    """The guided start: its steps ticked from what is there, and the sites that were refused."""
    db = store.read()
    facts = checklist.Facts(
        entries=kb.count(db, enabled_only=True),
        documents=len(documents.all_documents(db)),
        conversations=sum(conversations.counts_by_status().values()),
        tried=read_meta(db, TRIED_KEY) is not None,
        saved=checklist.saved_settings(settings.data_dir),
        **checklist.notes(db, settings, clock()),
    )
    steps = checklist.steps(settings, facts)
    return {
        "steps": steps,
        "done": sum(1 for s in steps if s.done),
        "facts": facts,
        "snippet": snippet(settings),
        "refused": checklist.to_show(store, settings),
    }


@get("/", guards=[owner_guard], sync_to_thread=True)
def home(
    page: Inject[Page],
    settings: Inject[Settings],
    store: Inject[Store],
    clock: Inject[Clock],
    conversations: Inject[Conversations],
    embedder: Inject[Embedder],
    llm: Inject[ModelRuntime],
    calibration: Inject[Keeper],
    gaps: Inject[GapFinder],
) -> Template:
    since = (clock() - timedelta(hours=24)).isoformat()
    numbers = {**conversations.figures(since), "entries": kb.count(store.read())}
    week: dict[str, Any] = {**conversations.week_of_answers((clock() - timedelta(days=7)).isoformat())}
    # The fit's estimate, the figure the settings' dial shows for the position in use.
    estimated = ((calibration.report or {}).get("estimated") or {}).get("wrong") if calibration.enabled else None
    week["estimated_wrong"] = estimated
    meta = read_meta_like(store.read(), "backup_last_%")
    found = gaps.find(store, embedder, clock())
    # A network refused for failing order lookups too often in the last day: someone guessing
    # order numbers. Nothing was told to them; the owner should still know it happened.
    guessing = orders_store.guessing(store.read(), since=since)
    return page(
        "admin/home.html",
        numbers=numbers,
        waiting=conversations.inbox("waiting", limit=10),
        model=llm.status(),
        digest=digest.latest(store),
        backup_ok=meta.get("backup_last_ok"),
        backup_error=meta.get("backup_last_error"),
        gaps=found,
        gap_titles=kb.titles(store.read(), [g.guess for g in found if g.guess]),
        suggested=suggestions.count_pending(store.read()),
        week=week,
        start=_start(store, settings, conversations, clock),
        allowed_origins=settings.allowed_origins,
        orders_guessing=sum(g.refused for g in guessing),
    )


@get("/manifest.webmanifest", sync_to_thread=False)
def manifest(settings: Inject[Settings], store: Inject[Store]) -> Response:
    """So the owner can add the admin to a phone's home screen and open it full-screen. Not behind
    the session: browsers fetch a manifest without cookies (it names the shop, nothing more)."""
    lang = owner.language(store) if owner.is_set_up(store) else settings.default_language
    title = i18n.t(lang, "admin.title")
    body = {
        "name": f"{settings.shop_name} · {title}" if settings.shop_name else title,
        "short_name": settings.shop_name or title,
        "lang": lang,
        "dir": i18n.DIRECTION[lang],
        "start_url": "/admin/",
        "scope": "/admin/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b6e4f",
        "icons": [
            {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any maskable"},
            {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
        ],
    }
    return Response(body, media_type="application/manifest+json", headers={"cache-control": "no-cache"})


router = Router(
    path="/admin",
    request_max_body_size=OWNER_BODY_BYTES,
    dependencies=PAGE,
    route_handlers=[
        manifest,
        login_page,
        login,
        logout,
        logout_everywhere,
        set_language,
        set_presence,
        presence_beat,
        restart_model,
        home,
    ],
    exception_handlers=EXCEPTION_HANDLERS,
    include_in_schema=False,
)
