"""The application factory.

``create_app`` does no work until the app starts (its lifespan): opening the database, running
migrations and loading the model happen then, and are undone at shutdown. Routers are split by
trust boundary: public (health, later the widget's chat API), admin (the owner), static files.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from litestar.types import Logger, Scope

from appliance import __version__, i18n, paths
from appliance.clock import Clock, utc_now
from appliance.kb import store as kb
from appliance.kb.formats import MAX_FILE_BYTES
from appliance.llm.runtime import ModelRuntime
from appliance.locale import N_
from appliance.ops import logs as logging_setup
from appliance.ops import scheduler as scheduler_mod
from appliance.owner import account as owner_account
from appliance.settings import Settings
from appliance.text import bidi
from appliance.web import api as public_api
from appliance.web import health, services, widget
from appliance.web.admin import alerts as admin_alerts
from appliance.web.admin import analytics as admin_analytics
from appliance.web.admin import backups as admin_backups
from appliance.web.admin import catalog as admin_catalog
from appliance.web.admin import channels as admin_channels
from appliance.web.admin import documents as admin_documents
from appliance.web.admin import home as admin
from appliance.web.admin import inbox as admin_inbox
from appliance.web.admin import kb as admin_kb
from appliance.web.admin import mailbox as admin_mailbox
from appliance.web.admin import orders as admin_orders
from appliance.web.admin import settings as admin_settings
from appliance.web.admin import setup as admin_setup
from appliance.web.admin import start as admin_start
from appliance.web.admin import telegram as admin_telegram
from appliance.web.admin import triggers as admin_triggers
from appliance.web.admin import webhooks as admin_webhooks
from appliance.web.api import embed as embed_api
from appliance.web.guards import body_guard, in_progress_cap
from appliance.web.security import security_headers

log = logging.getLogger(__name__)


SETTINGS_ENV = "APPLIANCE_SETTINGS_JSON"


def _templates() -> TemplateConfig:
    env = Environment(
        loader=FileSystemLoader(paths.templates_dir()),
        autoescape=select_autoescape(default=True, default_for_string=True),
        # gettext's tags ({% trans %}); the callables come per request with the reader's catalog
        # (i18n.context: _, gettext, ngettext), so no translations are installed here.
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["digits"] = i18n.digits
    env.filters["when"] = i18n.when
    env.filters["day"] = i18n.day
    env.filters["ltr_runs"] = bidi.ltr_runs  # phones, addresses, codes read left to right in Persian
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(env))


def _log_unexpected(logger: Logger, scope: Scope, tb: list[str]) -> None:
    """Log server faults with their traceback; a client's mistake (a 4xx) is answered, not logged
    (the fuzzer, tests/test_fuzz_api.py, filled the log with 429s and 422s). A body nested
    thousands deep or not UTF-8 (answered 400 by _too_deep, _bad_encoding) is one line at WARNING:
    its traceback was 2 KB at ERROR for each such request. So is a NUL in a path (_bad_value)."""
    exc = sys.exc_info()[1]  # called from inside Litestar's except block
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return
    if isinstance(exc, RecursionError | UnicodeDecodeError) or (
        isinstance(exc, ValueError) and "null byte" in str(exc)
    ):
        logger.warning("bad request (path=%r): %s", scope.get("path"), type(exc).__name__)
        return
    logger.error("Uncaught exception (path=%r):\n%s", scope.get("path"), "".join(tb))


def _error(request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error in the shape its caller reads: JSON with a stable code for the API, a page in the
    reader's language with a way back for a browser, text elsewhere (and for htmx, whose admin
    script says it in a toast rather than swap a whole page into a fragment)."""
    if request.url.path.startswith("/api/"):
        return Response({"error": code, "message": message}, status_code=status, headers=headers or {})
    wants_page = "text/html" in request.headers.get("accept", "") and not request.headers.get("hx-request")
    if not wants_page or request.method not in ("GET", "HEAD", "POST"):
        return Response(message, status_code=status, headers=headers or {}, media_type="text/plain")
    lang = _error_language(request)
    icon, title, text = _ERROR_PAGES.get(code, _ERROR_PAGES["internal_error"])
    return Template(
        template_name="error.html",
        context={
            **i18n.context(lang),
            "status": status,
            "icon": icon,
            "title": i18n.t(lang, title),
            "text": i18n.t(lang, text),
            "admin": request.url.path.startswith("/admin"),
            "request_path": request.url.path
            if status == 404
            else "/admin/"
            if request.url.path.startswith("/admin")
            else "/",
            "other_lang": "en" if lang == "fa" else "fa",
        },
        status_code=status,
        headers={**(headers or {}), "cache-control": "no-store"},
    )


# An error page's words, by the error's code: icon, title msgid, text msgid.
_ERROR_PAGES = {
    "not_found": ("signpost-split", N_("error.not_found"), N_("error.not_found_text")),
    "too_large": ("file-earmark-x", N_("error.too_large"), N_("error.too_large_text")),
    "storage_unavailable": ("device-hdd", N_("error.storage"), N_("error.storage_text")),
    "storage_error": ("device-hdd", N_("error.storage"), N_("error.storage_text")),
    "internal_error": ("exclamation-octagon", N_("error.internal"), N_("error.internal_text")),
    "bad_path": ("signpost-split", N_("error.bad_request"), N_("error.bad_request_text")),
    "bad_encoding": ("signpost-split", N_("error.bad_request"), N_("error.bad_request_text")),
    "too_deep": ("signpost-split", N_("error.bad_request"), N_("error.bad_request_text")),
}


def _error_language(request: Request) -> str:
    """The page's ``?lang=``, else the owner's language on admin pages (read, never written; a
    failing database leaves the shop's default), else the shop's default language."""
    asked = request.query_params.get("lang")
    if asked in i18n.LANGUAGES:
        return asked
    wired = request.app.state.services
    if request.url.path.startswith("/admin"):
        try:
            return owner_account.language(wired.store)
        except Exception:  # the database is what failed: the error page must still be shown
            pass
    default = wired.settings.default_language
    return default if default in i18n.LANGUAGES else "fa"


def _storage_error(request: Request, exc: sqlite3.Error) -> Response:
    """A database that can't be written (a full disk, a failing disk) is a clear, retryable 503,
    never a 500 with a traceback: what was acknowledged before is committed, nothing is half-saved."""
    text = str(exc).lower()
    if "full" in text or "disk i/o" in text or "readonly" in text:
        code, message = (
            "storage_unavailable",
            (
                "the server can't save anything right now (its disk is full or "
                "failing); nothing was saved, please try again in a few minutes"
            ),
        )
    else:
        code, message = "storage_error", "the server's database failed; nothing was saved, please try again"
    log.error("database error on %s %s: %s", request.method, request.url.path, exc)
    return _error(request, 503, code, message, {"retry-after": "60", "cache-control": "no-store"})


def _bad_encoding(request: Request, exc: UnicodeDecodeError) -> Response:
    # msgspec raises this (not a validation error) for a body that isn't UTF-8: it was a 500.
    return _error(request, 400, "bad_encoding", "the request body is not valid UTF-8")


def _too_deep(request: Request, exc: RecursionError) -> Response:
    # msgspec gives up on JSON nested thousands deep with a RecursionError: it was a 500.
    return _error(request, 400, "too_deep", "the request body is nested too deeply")


def _bad_value(request: Request, exc: ValueError) -> Response:
    """A NUL byte in a path ("/static/%00") made the static files a 500: a 400 now. Any other
    ValueError is a bug: answered as a 500 (and logged with its traceback, as every 500 is)."""
    if "null byte" in str(exc):
        return _error(request, 400, "bad_path", "the address has a character that can't be in a path")
    return _error(request, 500, "internal_error", "something went wrong on the server")


_STATUS_ERRORS = {
    404: ("not_found", "not found"),
    413: ("too_large", f"the upload is too large (at most {MAX_FILE_BYTES // 2**20} MB)"),
}


def _status_error(request: Request, exc: HTTPException) -> Response:
    """404s from routing (no handler) and 413s from the body limit, in the caller's shape; an API
    error that carries its own code ("no_conversation") keeps it."""
    code, message = _STATUS_ERRORS[exc.status_code]
    if exc.status_code == 413 and request.url.path.startswith("/api/"):
        message = f"the request body is larger than {request.app.state.services.settings.max_request_bytes} bytes"
    own = exc.extra.get("code") if isinstance(exc.extra, dict) else None
    if own:
        code, message = own, exc.detail
    return _error(request, exc.status_code, code, message, exc.headers)


def create_app(
    settings: Settings,
    *,
    llm: ModelRuntime | None = None,
    clock: Clock | None = None,
    with_scheduler: bool = True,
    with_channels: bool = True,
) -> Litestar:
    """Build the ASGI app. ``llm`` and ``clock`` replace the real ones in tests; without
    ``with_channels`` no channel (Telegram, the mailbox, webhooks, the owner's phone) runs."""
    clock = clock or utc_now

    wired = services.AppServices(settings, clock)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        paths.ensure_data_dir(settings.data_dir)
        wired.start(llm)
        recovered = await wired.chat.recover_unanswered()
        if recovered:
            log.warning("escalated %d customer messages left unanswered by an interruption", recovered)
        # Entries saved before an upgrade (or by another embedder) get their vectors now.
        indexed = await anyio.to_thread.run_sync(
            lambda: kb.ensure_indexed(wired.store, embedder=wired.chat.decider.index.embedder)
        )
        if indexed:
            log.info("indexed %d knowledge-base entries", indexed)
        jobs = scheduler_mod.build(settings, wired.store, clock, lambda: wired.settings) if with_scheduler else None
        watch = scheduler_mod.ClockWatch(jobs).start() if jobs else None
        if jobs:
            jobs.start()
        wired.scheduler = jobs
        channels = wired.start_channels() if with_channels else None
        log.info("appliance %s started on data directory %s", __version__, settings.data_dir)
        try:
            yield
        finally:
            if channels:
                await channels.stop()
            if watch:
                watch.stop()
            if jobs:
                jobs.shutdown(wait=False)
            wired.stop()

    return Litestar(
        route_handlers=[
            health.router,
            public_api.make_router(settings),
            embed_api.router,
            widget.router,
            admin_setup.router,
            admin.router,
            admin_start.router,
            admin_kb.router,
            admin_catalog.router,
            admin_orders.router,
            admin_documents.router,
            admin_inbox.router,
            admin_backups.router,
            admin_analytics.router,
            admin_triggers.router,
            admin_settings.router,
            admin_mailbox.router,
            admin_alerts.router,
            admin_webhooks.router,
            admin_telegram.router,
            admin_channels.router,
            create_static_files_router(path="/static", directories=[paths.static_dir()]),
        ],
        lifespan=[lifespan],
        middleware=[
            # Counted before anything is read: a client holding many requests open is refused at once.
            in_progress_cap(
                settings.max_open_chats_per_address + settings.requests_per_address, settings.trusted_proxies
            ),
            body_guard(settings.body_idle_timeout_s, settings.body_total_timeout_s, settings.body_min_bytes_per_s),
        ],
        dependencies=services.DEPENDENCIES,
        state=State({"services": wired}),
        template_config=_templates(),
        before_send=[security_headers(hsts=settings.public_url.lower().startswith("https://"))],
        exception_handlers={
            sqlite3.Error: _storage_error,
            UnicodeDecodeError: _bad_encoding,
            RecursionError: _too_deep,
            ValueError: _bad_value,
            404: _status_error,
            413: _status_error,
        },
        # Our handlers live on the root logger (logging_setup); Litestar's logger feeds them, and
        # unexpected errors are logged with their traceback in production too.
        logging_config=LoggingConfig(
            configure_root_logger=False,
            loggers={"litestar": {"level": "INFO", "handlers": [], "propagate": True}},
            log_exceptions="always",
            exception_logging_handler=_log_unexpected,
        ),
        # The public API is documented (JSON only: Swagger/ReDoc pages would load scripts from a CDN).
        openapi_config=OpenAPIConfig(
            title="Support appliance chat API",
            version=__version__,
            path="/api/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        debug=False,
    )


_held_locks: list = []


def app_from_environment() -> Litestar:
    """The factory granian calls in its worker process (`appliance serve` passes the settings)."""
    raw = os.environ.get(SETTINGS_ENV)
    if raw:  # the serve command holds the instance lock for us
        settings = Settings.from_json(raw)
    else:  # started by hand: `granian --factory appliance.app:app_from_environment`
        from appliance import settings as settings_mod
        from appliance.ops.instance_lock import InstanceLock

        settings = settings_mod.load()
        # Kept for the life of the process; the kernel releases it when the process ends.
        _held_locks.append(InstanceLock(settings.data_dir).acquire())
    logging_setup.configure(settings)
    return create_app(settings)
