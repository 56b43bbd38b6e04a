"""Fetching a page or a feed from the shop's own site, and nothing else.

The appliance sits inside the shop's network; an address typed into the admin must not become a
way to read the router's page or a cloud metadata service. So an address is fetched only when:

- it is http(s) on one of the shop's sites (``public_url`` and ``allowed_origins``): the same
  scheme, host and port (80 and 443 when none is written), so another service on the shop's
  machine (the appliance's own port) is not one of them;
- every address its name resolves to is a public one, unless the owner allowed private ones
  (``fetch_private_addresses``: a shop site on the same network);
- it answers within the time limit, redirects included (one deadline for the whole fetch: per
  hop, three redirects of 14 s each took 42 s), with at most ``MAX_FETCH_BYTES``;
- each redirect passes the same checks (a redirect elsewhere is refused, not followed).

A caller may add request headers and HTTP Basic credentials (a shop's order API wants them).
They go only to the origin the fetch started at: a redirect to another scheme, host or port (even
http to https on the same host) is followed without them, and no error message carries them.

The connection goes to the address that was checked, not to the name again: a hostile DNS
server answering a public address for the check and a private one for the connection
(rebinding) gets nowhere. The name still goes in the Host header and, over https, in the TLS
handshake, where the certificate is checked against it.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from appliance.kb.entry import EntryError
from appliance.settings import Settings

MAX_FETCH_BYTES = 20 * 1024 * 1024
TIMEOUT_S = 15.0
MAX_REDIRECTS = 3
USER_AGENT = "support-appliance (the shop's own assistant, reading the shop's own page)"

Resolver = Callable[[str], list[str]]
Origin = tuple[str, str, int]  # scheme, host, port
DEFAULT_PORTS = {"http": 80, "https": 443}
# IPv6 ranges Python's is_global calls global (3.11) though they aren't: IPv4-compatible
# (::7f00:1 is 127.0.0.1), local-use NAT64, Teredo, the deprecated site-local range. NAT64
# (64:ff9b::a00:1 reaches 10.0.0.1) and 6to4 (2002::/16) are judged by the IPv4 address in them.
_NOT_GLOBAL_V6 = [ipaddress.IPv6Network(n) for n in ("::/96", "64:ff9b:1::/48", "2001::/32", "fec0::/10")]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# What a caller's header may be: a token for the name (RFC 9110), visible ASCII with spaces and
# tabs inside for the value. A line break would start a header of the caller's making (or a
# second request); a non-ASCII value, or one with a space at either end (a pasted key), makes
# httpx raise an error that quotes it.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Where the request goes and how it is framed are the fetch's own: Host is the checked name.
_OWN_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "te", "upgrade", "trailer"}


class FetchError(EntryError):
    """Why an address was not fetched; ``key`` (``fetch.*``) says it in the owner's language."""

    def __init__(self, address: str, why: str, key: str, **params: object):
        super().__init__("", f"{address}: {why}", key, **params)


@dataclass
class Fetched:
    url: str  # after redirects
    content_type: str
    body: bytes


def origin_of(url: str) -> Origin | None:
    """``url``'s (scheme, host, port), the port filled in when the scheme's default; None when
    it is not an http(s) address."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def shop_origins(public_url: str, allowed_origins: Iterable[str]) -> set[Origin]:
    """The shop's own sites as (scheme, host, port). A site on its scheme's standard port stands
    for the same host on the other standard port too (http://shop.example is the site that
    https://shop.example redirects from); any other port is only itself."""
    origins: set[Origin] = set()
    for written in [public_url, *allowed_origins]:
        written = written.strip()
        found = [origin_of(written)] if "//" in written else [origin_of(f"http://{written}")]
        for origin in found:
            if origin is None:
                continue
            origins.add(origin)
            scheme, host, port = origin
            if port == DEFAULT_PORTS[scheme]:
                other = "https" if scheme == "http" else "http"
                origins.add((other, host, DEFAULT_PORTS[other]))
    return origins


def _shown(origin: Origin) -> str:
    """The site as the owner reads it: the host, and the port when it isn't the standard one."""
    scheme, host, port = origin
    host = f"[{host}]" if ":" in host else host
    return host if port == DEFAULT_PORTS[scheme] else f"{host}:{port}"


def resolve(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A public unicast address. An IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4)
    is as public as that one: a name resolving to 64:ff9b::a00:1 leads to 10.0.0.1."""
    if isinstance(ip, ipaddress.IPv6Address):
        nat64 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        carried = ip.ipv4_mapped or ip.sixtofour or nat64
        if carried is not None:
            return _public(carried)
        if any(ip in net for net in _NOT_GLOBAL_V6):
            return False
    return ip.is_global and not ip.is_multicast


def _without_password(url: str) -> str:
    """``url`` as an error may show it: a user:password@ written in it left out."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="…@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def check(url: str, origins: set[Origin], *, allow_private: bool, resolver: Resolver = resolve) -> str | None:
    """Raise FetchError unless ``url`` may be fetched (see the module's rules). Returns the address
    to connect to (None: any, private ones allowed)."""
    parts = urlsplit(url)
    origin = origin_of(url)
    if origin is None or parts.username or parts.password:
        shown = _without_password(url)
        raise FetchError(shown, "not an http(s) address", "fetch.bad_address", url=shown[:200])
    host = origin[1]
    if origin not in origins:
        shown = _shown(origin)
        raise FetchError(url, f"{shown} is not one of the shop's sites", "fetch.not_allowed", host=shown)
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


def _callers_headers(
    url: str, headers: Mapping[str, str] | None, auth: tuple[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """The caller's headers and Basic credentials as headers, checked, and the secrets among them
    (every value: an API key may travel in any header), for errors to leave out."""
    out: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if (
            not _HEADER_NAME.fullmatch(name)
            or name.lower() in _OWN_HEADERS
            or not _HEADER_VALUE.fullmatch(value)
            or (auth is not None and name.lower() == "authorization")  # which would win is a guess
        ):
            shown = name[:40] if _HEADER_NAME.fullmatch(name) else "?"
            raise FetchError(url, f"the header {shown} can't be sent", "fetch.bad_header", name=shown)
        out[name] = value
    if auth is not None:
        user, password = auth
        # RFC 7617: no colon in the user; any other text, sent as UTF-8, but no line break
        if ":" in user or _CONTROL.search(user + password):
            raise FetchError(url, "the credentials can't be sent", "fetch.bad_header", name="Authorization")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        out["Authorization"] = f"Basic {token}"
    secrets = [v for v in (*out.values(), *(auth or ())) if len(v) >= 4]
    if auth is not None:
        secrets.append(out["Authorization"].removeprefix("Basic "))
    return out, secrets


def _scrubbed(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "…")
    return text


def fetch(
    url: str,
    *,
    origins: set[Origin],
    allow_private: bool,
    timeout_s: float = TIMEOUT_S,
    max_bytes: int = MAX_FETCH_BYTES,
    resolver: Resolver = resolve,
    accept: str = "*/*",
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> Fetched:
    """GET ``url`` under the rules above. Blocking: call it from a worker thread. ``headers`` go
    over the defaults (User-Agent, Accept); ``auth`` is HTTP Basic (user, password). Both are sent
    only while the fetch stays on ``url``'s origin."""
    extra, secrets = _callers_headers(url, headers, auth)
    start = origin_of(url)
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False) as client:
        for hop in range(MAX_REDIRECTS + 1):
            try:
                address = check(url, origins, allow_private=allow_private, resolver=resolver)
            except FetchError as exc:
                if exc.key == "fetch.not_allowed" and hop:
                    raise FetchError(url, "redirected off the shop's sites", "fetch.redirect", url=url[:200]) from None
                raise
            target, host_header, extensions = _pinned(url, address)
            if extra and origin_of(url) != start:
                # Left behind for good: a site that redirects elsewhere doesn't get them back by
                # redirecting again.
                extra = {}
            sent = httpx.Headers({"User-Agent": USER_AGENT, "Accept": accept})
            sent.update(extra)  # over the defaults, whatever their case
            sent.update(host_header)
            try:
                left = deadline - time.monotonic()  # each hop gets what the fetch has left
                if left <= 0:
                    raise httpx.ReadTimeout("too slow")
                with client.stream(
                    "GET", target, headers=sent, extensions=extensions, timeout=httpx.Timeout(left)
                ) as response:
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
                reason = _scrubbed(str(exc), secrets)[:200] or type(exc).__name__
                raise FetchError(url, reason, "fetch.failed", detail=reason) from None
    raise FetchError(url, "too many redirects", "fetch.too_many_redirects")


def from_shop(
    url: str,
    settings: Settings,
    *,
    accept: str,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> Fetched:
    """``fetch`` under the shop's own settings: its sites, and whether private addresses may be
    read (a page the owner gave, the product feed, the shop's order API with its key)."""
    return fetch(
        url,
        origins=shop_origins(settings.public_url, settings.allowed_origins),
        allow_private=settings.fetch_private_addresses,
        accept=accept,
        headers=headers,
        auth=auth,
    )


def _too_big(url: str, max_bytes: int) -> FetchError:
    mb = max_bytes // 2**20
    return FetchError(url, f"larger than {mb} MB", "fetch.too_big", n=mb)
