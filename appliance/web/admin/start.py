"""The home page's guided start: "check my site" (is the chat's script on the owner's page?), and
the one click that adds a site to the sites allowed to show the chat, from that check or from a
refusal the loader reported (owner/checklist.py). The settings are written the way the settings
page writes them (settings.toml, then applied to the running app): the chat shows on that site
at the next page load, with no restart and no file edited by hand.
"""

from __future__ import annotations

import os

from litestar import Request, Response, post
from litestar.response import Redirect, Template

from appliance import i18n
from appliance import settings as settings_mod
from appliance.documents import fetch
from appliance.locale import N_
from appliance.owner import checklist
from appliance.web.admin.core import Form, Page, flash, owner_router
from appliance.web.services import AppServices, Inject


@post("/start/check-site", sync_to_thread=True, status_code=200)
def check_site(data: Form, page: Inject[Page], services: Inject[AppServices]) -> Template:
    """Fetch the page the owner typed (in this worker thread, never on the event loop) and say
    what is on it."""
    typed = data.get("site", "").strip()
    if not typed:
        return page("admin/_site_check.html", result=None, error=i18n.t(page.lang, "start.site.empty"), typed="")
    try:
        result = checklist.check_site(typed, services.settings)
    except fetch.FetchError as exc:
        return page("admin/_site_check.html", result=None, error=i18n.refusal(page.lang, exc), typed=typed)
    return page("admin/_site_check.html", result=result, error=None, typed=typed)


def _back(request: Request, key: str) -> Response:
    response = flash(Redirect("/admin/#start-site", status_code=303), key)
    if request.headers.get("hx-request"):
        response.headers["hx-redirect"] = "/admin/#start-site"
    return response


@post("/start/allow-site", sync_to_thread=True, status_code=303)
def allow_site(request: Request, data: Form, services: Inject[AppServices]) -> Response:
    """Add the site to ``allowed_origins``: settings.toml, then the running app."""
    try:
        site = settings_mod.origin(data.get("origin", ""))
    except ValueError:
        return _back(request, N_("start.site.bad_origin"))
    current = services.settings
    if f"{settings_mod.ENV_PREFIX}ALLOWED_ORIGINS" in os.environ:
        return _back(request, N_("start.site.fixed"))  # the environment wins over the file: say so
    if not checklist.framing_allowed(site, current.allowed_origins, current.base_url):
        allowed = [*current.allowed_origins, site]
        updated = current.replace(allowed_origins=allowed)
        settings_mod.write_file(updated.data_dir, {"allowed_origins": allowed})
        services.apply_settings(updated)
    checklist.forget_refusal(services.store, site)
    return _back(request, N_("start.site.allowed"))


@post("/start/dismiss-site", sync_to_thread=True, status_code=303)
def dismiss_site(request: Request, data: Form, services: Inject[AppServices]) -> Response:
    """ "Not my site": the refusal is forgotten (reported again, it comes back)."""
    checklist.forget_refusal(services.store, data.get("origin", "")[: checklist.MAX_ORIGIN_CHARS])
    return _back(request, N_("start.site.dismissed"))


router = owner_router([check_site, allow_site, dismiss_site])
