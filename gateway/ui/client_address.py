"""Which client sent a request, when reverse proxies stand in front of the gateway.

Behind a proxy every connection comes from the proxy, so anything counted per socket
address (the sign-in limits) would count all clients as one. A proxy says who its client
was in ``X-Forwarded-For``, appending the address it saw to whatever the client sent. So
the header is read only when the peer is a trusted proxy (``GATEWAY_HTTP_TRUSTED_PROXIES``),
from the right: the first address that is not itself a trusted proxy is the client. The
entries left of it are the client's own words and are never believed.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp import web

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


def client_address(request: web.Request, trusted: Sequence[Network]) -> str:
    """The address of the client, as a string (``"unknown"`` without a socket address)."""
    peer = parse_address(request.remote or "")
    if peer is None:
        return request.remote or "unknown"
    if not _is_trusted(peer, trusted):
        return str(peer)
    client = peer
    for hop in reversed(_forwarded_hops(request)):
        address = parse_address(hop)
        if address is None:
            break  # a proxy wrote something that is not an address: stop at the last one
        client = address
        if not _is_trusted(address, trusted):
            break
    return str(client)


def forwarded_but_untrusted(request: web.Request, trusted: Sequence[Network]) -> bool:
    """Did a peer that is not a trusted proxy send ``X-Forwarded-For``? (A proxy missing
    from the setting, worth a warning: every client behind it counts as one.)"""
    if "X-Forwarded-For" not in request.headers:
        return False
    peer = parse_address(request.remote or "")
    return peer is None or not _is_trusted(peer, trusted)


def parse_address(text: str) -> Address | None:
    """An IP address as proxies write it (``1.2.3.4``, ``1.2.3.4:5678``, ``2001:db8::1``,
    ``[2001:db8::1]:443``); an IPv4-mapped IPv6 address is its IPv4 address."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def _forwarded_hops(request: web.Request) -> list[str]:
    return [
        hop
        for header in request.headers.getall("X-Forwarded-For", ())
        for hop in header.split(",")
        if hop.strip()
    ]
