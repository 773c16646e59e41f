"""The address a request came from, for the limits that count per address.

Behind the TLS proxy the README asks for, every request reaches the lab from the proxy,
so the connection's address alone would put a whole school under one count. The proxy
names the client in ``X-Forwarded-For``, but anyone can send that header, so it is read
only when the connection comes from a proxy the lab was told to trust
(``LAB_TRUSTED_PROXIES``), and then from the right: each trusted proxy appends the
address it saw, and the first address from the right that is not a trusted proxy is the
client (anything left of it is the client's own say, and not believed).
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def trusted_networks() -> tuple[Network, ...]:
    """The networks of the proxies in ``LAB_TRUSTED_PROXIES`` (addresses or CIDR ranges)."""
    return _networks(tuple(settings.LAB_TRUSTED_PROXIES))


def _parsed(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address) -> bool:
    return any(address in network for network in trusted_networks())


def client_address(request) -> str:
    """The client's address: the connection's, or, when that is a trusted proxy, the
    address the proxies recorded in ``X-Forwarded-For``. Empty when there is none."""
    if request is None:
        return ""
    peer = request.META.get("REMOTE_ADDR", "")
    parsed = _parsed(peer)
    if parsed is None or not _trusted(parsed):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(forwarded):
        address = _parsed(hop)
        if address is None:
            break  # a garbled entry: what lies left of it was not written by a proxy
        if not _trusted(address):
            return str(address)
        parsed = address
    # Every hop was a trusted proxy (or the header was missing): the nearest one is all
    # that is known.
    return str(parsed)
