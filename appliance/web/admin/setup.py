"""The owner's one-time setup link: /admin/setup?token=...

`appliance serve` prints the link on first run. The token is checked again inside the same
transaction that creates the owner, so two tabs submitting at once can't both succeed. Once the
password is chosen the owner is signed in and lands on the home page's guided start (they had to
sign in again with the password they had just typed).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from appliance import i18n
from appliance.clock import Clock
from appliance.db import Store
from appliance.locale import N_
from appliance.owner import account as owner
from appliance.owner import sessions as auth
from appliance.owner import throttle as signin_throttle
from appliance.settings import Settings
from appliance.web.admin.core import SIGN_IN_BODY_BYTES, flash
from appliance.web.admin.home import signed_in
from appliance.web.security import is_same_origin
from appliance.web.services import Inject


def _lang(request: Request, settings: Settings, explicit: str | None) -> str:
    return i18n.choose(explicit, request.headers.get("accept-language"), settings.default_language)


def _page(name: str, lang: str, status: int = 200, *, token: str = "", **ctx: Any) -> Template:
    other = "en" if lang == "fa" else "fa"
    switch = f"/admin/setup?{urlencode({'token': token, 'lang': other})}" if token else f"/admin/setup?lang={other}"
    return Template(
        template_name=name,
        context={**i18n.context(lang), "token": token, "switch": switch, "shop": "", **ctx},
        status_code=status,
        headers={"cache-control": "no-store"},
    )


def _already_set_up(request: Request, store: Store, clock: Clock, explicit: str | None) -> Response:
    """A setup link opened once the password is chosen (the link in an old e-mail, the browser's
    history): a signed-in owner goes to the home page; anyone else is told, in the owner's own
    language, to sign in, or to run reset-password if the password is forgotten (setup-link
    prints nothing any more)."""
    if auth.load(store, request.cookies.get(auth.COOKIE), clock) is not None:
        return Redirect("/admin/", status_code=303)
    language = explicit if explicit in i18n.LANGUAGES else owner.language(store)
    return _page("admin/setup_error.html", language, 403, error=N_("setup.error.done"), set_up=True)


@get("/setup", sync_to_thread=True)
def setup_form(
    request: Request,
    settings: Inject[Settings],
    store: Inject[Store],
    clock: Inject[Clock],
    token: FromQuery[str] = "",
    lang: FromQuery[str | None] = None,
) -> Response:
    language = _lang(request, settings, lang)
    try:
        owner.check_setup_token(store, token, clock)
    except owner.SetupError as exc:
        if owner.is_set_up(store):
            return _already_set_up(request, store, clock, lang)
        return _page(
            "admin/setup_error.html",
            language,
            403 if exc.code != "expired" else 410,
            token=token[:200],
            error=i18n.LABELS["setup_error"][exc.code],
        )
    return _page("admin/setup.html", language, token=token, error=None)


@post("/setup", sync_to_thread=True, status_code=200, request_max_body_size=SIGN_IN_BODY_BYTES)
def setup_submit(
    request: Request,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    settings: Inject[Settings],
    store: Inject[Store],
    clock: Inject[Clock],
    secret: Inject[bytes],
) -> Response:
    language = _lang(request, settings, data.get("lang"))
    token = data.get("token", "")
    if not is_same_origin(request):
        return _page("admin/setup_error.html", language, 403, error="setup.error.origin")
    password, confirm = data.get("password", ""), data.get("confirm", "")
    try:
        owner.check_setup_token(store, token, clock)
        if password != confirm:
            raise owner.SetupError("mismatch")
        owner.validate_password(password)
    except owner.SetupError as exc:
        if exc.code in {"invalid", "used", "expired"} and owner.is_set_up(store):
            return _already_set_up(request, store, clock, data.get("lang"))
        if exc.code in {"invalid", "used", "expired"}:
            return _page("admin/setup_error.html", language, 403, error=i18n.LABELS["setup_error"][exc.code])
        return _page("admin/setup.html", language, 422, token=token, error=i18n.LABELS["setup_error"][exc.code])
    # Runs in a worker thread (sync_to_thread): argon2 never blocks the event loop.
    password_hash = owner.hash_password(password)
    try:
        owner.complete_setup(store, token, password_hash, language, clock)
    except owner.SetupError as exc:
        if owner.is_set_up(store):  # another tab chose the password a moment before
            return _already_set_up(request, store, clock, data.get("lang"))
        return _page("admin/setup_error.html", language, 403, error=i18n.LABELS["setup_error"][exc.code])
    device = signin_throttle.known_device(secret, request.cookies.get(signin_throttle.DEVICE_COOKIE))
    welcome = flash(Redirect("/admin/", status_code=303), N_("start.welcome"))
    return signed_in(welcome, request, store, clock, secret, known_device=device is not None)


router = Router(
    path="/admin",
    route_handlers=[setup_form, setup_submit],
    include_in_schema=False,
    request_max_body_size=SIGN_IN_BODY_BYTES,
)
