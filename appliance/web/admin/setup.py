"""The owner's one-time setup link: /admin/setup?token=...

`appliance serve` prints the link on first run. The token is checked again inside the same
transaction that creates the owner, so two tabs submitting at once can't both succeed.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Template

from appliance import i18n
from appliance.clock import Clock
from appliance.db import Store
from appliance.owner import account as owner
from appliance.settings import Settings
from appliance.web.admin.core import SIGN_IN_BODY_BYTES
from appliance.web.security import is_same_origin
from appliance.web.services import Inject


def _lang(request: Request, settings: Settings, explicit: str | None) -> str:
    return i18n.choose(explicit, request.headers.get("accept-language"), settings.default_language)


def _page(name: str, lang: str, status: int = 200, **ctx: Any) -> Template:
    return Template(
        template_name=name,
        context={**i18n.context(lang), **ctx},
        status_code=status,
        headers={"cache-control": "no-store"},
    )


@get("/setup", sync_to_thread=True)
def setup_form(
    request: Request,
    settings: Inject[Settings],
    store: Inject[Store],
    clock: Inject[Clock],
    token: FromQuery[str] = "",
    lang: FromQuery[str | None] = None,
) -> Template:
    language = _lang(request, settings, lang)
    try:
        owner.check_setup_token(store, token, clock)
    except owner.SetupError as exc:
        return _page(
            "admin/setup_error.html",
            language,
            403 if exc.code != "expired" else 410,
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
) -> Template:
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
        if exc.code in {"invalid", "used", "expired"}:
            return _page("admin/setup_error.html", language, 403, error=i18n.LABELS["setup_error"][exc.code])
        return _page("admin/setup.html", language, 422, token=token, error=i18n.LABELS["setup_error"][exc.code])
    # Runs in a worker thread (sync_to_thread): argon2 never blocks the event loop.
    password_hash = owner.hash_password(password)
    try:
        owner.complete_setup(store, token, password_hash, language, clock)
    except owner.SetupError as exc:
        return _page("admin/setup_error.html", language, 403, error=i18n.LABELS["setup_error"][exc.code])
    return _page("admin/setup_done.html", language)


router = Router(
    path="/admin",
    route_handlers=[setup_form, setup_submit],
    include_in_schema=False,
    request_max_body_size=SIGN_IN_BODY_BYTES,
)
