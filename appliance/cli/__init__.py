"""The operator's interface, ``appliance``, one module per group of commands: running it
(``serve``), setting it up (``setup``), the shop's content (``content``), asking and measuring
(``quality``), the shop's data (``data``), its orders (``orders``); ``base`` holds what they share,
``evaluate`` the measuring itself."""

from appliance.cli import content, data, orders, quality, serve, setup  # noqa: F401  (each registers its commands)
from appliance.cli.base import main

__all__ = ["main"]
