"""Wiring: the objects behind a running appliance, built in one place from the settings, and
handed to the routes through Litestar's dependency injection (``DEPENDENCIES``).

A route names what it needs as a parameter (``store: Store``, ``chat: ChatService``); the
providers below read it from the application's state, where ``start`` put it. The settings page
(``apply_settings``) and a restore (``after_restore``) change the running services here too, so
no route rebuilds anything itself. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import contextlib
import logging
import resource
from collections.abc import Callable
from typing import Annotated, Any, TypeAlias, TypeVar

from litestar.datastructures import State
from litestar.di import Dependency, Provide
from litestar.params import SkipValidationMarker

from appliance.answering.compose import Composer
from appliance.answering.decide import Decider
from appliance.answering.entry_check import EntryChecker
from appliance.answering.shop_calibration import Keeper
from appliance.catalog.match import CatalogIndex
from appliance.clock import Clock
from appliance.conversations import hours
from appliance.conversations.chat import ChatService
from appliance.conversations.presence import Presence
from appliance.conversations.push import Hub
from appliance.conversations.store import Conversations
from appliance.db import Store
from appliance.documents import store as documents_store
from appliance.kb import embedder as embedder_mod
from appliance.kb.embedder import Embedder
from appliance.kb.retrieval import RetrievalIndex
from appliance.llm.runtime import ModelRuntime, build_runtime
from appliance.owner import secret as secret_key
from appliance.owner.throttle import SignInThrottle
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
) -> ChatService:
    """The chat service. With ``calibration`` the decision follows the shop's own calibration,
    and a knowledge-base change seen by a search starts a new fit in the background."""
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
    )


def start(state: State, settings: Settings, clock: Clock, llm: ModelRuntime | None = None) -> None:
    """Open the database, start the model and build the answer pipeline into ``state`` (the
    app's lifespan calls this; ``stop`` undoes it)."""
    store = Store(settings.db_path)
    store.migrate()
    state.store = store
    state.secret = secret_key.load_or_create(settings.data_dir)
    runtime = llm if llm is not None else build_runtime(settings)
    state.llm = runtime
    runtime.start()
    keeper = Keeper(store, embedder_mod.shared(), safety=settings.answer_safety, enabled=settings.shop_calibration)
    state.calibration = keeper
    state.push = Hub(
        max_streams=room_for_streams(settings.max_open_chats),
        per_address=settings.max_open_chats_per_address,
        per_visitor=3,
    )
    state.chat = build_chat(settings, store, runtime, clock, calibration=keeper, on_said=state.push.notify)
    state.presence = Presence(store, on_change=state.push.notify_all)
    state.kb_previews = {}
    state.catalog_previews = {}
    state.document_previews = {}
    keeper.check()  # a knowledge base changed while the appliance was off gets its fit now


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


def stop(state: State) -> None:
    state.llm.close()
    state.calibration.close()
    state.store.close()


def apply_settings(state: State, updated: Settings) -> None:
    """The owner saved the settings page: the running app reads them from here on, and the
    answer pipeline is rebuilt with them (the embedder and the calibration are kept)."""
    state.settings = updated
    state.calibration.configure(safety=updated.answer_safety, enabled=updated.shop_calibration)
    state.chat = build_chat(
        updated,
        state.store,
        state.llm,
        state.clock,
        embedder=state.chat.decider.index.embedder,
        calibration=state.calibration,
        on_said=state.push.notify,
    )


def after_restore(state: State) -> None:
    """The database file was replaced: what was read from the old one is read again."""
    state.chat.decider.index.invalidate()
    if state.chat.decider.catalog is not None:
        state.chat.decider.catalog.invalidate()
    state.calibration.reload()


# -- dependency injection ---------------------------------------------------------------------

T = TypeVar("T")
# What a route asks for by its parameter's name: ``store: Inject[Store]``. Not validated: these
# are the appliance's own objects, not a client's input (and a Protocol can't be checked anyway).
Inject: TypeAlias = Annotated[T, Dependency(kind="named"), SkipValidationMarker()]


def provide_settings(state: State) -> Settings:
    return state.settings


def provide_store(state: State) -> Store:
    return state.store


def provide_clock(state: State) -> Clock:
    return state.clock


def provide_chat(state: State) -> ChatService:
    return state.chat


def provide_conversations(state: State) -> Conversations:
    return state.chat.conversations


def provide_push(state: State) -> Hub:
    return state.push


def provide_presence(state: State) -> Presence:
    return state.presence


def provide_embedder(state: State) -> Embedder:
    return state.chat.decider.index.embedder


def provide_llm(state: State) -> ModelRuntime:
    return state.llm


def provide_calibration(state: State) -> Keeper:
    return state.calibration


def provide_limiter(state: State) -> RateLimiter:
    return state.limiter


def provide_secret(state: State) -> bytes:
    return state.secret


def provide_throttle(state: State) -> SignInThrottle:
    return state.signin_throttle


DEPENDENCIES = {
    name: Provide(provider, sync_to_thread=False)
    for name, provider in {
        "settings": provide_settings,
        "store": provide_store,
        "clock": provide_clock,
        "chat": provide_chat,
        "conversations": provide_conversations,
        "push": provide_push,
        "presence": provide_presence,
        "embedder": provide_embedder,
        "llm": provide_llm,
        "calibration": provide_calibration,
        "limiter": provide_limiter,
        "secret": provide_secret,
        "throttle": provide_throttle,
    }.items()
}
