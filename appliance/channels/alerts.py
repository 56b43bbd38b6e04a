"""(being written: see the brief)"""

from __future__ import annotations

from appliance.channels.context import Context


async def run(context: Context) -> None:
    """Runs until cancelled (channels/runner.py)."""
    return None
