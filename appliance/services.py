"""Wiring: the objects behind a running appliance, built once from the settings."""

from __future__ import annotations

from typing import Any, Callable

import logging

from . import embedder as embedder_mod
from . import hours
from .chat import ChatService, Clock
from .compose import Composer
from .db import Store
from .decide import Decider
from .embedder import Embedder
from .retrieval import RetrievalIndex
from .settings import Settings
from .shop_calibration import Keeper

log = logging.getLogger(__name__)


def _promise(settings: Settings, clock: Clock) -> Callable[[str], str] | None:
    try:
        schedule = hours.parse(settings.business_hours, settings.holidays, settings.timezone)
    except hours.HoursError as exc:
        log.error("business_hours not used: %s", exc)
        return None
    return lambda lang: hours.promise(schedule, clock(), lang)


def build_chat(settings: Settings, store: Store, llm: Any, clock: Clock, *,
               embedder: Embedder | None = None, calibration: Keeper | None = None) -> ChatService:
    """The chat service. With ``calibration`` the decision follows the shop's own calibration,
    and a knowledge-base change seen by a search starts a new fit in the background."""
    index = RetrievalIndex(store, embedder or embedder_mod.shared(),
                           on_change=calibration.check if calibration is not None else None)
    decider = Decider(
        index,
        answer_threshold=settings.answer_threshold,
        clarify_threshold=settings.clarify_threshold,
        default_lang=settings.default_language,
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
    )
    return ChatService(store, decider, composer, clock, max_message_chars=settings.max_message_chars)
