"""The admin's toolkit, which every page of the owner's admin (/admin) is built with: the owner's
guard (``owner_guard``) and the router that puts it on every handler (``owner_router``), the page
renderer (``Page``), forms and uploads (``Form``, ``Upload``, ``parse_upload``) and uploads waiting
for the owner's confirmation (``fresh_previews``). The pages themselves are the other modules here.

Trust boundary: the owner, behind a server-side session. Every handler except the sign-in page
(home.py) runs behind ``owner_guard``: no session → the sign-in page (an htmx request gets
HX-Redirect instead of a page fragment); an unsafe method also needs the session's CSRF token and
a same-site request. Pages and htmx fragments come from the same templates; ``HX-Request`` picks
the part.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

import anyio
from litestar import Request, Response, Router
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandlersMap

from appliance import i18n
from appliance import settings as settings_mod
from appliance.clock import Clock
from appliance.conversations.presence import Presence
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.kb.entry import EntryError
from appliance.owner import account as owner
from appliance.owner import sessions as auth
from appliance.settings import Settings
from appliance.web.security import UNSAFE, is_same_origin
from appliance.web.services import Inject

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
R = TypeVar("R", bound=Response)


# Bodies are read before anything else is known about a request: 9 MB of form fields posted to
# the sign-in page kept the server busy for 1.7 s. The sign-in and setup forms are a few fields.
SIGN_IN_BODY_BYTES = 16 * 1024


OWNER_BODY_BYTES = 1024 * 1024


class SignInRequired(HTTPException):
    status_code = 401


class Forbidden(HTTPException):
    status_code = 403


def cookie_session_id(connection: ASGIConnection) -> str | None:
    return connection.cookies.get(auth.COOKIE)


async def owner_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    wired = connection.app.state.services
    # On the writer thread: loading a session renews it now and then, a write.
    session = await wired.store.run(auth.load, wired.store, cookie_session_id(connection), wired.clock)
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


def _return_to(request: Request) -> str | None:
    """The admin page the owner was on when the session ended: the page itself for a GET, the
    page the request came from for anything else (a form posted, an htmx call), so that signing
    in again brings them back to it, and to the draft the browser kept of what they typed."""
    if request.method == "GET" and not request.headers.get("hx-request"):
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    came_from = request.headers.get("hx-current-url") or request.headers.get("referer") or ""
    parts = urlsplit(came_from)
    if parts.netloc and parts.netloc != request.url.netloc:
        return None
    if not parts.path.startswith("/admin") or parts.path.startswith("/admin/login"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _to_sign_in(request: Request, exc: HTTPException) -> Response:
    target = "/admin/login"
    back = _return_to(request)
    if back:
        target += "?next=" + quote(back)
    if request.headers.get("hx-request"):
        # An htmx call (a save, a reply, a poll) doesn't navigate away from what the owner is
        # typing: the page says in place that the session ended and links to this address
        # (admin JS, "HX-Sign-In"), and the browser's draft keeps the text meanwhile.
        return Response("", status_code=401, headers={"hx-sign-in": target})
    return Redirect(target, status_code=303)


def _forbidden(request: Request, exc: HTTPException) -> Response:
    return Response({"error": "csrf", "message": exc.detail}, status_code=403)


# What a missing session or CSRF token gets, on every /admin router.
EXCEPTION_HANDLERS: ExceptionHandlersMap = {SignInRequired: _to_sign_in, Forbidden: _forbidden}


# A whole-page POST that ends in a redirect says "saved" on the page it lands on: the message's
# key rides in this short-lived cookie (only keys, never text from a request).
FLASH_COOKIE = "admin_flash"
_FLASH_KEY = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")


def toast(response: R, text: str, kind: str = "success") -> R:
    """``response`` with a toast the admin JS shows (``text`` in the owner's language) once htmx
    has swapped it: "saved", "deleted". Other HX-Trigger events already set are kept."""
    events: dict[str, Any] = {}
    existing = response.headers.get("hx-trigger")
    if existing:
        try:
            events = json.loads(existing)
        except ValueError:
            events = {name.strip(): None for name in existing.split(",")}
    events["appliance:toast"] = {"text": text, "kind": kind}
    response.headers["hx-trigger"] = json.dumps(events)  # ASCII: a header is Latin-1; JSON.parse reads \u escapes back
    return response


def flash(response: R, key: str) -> R:
    """``response`` (a redirect) with the message ``key`` shown as a toast on the next admin page."""
    if not _FLASH_KEY.match(key):
        raise ValueError(f"not a message key: {key!r}")
    response.set_cookie(FLASH_COOKIE, key, max_age=60, path="/admin", httponly=True, samesite="strict")
    return response


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
        flashed = request.cookies.get(FLASH_COOKIE)
        if flashed and (request.headers.get("hx-request") or not _FLASH_KEY.match(flashed)):
            flashed = None  # a fragment has no toast area; the whole page after it shows it
        rendered = Template(
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
                "flash": flashed,
                **ctx,
            },
            headers={"cache-control": "no-store", "vary": "HX-Request"},
            status_code=status,
        )
        if flashed:
            rendered.delete_cookie(FLASH_COOKIE, path="/admin")
        return rendered


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


def check_settings(values: dict[str, Any], lang: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Each value as the settings object takes it, or the reason it is refused (in the owner's
    language), by field: the settings page's and the Orders page's forms."""
    checked: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        try:
            checked.update(settings_mod.check({name: value}))
        except settings_mod.SettingsError as exc:
            errors[name] = i18n.refusal(lang, exc)
    return checked, errors


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
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
