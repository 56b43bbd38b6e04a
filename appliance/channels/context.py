"""What a channel's background work is given: the running appliance's parts, read when used
(the settings page and a restore replace the settings and the chat service)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appliance.clock import Clock
from appliance.conversations.chat import ChatService
from appliance.conversations.events import Bell
from appliance.db import Store
from appliance.settings import Settings


@dataclass(frozen=True)
class Context:
    store: Store
    clock: Clock
    bell: Bell
    settings: Callable[[], Settings]  # the settings in force now
    chat: Callable[[], ChatService]  # the chat service in force now
    secret: bytes  # the appliance's secret key (owner/secret.py), for signing and keyed hashes
