"""Slowing down password guessing without locking the owner out.

A hard limit for everyone together let fifty failed sign-ins from anywhere (five from each of ten
addresses) shut the owner out everywhere for a quarter of an hour, renewable at will. Instead:

- **Per client, growing delays.** A client is an IPv4 address or an IPv6 /64 (visitors.network:
  one home or phone line holds a whole /64, so counting single IPv6 addresses counted nothing). The first
  ``FREE_FAILURES`` failures cost nothing; each one after that doubles the wait before the next
  try, from 1 s up to ``MAX_DELAY_S``.
- **For everyone together, spacing instead of a lock.** Past ``GLOBAL_FREE`` failures in
  ``GLOBAL_WINDOW_S``, tries from devices the appliance doesn't know are spaced out (a few
  seconds, at most ``GLOBAL_MAX_SPACING_S``): a spread-out guessing attack crawls, and the owner
  waits seconds, not minutes.
- **Known devices.** A browser the owner signed in from before carries a signed cookie
  (``DEVICE_COOKIE``); it is counted as itself, not by its address, and never waits for the
  spacing. It still needs the password: the cookie only says "this browser signed in before".

A try is counted as a failure when it is let through, under the lock, before the password is
checked (argon2, slow on purpose, in a worker thread); ``succeeded`` takes it back. Counted after
the check, thirty wrong passwords sent at once all passed the wait before the first was counted:
ten were checked instead of five, and each expiry let another burst through.

In memory, like the other rate limits (one process by design); a restart forgets it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

FREE_FAILURES = 5
MAX_DELAY_S = 15 * 60
GLOBAL_FREE = 50
GLOBAL_WINDOW_S = 15 * 60
GLOBAL_MAX_SPACING_S = 30
MAX_CLIENTS = 10_000  # least recently seen forgotten first: memory stays bounded under a flood

DEVICE_COOKIE = "appliance_device"
DEVICE_MAX_AGE_S = 365 * 24 * 3600


def new_device(secret: bytes) -> str:
    """A device cookie's value: a random id and its signature."""
    device = secrets.token_urlsafe(16)
    return f"{device}.{_sign(secret, device)}"


def known_device(secret: bytes, cookie: str | None) -> str | None:
    """The device id if the cookie is one the appliance signed, else None."""
    if not cookie or "." not in cookie:
        return None
    device, signature = cookie.rsplit(".", 1)
    return device if hmac.compare_digest(signature, _sign(secret, device)) else None


def _sign(secret: bytes, device: str) -> str:
    return hmac.new(secret, f"device:{device}".encode(), hashlib.sha256).hexdigest()[:32]


class SignInThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (failures, not before, when its last try was let through)
        self._clients: OrderedDict[str, tuple[int, float, float]] = OrderedDict()
        self._failures: deque[float] = deque()  # when each recent failure happened, anywhere
        self._last_unknown = -1e18  # the last try from a device the appliance doesn't know

    def wait(self, key: str, *, known: bool) -> float:
        """Seconds before ``key`` may try a password; 0: try now, and the try is already counted
        as a failure (``succeeded`` takes it back)."""
        now = self._clock()
        with self._lock:
            _, not_before, _ = self._clients.get(key, (0, 0.0, 0.0))
            wait = not_before - now
            if not known:
                while self._failures and self._failures[0] < now - GLOBAL_WINDOW_S:
                    self._failures.popleft()
                excess = len(self._failures) - GLOBAL_FREE
                if excess >= 0:
                    spacing = min(2.0 ** (excess // 10), GLOBAL_MAX_SPACING_S)
                    wait = max(wait, self._last_unknown + spacing - now)
            if wait > 0:
                return wait
            if not known:
                self._last_unknown = now
            failures = self._clients.pop(key, (0, 0.0, 0.0))[0] + 1
            delay = 0.0 if failures < FREE_FAILURES else min(2.0 ** (failures - FREE_FAILURES), MAX_DELAY_S)
            self._clients[key] = (failures, now + delay, now)
            while len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)
            self._failures.append(now)
            return 0.0

    def succeeded(self, key: str) -> None:
        """The right password: ``key``'s failures are forgotten, this try's with them."""
        with self._lock:
            _, _, tried_at = self._clients.pop(key, (0, 0.0, None))
            if tried_at is not None:
                try:
                    self._failures.remove(tried_at)
                except ValueError:  # already out of the window
                    pass
