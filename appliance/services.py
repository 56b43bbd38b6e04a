"""Wiring: the objects behind a running appliance, built once from the settings."""

from __future__ import annotations

from typing import Any

from . import embedder as embedder_mod
from .chat import ChatService, Clock
from .compose import Composer
from .db import Store
from .decide import Decider
from .embedder import Embedder
from .retrieval import RetrievalIndex
from .settings import Settings


def build_chat(settings: Settings, store: Store, llm: Any, clock: Clock, *,
               embedder: Embedder | None = None) -> ChatService:
    index = RetrievalIndex(store, embedder or embedder_mod.shared())
    decider = Decider(
        index,
        answer_threshold=settings.answer_threshold,
        clarify_threshold=settings.clarify_threshold,
        default_lang=settings.default_language,
    )
    composer = Composer(
        llm,
        phrase_with_model=settings.phrase_with_model,
        model_languages=settings.model_languages,
        shop_name=settings.shop_name,
        max_tokens=settings.max_reply_tokens,
        typical_reply_time=settings.typical_reply_time,
    )
    return ChatService(store, decider, composer, clock, max_message_chars=settings.max_message_chars)
