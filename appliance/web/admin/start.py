"""The home page's guided start: "check my site" (is the chat's script on the owner's page?), and
the one click that adds a site to the sites allowed to show the chat, from that check or from a
refusal the loader reported (owner/checklist.py). The settings are written the way the settings
page writes them (settings.toml, then applied to the running app): the chat shows on that site
at the next page load, with no restart and no file edited by hand. The documents page's "is this
your shop's site?" adds a site the same way (``allow_origin``).

The settings page's "send a test e-mail" (``_test_mail.html``) sends one e-mail to the owner's
address through the real mailer, in a worker thread, a few an hour, and says what happened in
words: sent, refused by the server (its reason), or no connection. A success ticks the guided
start's "notifications" step.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from datetime import datetime

from litestar import Request, Response, post
from litestar.response import Redirect, Template

from appliance import i18n
from appliance import settings as settings_mod
from appliance.documents import fetch
from appliance.locale import N_
from appliance.ops import mailer
from appliance.owner import checklist
from appliance.web.admin.core import Form, Page, flash, owner_router
from appliance.web.services import AppServices, Inject

TEST_MAILS = 5  # test e-mails a quarter of an hour: enough to fix a setting and try again
TEST_MAIL_WINDOW_S = 15 * 60


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
    if result.found == "ours" and checklist.is_shop_site(result.origin, services.settings.allowed_origins):
        checklist.record_shown(services.store, result.origin, services.clock(), by="check")
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
    said = allow_origin(services, site)
    if said == N_("start.site.allowed") and data.get("found") == "ours":
        # "check my site" found the chat's script on this page a moment ago; now it is allowed.
        checklist.record_shown(services.store, site, services.clock(), by="check")
    return _back(request, said)


def allow_origin(services: AppServices, site: str) -> str:
    """Add ``site`` (already checked by settings.origin) to ``allowed_origins``: settings.toml,
    then the running app. Blocking (a worker thread). Returns the msgid that says what happened:
    ``start.site.allowed``, or ``start.site.fixed`` when the environment sets the list."""
    current = services.settings
    if f"{settings_mod.ENV_PREFIX}ALLOWED_ORIGINS" in os.environ:
        return N_("start.site.fixed")  # the environment wins over the file: say so
    if not checklist.framing_allowed(site, current.allowed_origins, current.base_url):
        allowed = [*current.allowed_origins, site]
        updated = current.replace(allowed_origins=allowed)
        settings_mod.write_file(updated.data_dir, {"allowed_origins": allowed})
        services.apply_settings(updated)
    checklist.forget_refusal(services.store, site)
    return N_("start.site.allowed")


@post("/start/dismiss-site", sync_to_thread=True, status_code=303)
def dismiss_site(request: Request, data: Form, services: Inject[AppServices]) -> Response:
    """ "Not my site": the refusal is forgotten (reported again, it comes back)."""
    checklist.forget_refusal(services.store, data.get("origin", "")[: checklist.MAX_ORIGIN_CHARS])
    return _back(request, N_("start.site.dismissed"))


@post("/start/test-mail", sync_to_thread=True, status_code=200)
def test_mail(page: Inject[Page], services: Inject[AppServices]) -> Template:
    """Send a test e-mail to the owner with the saved settings (in this worker thread: the SMTP
    conversation may take seconds) and say what happened."""
    settings = services.settings
    lang = page.lang
    missing = [name for name in ("owner_email", "smtp_host", "smtp_from") if not str(getattr(settings, name)).strip()]
    if missing:
        names = "، ".join if lang == "fa" else ", ".join
        text = i18n.t(lang, "start.mail.missing").format(
            fields=names(i18n.isolate(i18n.label(lang, "setting", n)) for n in missing)
        )
        return page("admin/_test_mail.html", mail_result={"ok": False, "text": text})
    wait = services.limiter.hit("admin:test-mail", TEST_MAILS, TEST_MAIL_WINDOW_S)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        return page(
            "admin/_test_mail.html", mail_result={"ok": False, "text": i18n.tn(lang, "start.mail.wait", minutes)}
        )
    to, host = settings.owner_email.strip(), settings.smtp_host.strip()
    shop = settings.shop_name.strip() or i18n.t(lang, "start.mail.no_name")
    now = services.clock()
    try:
        mailer.send_now(
            settings,
            to=to,
            subject=i18n.t(lang, "start.mail.subject").format(shop=shop),
            body=i18n.t(lang, "start.mail.body").format(
                shop=shop, when=i18n.when(now.isoformat(), lang, settings.timezone)
            ),
        )
    except Exception as exc:  # every way it can fail is said to the owner
        ok, text = False, _mail_failure(lang, exc, settings.smtp_host, settings.smtp_port)
    else:
        ok = True
        text = i18n.t(lang, "start.mail.sent").format(to=i18n.isolate(to))
    checklist.record_mail_test(services.store, to=to, host=host, now=_aware(now), ok=ok)
    return page("admin/_test_mail.html", mail_result={"ok": ok, "text": text})


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.astimezone()


def _mail_failure(lang: str, exc: BaseException, host: str, port: int) -> str:
    """Why the test e-mail didn't go, in words: the server's refusal with its reason, or why no
    connection was made."""
    server = i18n.isolate(f"{host}:{port}")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, said = next(iter(exc.recipients.values()), (0, b""))
        reason = f"{code} {_said(said)}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        reason = f"{exc.smtp_code} {_said(exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        return i18n.t(lang, "start.mail.no_connect").format(server=server, reason=i18n.isolate(str(exc) or "—"))
    elif isinstance(exc, smtplib.SMTPException):
        reason = str(exc)
    elif isinstance(exc, OSError):  # refused, unreachable, unknown name, timed out, TLS failed
        why = next((key for kind, key in _NO_CONNECTION if isinstance(exc, kind)), None)
        reason = i18n.t(lang, why) if why else i18n.isolate((exc.strerror or str(exc) or type(exc).__name__)[:300])
        return i18n.t(lang, "start.mail.no_connect").format(server=server, reason=reason)
    else:  # an address the mail library can't write (ValueError), or anything else
        return i18n.t(lang, "start.mail.failed").format(reason=i18n.isolate(str(exc)[:300] or type(exc).__name__))
    return i18n.t(lang, "start.mail.refused").format(server=server, reason=i18n.isolate(reason.strip()[:300]))


_NO_CONNECTION: list[tuple[type[OSError], str]] = [
    (ssl.SSLError, N_("start.mail.why.tls")),
    (socket.gaierror, N_("start.mail.why.name")),
    (ConnectionRefusedError, N_("start.mail.why.closed")),
    (TimeoutError, N_("start.mail.why.timeout")),
]


def _said(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


router = owner_router([check_site, allow_site, dismiss_site, test_mail])
