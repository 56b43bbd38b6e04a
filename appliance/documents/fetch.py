"""Fetching a page or a feed from the shop's own site, and nothing else.

The appliance sits inside the shop's network; an address typed into the admin must not become a
way to read the router's page or a cloud metadata service. So an address is fetched only when:

- it is http(s) on one of the shop's hosts (``public_url`` and ``allowed_origins``);
- every address its name resolves to is a public one, unless the owner allowed private ones
  (``fetch_private_addresses``: a shop site on the same network);
- it answers within the time limit, with at most ``MAX_FETCH_BYTES``;
- each redirect passes the same checks (a redirect elsewhere is refused, not followed).

The connection goes to the address that was checked, not to the name again: a hostile DNS
server answering a public address for the check and a private one for the connection
(rebinding) gets nowhere. The name still goes in the Host header and, over https, in the TLS
handshake, where the certificate is checked against it.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from ..answering.entry import EntryError
from ..settings import Settings

MAX_FETCH_BYTES = 20 * 1024 * 1024
TIMEOUT_S = 15.0
MAX_REDIRECTS = 3
USER_AGENT = "support-appliance (the shop's own assistant, reading the shop's own page)"

Resolver = Callable[[str], list[str]]


class FetchError(EntryError):
    """Why an address was not fetched; ``key`` (``fetch.*``) says it in the owner's language."""

    def __init__(self, address: str, why: str, key: str, **params: object):
        super().__init__("", f"{address}: {why}", key, **params)


@dataclass
class Fetched:
    url: str  # after redirects
    content_type: str
    body: bytes


def shop_hosts(public_url: str, allowed_origins: Iterable[str]) -> set[str]:
    """The host names of the shop's own sites."""
    hosts = set()
    for origin in [public_url, *allowed_origins]:
        host = urlsplit(origin.strip() if "//" in origin else f"//{origin.strip()}").hostname
        if host:
            hosts.add(host.lower())
    return hosts


def resolve(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global


def check(url: str, hosts: set[str], *, allow_private: bool, resolver: Resolver = resolve) -> str | None:
    """Raise FetchError unless ``url`` may be fetched (see the module's rules). Returns the address
    to connect to (None: any, private ones allowed)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host or parts.username or parts.password:
        raise FetchError(url, "not an http(s) address", "fetch.bad_address", url=url[:200])
    if host not in hosts:
        raise FetchError(url, f"{host} is not one of the shop's sites", "fetch.not_allowed", host=host)
    if allow_private:
        return None
    try:
        addresses = resolver(host)
    except (OSError, UnicodeError) as exc:
        raise FetchError(url, f"can't resolve {host}: {exc}", "fetch.failed", detail=str(exc)[:200]) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not _public(ip):
            raise FetchError(url, f"{host} resolves to the private address {address}", "fetch.private", host=host)
    if not addresses:
        raise FetchError(url, f"can't resolve {host}", "fetch.failed", detail=host)
    return addresses[0]


def _pinned(url: str, address: str | None) -> tuple[str, dict[str, str], dict[str, str]]:
    """The request for ``url`` sent to ``address``: the address in the URL, the name in the Host
    header and (https) as the TLS server name, so the certificate is checked against the name."""
    if address is None:
        return url, {}, {}
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    return (
        parts._replace(netloc=netloc).geturl(),
        {"Host": parts.netloc.rsplit("@", 1)[-1]},
        {"sni_hostname": host} if parts.scheme == "https" else {},
    )


def fetch(
    url: str,
    *,
    hosts: set[str],
    allow_private: bool,
    timeout_s: float = TIMEOUT_S,
    max_bytes: int = MAX_FETCH_BYTES,
    resolver: Resolver = resolve,
    accept: str = "*/*",
) -> Fetched:
    """GET ``url`` under the rules above. Blocking: call it from a worker thread."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False) as client:
        for hop in range(MAX_REDIRECTS + 1):
            try:
                address = check(url, hosts, allow_private=allow_private, resolver=resolver)
            except FetchError as exc:
                if exc.key == "fetch.not_allowed" and hop:
                    raise FetchError(url, "redirected off the shop's sites", "fetch.redirect", url=url[:200]) from None
                raise
            target, host_header, extensions = _pinned(url, address)
            headers = {"User-Agent": USER_AGENT, "Accept": accept, **host_header}
            try:
                with client.stream("GET", target, headers=headers, extensions=extensions) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    if response.status_code >= 400:
                        raise FetchError(
                            url, f"status {response.status_code}", "fetch.status", status=response.status_code
                        )
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > max_bytes:
                        raise _too_big(url, max_bytes)
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > max_bytes:
                            raise _too_big(url, max_bytes)
                        if time.monotonic() > deadline:  # a server trickling bytes forever
                            raise httpx.ReadTimeout("too slow")
                    return Fetched(url, response.headers.get("content-type", ""), bytes(body))
            except httpx.TimeoutException:
                raise FetchError(url, f"no answer within {timeout_s:g} s", "fetch.timeout", n=int(timeout_s)) from None
            except httpx.HTTPError as exc:
                reason = str(exc)[:200] or type(exc).__name__
                raise FetchError(url, reason, "fetch.failed", detail=reason) from None
    raise FetchError(url, "too many redirects", "fetch.too_many_redirects")


def from_shop(url: str, settings: Settings, *, accept: str) -> Fetched:
    """``fetch`` under the shop's own settings: its hosts, and whether private addresses may be
    read (a page the owner gave, the product feed)."""
    return fetch(
        url,
        hosts=shop_hosts(settings.public_url, settings.allowed_origins),
        allow_private=settings.fetch_private_addresses,
        accept=accept,
    )


def _too_big(url: str, max_bytes: int) -> FetchError:
    mb = max_bytes // 2**20
    return FetchError(url, f"larger than {mb} MB", "fetch.too_big", n=mb)
