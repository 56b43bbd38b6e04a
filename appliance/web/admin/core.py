"""The owner's admin (/admin): sign-in, home, knowledge base and the "try a question" box.

Trust boundary: the owner, behind a server-side session. Every handler here except the sign-in
page runs behind ``owner_guard``: no session → the sign-in page (an htmx request gets HX-Redirect
instead of a page fragment); an unsafe method also needs the session's CSRF token and a same-site
request. Pages and htmx fragments come from the same templates; ``HX-Request`` picks the part.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

import anyio
from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from appliance import i18n
from appliance.answering import entry_check
from appliance.answering.shop_calibration import Keeper
from appliance.clock import Clock
from appliance.conversations.chat import ChatService
from appliance.conversations.presence import Presence
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.documents import store as documents_store
from appliance.kb import formats as kb_formats
from appliance.kb import store as kb
from appliance.kb import suggestions
from appliance.kb.embedder import Embedder
from appliance.kb.entry import EntryError
from appliance.llm.runtime import ModelRuntime
from appliance.owner import account as owner
from appliance.owner import sessions as auth
from appliance.owner import throttle as signin_throttle
from appliance.owner.throttle import SignInThrottle
from appliance.reports import digest
from appliance.reports.gaps import GapFinder
from appliance.settings import Settings
from appliance.web.security import UNSAFE, is_https, is_same_origin
from appliance.web.services import Inject
from appliance.web.visitors import client_ip, network

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
# Bodies are read before anything else is known about a request: 9 MB of form fields posted to
# the sign-in page kept the server busy for 1.7 s. The sign-in and setup forms are a few fields.
SIGN_IN_BODY_BYTES = 16 * 1024
OWNER_BODY_BYTES = 1024 * 1024


class SignInRequired(HTTPException):
    status_code = 401


class Forbidden(HTTPException):
    status_code = 403


def _session_id(connection: ASGIConnection) -> str | None:
    return connection.cookies.get(auth.COOKIE)


async def owner_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    wired = connection.app.state.services
    # On the writer thread: loading a session renews it now and then, a write.
    session = await wired.store.run(auth.load, wired.store, _session_id(connection), wired.clock)
    if session is None:
        raise SignInRequired(detail="sign in")
    connection.state.session = session
    if connection.scope.get("method") in UNSAFE:
        token = connection.headers.get("x-csrf-token")
        if token is None and isinstance(connection, Request):
            field = (await connection.form()).get("csrf_token")
            token = field if isinstance(field, str) else None
        if not is_same_origin(connection) or not auth.csrf_ok(session, token):
            raise Forbidden(detail="this request did not come from your admin page")


def _to_sign_in(request: Request, exc: HTTPException) -> Response:
    target = "/admin/login"
    if request.method == "GET" and request.url.path.startswith("/admin"):
        target += "?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if request.headers.get("hx-request"):
        # htmx would swap a login page into a fragment: ask it to navigate instead.
        return Response("", status_code=401, headers={"hx-redirect": target})
    return Redirect(target, status_code=303)


def _forbidden(request: Request, exc: HTTPException) -> Response:
    return Response({"error": "csrf", "message": exc.detail}, status_code=403)


@dataclass
class Page:
    """Renders the admin's pages in the owner's language: a full page, or its fragment
    (``partial``) when htmx asks for one. Handlers get one as their ``page`` parameter."""

    request: Request
    settings: Settings
    store: Store
    clock: Clock
    conversations: Conversations
    presence: Presence

    @property
    def lang(self) -> str:
        """The owner's language, or the page's ``?lang=`` for that page only; htmx calls follow
        the page they come from. Only the switch (a POST to /admin/language) stores it: a GET
        that wrote it let any link, from any site, change the owner's language."""
        request = self.request
        explicit = request.query_params.get("lang")
        if explicit is None and request.headers.get("hx-current-url"):
            explicit = parse_qs(urlsplit(request.headers["hx-current-url"]).query).get("lang", [None])[0]
        return explicit if explicit in i18n.LANGUAGES else owner.language(self.store)

    def __call__(
        self, name: str, *, partial: str | None = None, lang: str | None = None, status: int = 200, **ctx: Any
    ) -> Template:
        request = self.request
        lang = lang or self.lang
        session = getattr(request.state, "session", None)
        template = partial if partial and request.headers.get("hx-request") else name
        return Template(
            template_name=template,
            context={
                **i18n.context(lang),
                "csrf_token": session.csrf_token if session else "",
                "shop": self.settings.shop_name,
                "path": request.url.path,
                "nav_waiting": self.conversations.waiting_count() if session else 0,
                "available": self.presence.available,
                "tz": self.settings.timezone,
                "attachment_max_bytes": self.settings.attachment_max_bytes,
                **ctx,
            },
            headers={"cache-control": "no-store", "vary": "HX-Request"},
            status_code=status,
        )


def provide_page(
    request: Request,
    settings: Inject[Settings],
    store: Inject[Store],
    clock: Inject[Clock],
    conversations: Inject[Conversations],
    presence: Inject[Presence],
) -> Page:
    return Page(request, settings, store, clock, conversations, presence)


PAGE = {"page": Provide(provide_page, sync_to_thread=False)}
PREVIEW_TTL_S = 15 * 60


def fresh_previews(previews: dict[str, tuple[float, Any]]) -> dict[str, tuple[float, Any]]:
    """Uploaded files waiting for the owner's confirmation, by token: the ones left longer than
    PREVIEW_TTL_S are dropped (the owner went away; the memory is given back)."""
    now = time.monotonic()
    for token in [t for t, (at, _) in previews.items() if now - at > PREVIEW_TTL_S]:
        del previews[token]
    return previews


Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
T = TypeVar("T")


async def parse_upload(data: dict[str, Any], parse: Callable[[bytes, str], T], default_name: str) -> T:
    """The form's ``file`` read by ``parse(content, name)`` off the event loop (a 6 MB file took
    1.3 s to parse, and /healthz waited as long). EntryError when there is no file or ``parse``
    refuses it: the page shows why in the owner's language, and nothing is stored."""
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise EntryError("", "no file was sent", "upload.no_file")
    content = await upload.read()
    name = (upload.filename or default_name).replace("\\", "/").rsplit("/", 1)[-1][:200] or default_name
    return await anyio.to_thread.run_sync(parse, content, name)


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
    return page("admin/login.html", lang=lang, next=_safe_next(next), error=None, set_up=owner.is_set_up(store))


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
        shown = page("admin/login.html", lang=lang, next=target, error=error, set_up=True, status=status)
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
    session_id, _ = auth.start(store, clock, request.headers.get("user-agent", ""), replacing=_session_id(request))
    response = Redirect(target, status_code=303)
    if device is None:
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
    sid = _session_id(request)
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


@get("/", guards=[owner_guard], sync_to_thread=True)
def home(
    page: Inject[Page],
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
    meta = dict(store.read().execute("SELECT key, value FROM meta WHERE key LIKE 'backup_last_%'").fetchall())
    found = gaps.find(store, embedder, clock())
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
    )


def mark_answer(conversations: Conversations, calibration: Keeper, conversation_id: str, data: dict[str, str]) -> None:
    """The owner's right/wrong (or no mark) on one of the bot's answers in this conversation, and a
    new fit of the shop's calibration with it; 404 for anything else."""
    try:
        found = conversations.set_verdict(
            conversation_id, int(data.get("decision_id", "")), data.get("verdict") or None
        )
    except ValueError:
        found = False
    if not found:
        raise NotFoundException()
    calibration.evidence_changed()


REVIEW_DAYS = 30  # the bot's answers offered for the owner's review: this recent


def learning(store: Store, conversations: Conversations, clock: Clock) -> dict[str, Any]:
    """What the knowledge-base page shows for learning from use: customers' wordings waiting for
    the owner, and the recent answers the bot was least sure of, to mark right or wrong."""
    db = store.read()
    review = conversations.least_sure_answers((clock() - timedelta(days=REVIEW_DAYS)).isoformat())
    titles = kb.titles(db, sorted({r["entry_id"] for r in review}))
    for r in review:
        r["title"] = titles.get(r["entry_id"], r["entry_id"])
    return {"suggested": suggestions.pending(db), "review": review}


@get("/kb", guards=[owner_guard], sync_to_thread=True)
def kb_list(
    page: Inject[Page],
    store: Inject[Store],
    conversations: Inject[Conversations],
    clock: Inject[Clock],
    q: FromQuery[str] = "",
    lang_filter: FromQuery[str] = "",
    enabled_filter: FromQuery[str] = "",
) -> Template:
    db = store.read()
    entries = kb.search(db, q) if q.strip() else kb.all_entries(db)
    if lang_filter in i18n.LANGUAGES:
        entries = [e for e in entries if e.lang == lang_filter]
    if enabled_filter in {"on", "off"}:
        entries = [e for e in entries if e.enabled == (enabled_filter == "on")]
    # A document's sections are listed on the documents page, with their document.
    sections = sum(documents_store.is_section(e.id) for e in entries)
    entries = [e for e in entries if not documents_store.is_section(e.id)]
    return page(
        "admin/kb.html",
        partial="admin/_kb_rows.html",
        entries=entries,
        document_sections=sections,
        max_bytes=kb_formats.MAX_FILE_BYTES,
        q=q,
        lang_filter=lang_filter,
        enabled_filter=enabled_filter,
        **learning(store, conversations, clock),
    )


@post("/try", guards=[owner_guard], status_code=200)
async def try_question(
    data: Form, page: Inject[Page], settings: Inject[Settings], chat: Inject[ChatService]
) -> Template:
    """What a customer asking this would get, with the scores: nothing is stored."""
    question = data.get("question", "").strip()[: settings.max_message_chars]
    if not question:
        return page("admin/_try_result.html", decision=None, reply=None, question="")
    decision, reply = await chat.preview(question)
    titles = {e.id: e.title for e in chat.decider.index.entries}
    lang = page.lang
    return page(
        "admin/_try_result.html",
        question=question,
        decision=decision,
        reply=reply,
        said=_decision_in_words(lang, decision, titles),
        ranking=[(i, titles.get(i, i)) for i in decision.ranking],
        features=json.dumps(decision.features, indent=1, ensure_ascii=False) if decision.features else "",
    )


def _decision_in_words(lang: str, decision: Any, titles: dict[str, str]) -> str:
    return decision_in_words(
        lang,
        decision.kind,
        decision.reason,
        decision.confidence,
        [e.title for e in decision.entries] if decision.kind in {"answer", "clarify"} else [],
        [titles.get(i, i) for i in decision.ranking],
    )


def decision_in_words(
    lang: str, kind: str, reason: str, confidence: float | None, chosen: list[str], ranked: list[str]
) -> str:
    """A decision as the owner reads it: "Answered with «Opening hours», 94 % sure; second
    choice «Returns»" (the scores stay folded below). ``chosen``: the titles answered with or
    offered; ``ranked``: the titles the search ranked, best first. Each title is a bidi isolate:
    a Persian title in an English sentence (or the reverse) took the figure after it along."""
    chosen, ranked = [i18n.isolate(t) for t in chosen], [i18n.isolate(t) for t in ranked]
    # What a checking model did to retrieval's decision (answering/entry_check.py), said after it.
    checked = (
        i18n.t(lang, "try.said.checked").format(why=i18n.label(lang, "reason", reason))
        if reason in entry_check.REASONS
        else ""
    )
    if kind == "answer" and chosen:
        sure = i18n.digits(round((confidence or 0) * 100), lang)
        both = i18n.t(lang, "try.said.and").join(chosen)  # two entries: a question in two parts
        text = i18n.t(lang, "try.said.answer").format(entry=both, sure=sure)
        second = [title for title in ranked if title not in chosen][:1]
        if second and not checked:
            text += i18n.t(lang, "try.said.second").format(entry=second[0])
        return text + checked
    if kind == "clarify" and chosen:
        entries = ("، " if lang == "fa" else ", ").join(f"«{title}»" for title in chosen)
        return i18n.t(lang, "try.said.clarify").format(entries=entries) + checked
    if kind == "escalate":
        text = i18n.t(lang, "try.said.escalate").format(reason=i18n.label(lang, "reason", reason))
        if ranked:
            text += i18n.t(lang, "try.said.best_guess").format(entry=ranked[0])
        return text
    return i18n.label(lang, "decision", kind)


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


def owner_router(handlers: list, dependencies: dict[str, Provide] | None = None) -> Router:
    """An /admin router whose every handler is the owner's: the guard is on the router, so a new
    handler can't forget it, and a missing session or token is answered the same way everywhere."""
    return Router(
        path="/admin",
        route_handlers=handlers,
        guards=[owner_guard],
        dependencies={**PAGE, **(dependencies or {})},
        # The largest form is a knowledge-base entry (50,000 characters, URL-encoded); an upload
        # sets its own limit on its handler.
        request_max_body_size=OWNER_BODY_BYTES,
        exception_handlers={SignInRequired: _to_sign_in, Forbidden: _forbidden},
        include_in_schema=False,
    )


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
        kb_list,
        try_question,
    ],
    exception_handlers={SignInRequired: _to_sign_in, Forbidden: _forbidden},
    include_in_schema=False,
)
