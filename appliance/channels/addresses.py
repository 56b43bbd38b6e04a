"""Addresses the channels send to: what counts as this machine (plain http is allowed only there,
for the shop's own program beside the appliance and for tests; anything else would carry customers'
words in clear over the network)."""

from __future__ import annotations

import ipaddress


def loopback(host: str) -> bool:
    """``host`` (a URL's hostname, lower case) is this machine: localhost, 127.0.0.0/8 or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
