"""Wiring: the objects behind a running appliance, built in one place from the settings, and
held once on the app's state as ``AppServices`` and handed to the routes through Litestar's
dependency injection (``DEPENDENCIES``).

A route names what it needs as a parameter (``store: Store``, ``chat: ChatService``); the
providers below read it from ``state.services``. The settings page (``apply_settings``) and a
restore (``after_restore``) change the running services through it too, so no route rebuilds
anything itself. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import contextlib
import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeAlias, TypeVar

from litestar.datastructures import State
from litestar.di import Dependency, Provide
from litestar.params import SkipValidationMarker

from appliance.answering.compose import Composer
from appliance.answering.decide import Decider
from appliance.answering.entry_check import EntryChecker
from appliance.answering.shop_calibration import Keeper
from appliance.catalog.match import CatalogIndex
from appliance.channels.context import Context
from appliance.channels.runner import Runner
from appliance.clock import Clock
from appliance.conversations import hours
from appliance.conversations.attachments import PhotoTurns
from appliance.conversations.chat import ChatService, InFlight
from appliance.conversations.events import Bell
from appliance.conversations.order_desk import OrderDesk
from appliance.conversations.presence import Presence
from appliance.conversations.push import Hub
from appliance.db import Store
from appliance.documents import store as documents_store
from appliance.kb import embedder as embedder_mod
from appliance.kb.embedder import Embedder
from appliance.kb.retrieval import RetrievalIndex
from appliance.llm.runtime import ModelRuntime, build_runtime
from appliance.ops.jobs import Jobs
from appliance.orders.sources import source_from
from appliance.owner import secret as secret_key
from appliance.owner.throttle import SignInThrottle
from appliance.reports.gaps import GapFinder
from appliance.settings import Settings
from appliance.web.limits import RateLimiter

log = logging.getLogger(__name__)


def _promise(settings: Settings, clock: Clock) -> Callable[[str], str] | None:
    try:
        schedule = hours.parse(settings.business_hours, settings.holidays, settings.timezone)
    except hours.HoursError as exc:
        log.error("business_hours not used: %s", exc)
        return None
    return lambda lang: hours.promise(schedule, clock(), lang)


def build_chat(
    settings: Settings,
    store: Store,
    llm: Any,
    clock: Clock,
    *,
    embedder: Embedder | None = None,
    calibration: Keeper | None = None,
    on_said: Callable[[str], None] | None = None,
    in_flight: InFlight | None = None,
    person_online: Callable[[], bool] | None = None,
    bell: Bell | None = None,
) -> ChatService:
    """The chat service. With ``calibration`` the decision follows the shop's own calibration,
    and a knowledge-base change seen by a search starts a new fit in the background. With
    ``in_flight``, the answers a predecessor is still working out are this one's too (a retried
    send finds them)."""
    index = RetrievalIndex(
        store, embedder or embedder_mod.shared(), on_change=calibration.check if calibration is not None else None
    )
    decider = Decider(
        index,
        answer_threshold=settings.answer_threshold,
        clarify_threshold=settings.clarify_threshold,
        default_lang=settings.default_language,
        catalog=CatalogIndex(store),
        missing_product=settings.catalog_missing,
    )
    if calibration is not None:
        calibration.attach(decider)
    composer = Composer(
        llm,
        phrase_with_model=settings.phrase_with_model,
        phrase_budget_s=settings.phrase_budget_s,
        model_languages=settings.model_languages,
        shop_name=settings.shop_name,
        max_tokens=settings.max_reply_tokens,
        typical_reply_time=settings.typical_reply_time,
        reply_promise=_promise(settings, clock),
        person_online=person_online,
        few_left=settings.catalog_few_left,
        document_of=lambda entry_id: documents_store.of_sections(store.read(), [entry_id]).get(entry_id),
    )
    checker = (
        EntryChecker(llm, index.get, languages=settings.model_languages, budget_s=settings.check_budget_s)
        if settings.model_checks_answers
        else None
    )
    return ChatService(
        store,
        decider,
        composer,
        clock,
        checker=checker,
        max_message_chars=settings.max_message_chars,
        on_said=on_said,
        in_flight=in_flight,
        desk=_order_desk(settings, store, clock, composer),
        bell=bell,
    )


def _order_desk(settings: Settings, store: Store, clock: Clock, composer: Composer) -> OrderDesk | None:
    """The chat's order desk, when the owner has chosen where orders are read (none: order
    questions are the knowledge base's, as before). The source is made at each lookup, so a
    source that can't be built (a WooCommerce shop without its key yet) is "can't look orders up
    now" for the customer and a hand-over, never a broken chat."""
    if not settings.orders_source:
        return None
    return OrderDesk(
        store,
        clock,
        source=lambda: source_from(settings, store),
        source_name=settings.orders_source,
        handover_statuses=settings.orders_handover_statuses,
        shop_name=settings.shop_name,
        reply_by=composer.reply_by,
        default_lang=settings.default_language,
    )


@dataclass(eq=False)
class AppServices:
    """Everything a running appliance holds, in one typed place: built by ``create_app`` with what
    needs no I/O, completed by ``start`` in the app's lifespan (the database, the model, the
    answer pipeline), and kept once on the app's state as ``state.services``. Routes never read
    it whole from the state: they name what they need (``store: Inject[Store]``) and the
    providers below hand it over."""

    settings: Settings
    clock: Clock
    limiter: RateLimiter = field(default_factory=RateLimiter)
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    gaps: GapFinder = field(default_factory=GapFinder)
    # Files read for a preview, waiting for the owner's "import" (token -> (when, what was read)).
    kb_previews: dict[str, tuple[float, Any]] = field(default_factory=dict)
    catalog_previews: dict[str, tuple[float, Any]] = field(default_factory=dict)
    document_previews: dict[str, tuple[float, Any]] = field(default_factory=dict)
    # Imports the owner started, running in threads of their own (ops/jobs.py).
    jobs: Jobs = field(default_factory=Jobs)
    scheduler: Any = None  # apscheduler's BackgroundScheduler, when the app runs its jobs
    # Photos drawn at once, made on the event loop that uses it (its semaphore belongs to that loop).
    photo_turns: PhotoTurns | None = None
    # Rung when something happened in a customer's conversation (conversations/events.py).
    bell: Bell = field(default_factory=Bell)
    # Built by start():
    store: Store = field(init=False)
    secret: bytes = field(init=False)
    llm: ModelRuntime = field(init=False)
    calibration: Keeper = field(init=False)
    push: Hub = field(init=False)
    chat: ChatService = field(init=False)
    presence: Presence = field(init=False)
    channels: Runner | None = None  # the channels' background work, when the app runs it

    def start(self, llm: ModelRuntime | None = None) -> None:
        """Open the database, start the model and build the answer pipeline (the app's lifespan
        calls this; ``stop`` undoes it)."""
        settings = self.settings
        store = Store(settings.db_path)
        store.migrate()
        self.store = store
        self.secret = secret_key.load_or_create(settings.data_dir)
        runtime = llm if llm is not None else build_runtime(settings)
        self.llm = runtime
        runtime.start()
        keeper = Keeper(store, embedder_mod.shared(), safety=settings.answer_safety, enabled=settings.shop_calibration)
        self.calibration = keeper
        self.push = Hub(
            max_streams=room_for_streams(settings.max_open_chats),
            per_address=settings.max_open_chats_per_address,
            per_visitor=3,
        )
        self.presence = Presence(store, on_change=self.push.notify_all)
        self.chat = build_chat(
            settings,
            store,
            runtime,
            self.clock,
            calibration=keeper,
            on_said=self.push.notify,
            person_online=lambda: self.presence.online,  # the widget's header and a hand-over agree
            bell=self.bell,
        )
        keeper.check()  # a knowledge base changed while the appliance was off gets its fit now

    def start_channels(self) -> Runner:
        """The channels' background work on the running loop (channels/runner.py)."""
        runner = Runner(
            Context(
                store=self.store,
                clock=self.clock,
                bell=self.bell,
                settings=lambda: self.settings,
                chat=lambda: self.chat,
                secret=self.secret,
            )
        )
        runner.start()
        self.channels = runner
        return runner

    def stop(self) -> None:
        self.jobs.wait(60)  # an import in flight finishes its transaction before the file closes
        self.llm.close()
        self.calibration.close()
        self.store.close()

    def apply_settings(self, updated: Settings) -> None:
        """The owner saved the settings page: the running app reads them from here on, and the
        answer pipeline is rebuilt with them (the embedder and the calibration are kept)."""
        self.settings = updated
        self.calibration.configure(safety=updated.answer_safety, enabled=updated.shop_calibration)
        self.chat = build_chat(
            updated,
            self.store,
            self.llm,
            self.clock,
            embedder=self.chat.decider.index.embedder,
            calibration=self.calibration,
            on_said=self.push.notify,
            in_flight=self.chat.in_flight,
            person_online=lambda: self.presence.online,
            bell=self.bell,
        )

    def after_restore(self) -> None:
        """The database file was replaced: what was read from the old one is read again."""
        self.chat.decider.index.invalidate()
        if self.chat.decider.catalog is not None:
            self.chat.decider.catalog.invalidate()
        self.calibration.reload()


def room_for_streams(wanted: int) -> int:
    """How many open chats this process can hold. Each holds a socket (a file descriptor), and a
    service starts with few: systemd gives 1,024 of a hard 524,288. The soft limit is raised to
    the hard one (at most 65,536), and the number of streams fitted in it with room for the
    database, the model's pipes and the admin (measured: 500 streams, 691 descriptors)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    room = max(10, (int(soft) - 256) // 2) if soft != resource.RLIM_INFINITY else wanted
    if room < wanted:
        log.warning("open files are limited to %s: at most %d open chats (max_open_chats %d)", soft, room, wanted)
    return min(wanted, room)


# -- dependency injection ---------------------------------------------------------------------

T = TypeVar("T")
# What a route asks for by its parameter's name: ``store: Inject[Store]``. Not validated: these
# are the appliance's own objects, not a client's input (and a Protocol can't be checked anyway).
Inject: TypeAlias = Annotated[T, Dependency(kind="named"), SkipValidationMarker()]


def _provider(path: str) -> Callable[[State], Any]:
    """Hands a route ``state.services.<path>`` (read at each request: the settings page and a
    restore replace what it holds)."""
    parts = [part for part in path.split(".") if part]

    def provide(state: State) -> Any:
        found: Any = state.services
        for part in parts:
            found = getattr(found, part)
        return found

    return provide


# A route's parameter name -> where in AppServices its object is.
PROVIDED = {
    "services": "",
    "settings": "settings",
    "store": "store",
    "clock": "clock",
    "chat": "chat",
    "conversations": "chat.conversations",
    "push": "push",
    "presence": "presence",
    "embedder": "chat.decider.index.embedder",
    "llm": "llm",
    "calibration": "calibration",
    "limiter": "limiter",
    "secret": "secret",
    "throttle": "throttle",
    "gaps": "gaps",
}
DEPENDENCIES = {name: Provide(_provider(path), sync_to_thread=False) for name, path in PROVIDED.items()}
