"""The chat widget's page (/widget), shown in an iframe on the shop's website.

The iframe isolates the chat from the shop page's CSS and scripts. Its CSP lets only the shop's
configured sites (``allowed_origins``) frame it; everything it loads comes from the appliance.
"""

from __future__ import annotations

import re

from litestar import Request, Router, get
from litestar.params import FromQuery
from litestar.response import Template

from appliance import __version__, i18n
from appliance.conversations.chat import ChatService
from appliance.conversations.presence import Presence
from appliance.settings import Settings
from appliance.web.services import Inject

# The loader shops embed (1.1: shows nothing where the chat would be refused, and says so to the
# owner); widget-loader-1.0.0.js, on shops' pages already, loads it.
WIDGET_VERSION = "1.1.0"
CHAT_VERSION = "1.4.1"  # the chat's script in the iframe (1.1: pushed replies, presence; 1.2: photos, the shop speaking first; 1.3: choices with their answers, photo refusals, linear page patterns; 1.4: phones, addresses and codes isolated left to right; 1.4.1: Latin phrases in Persian text)
CHAT_STYLE_VERSION = "1.4.0"  # its stylesheet, renamed only when it changes: browsers keep their copy
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d+)?$")


def snippet(settings: Settings) -> str:
    """The script tag the owner puts on the shop's pages (the configured address, never the
    request's Host header, which anyone can set)."""
    return (
        f'<script src="{settings.base_url}/static/widget-loader-{WIDGET_VERSION}.js" async '
        f'data-lang="auto" data-position="right" data-color="{settings.widget_color}"></script>'
    )


def widget_csp(allowed_origins: tuple[str, ...]) -> str:
    origins = " ".join(o.rstrip("/") for o in allowed_origins if _ORIGIN.match(o.rstrip("/")))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; form-action 'none'; base-uri 'none'; object-src 'none'; "
        f"frame-ancestors 'self' {origins}".strip()
    )


class _Keep(dict):
    """Placeholders other than the shop's name are the chat script's to fill ("{when}")."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def strings(lang: str, shop: str) -> dict[str, str]:
    return {
        key[len("widget.") :]: i18n.t(lang, key).format_map(_Keep(shop=shop))
        for key in i18n.WIDGET
        if key.startswith("widget.")
    }


@get("/widget", sync_to_thread=False, include_in_schema=False)
def widget_page(
    request: Request,
    settings: Inject[Settings],
    presence: Inject[Presence],
    chat: Inject[ChatService],
    lang: FromQuery[str] = "auto",
    color: FromQuery[str] = "",
) -> Template:
    chosen = i18n.choose(
        lang if lang in i18n.LANGUAGES else None, request.headers.get("accept-language"), settings.default_language
    )
    shop = settings.shop_name or i18n.t(chosen, "bot.the_shop")
    colour = color if _COLOUR.match(color) else settings.widget_color
    return Template(
        template_name="widget.html",
        context={
            **i18n.context(chosen),
            "shop": shop,
            "colour": colour if _COLOUR.match(colour) else "#0b6e4f",
            "privacy_url": settings.privacy_policy_url
            if settings.privacy_policy_url.startswith(("https://", "http://"))
            else "",
            "strings": strings(chosen, shop),
            # Said before the customer writes: a person is online, or when one will reply.
            "person_online": presence.online,
            "photos": settings.customer_photos,
            "photo_max_bytes": settings.attachment_max_bytes,
            "reply_by": chat.composer.reply_by(chosen),
            # From the settings only: a greeting taken from the address let anyone link to the
            # shop's chat saying whatever they liked in the shop's name (a phishing line).
            # In the customer's language: the owner's greeting for it, or the built-in one.
            "greeting": settings.greeting_for(chosen) or i18n.t(chosen, "bot.greeting").format(shop=shop),
            "version": WIDGET_VERSION,
            "chat_version": CHAT_VERSION,
            "chat_style_version": CHAT_STYLE_VERSION,
            "privacy_notice": settings.privacy_notice,
            "require_consent": settings.require_consent,
            "app_version": __version__,
        },
        headers={"content-security-policy": widget_csp(settings.allowed_origins), "cache-control": "no-store"},
    )


@get("/", sync_to_thread=False, include_in_schema=False)
def home(request: Request, settings: Inject[Settings], lang: FromQuery[str] = "") -> Template:
    """The appliance's own front page: the chat on a plain page, and the snippet for the shop's site."""
    lang = i18n.choose(
        lang if lang in i18n.LANGUAGES else None, request.headers.get("accept-language"), settings.default_language
    )
    return Template(
        template_name="home.html",
        context={
            **i18n.context(lang),
            "shop": settings.shop_name or i18n.t(lang, "bot.the_shop"),
            "snippet": snippet(settings),
            "switch": f"/?lang={'en' if lang == 'fa' else 'fa'}",
            "version": WIDGET_VERSION,
            "chat_version": CHAT_VERSION,
        },
        headers={"cache-control": "no-store"},
    )


router = Router(path="/", route_handlers=[widget_page, home])
