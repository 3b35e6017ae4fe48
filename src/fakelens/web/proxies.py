"""Who is calling, and over what: the client address and HTTPS, believing X-Forwarded-*
headers only from the reverse proxies named in ``FAKELENS_TRUSTED_PROXIES``."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.datastructures import Headers
from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_trusted(spec: str) -> tuple[Network, ...]:
    """``"10.0.0.1, 192.168.0.0/16"`` -> networks (bad entries raise ValueError)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in spec.split(",") if part.strip())


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else ""


def _from_trusted_proxy(scope: Scope, trusted: str) -> bool:
    networks = parse_trusted(trusted)
    if not networks:
        return False
    try:
        peer = ipaddress.ip_address(_peer(scope))
    except ValueError:
        return False
    return any(peer in net for net in networks)


def is_https(scope: Scope, trusted: str) -> bool:
    if scope.get("scheme") in ("https", "wss"):
        return True
    if not _from_trusted_proxy(scope, trusted):
        return False
    proto = Headers(scope=scope).get("x-forwarded-proto", "")
    return proto.split(",")[0].strip().lower() in ("https", "wss")


def client_ip(scope: Scope, trusted: str) -> str:
    """The caller's address: the proxy's X-Forwarded-For entry when a trusted proxy sent
    it (the right-most address that is not itself a trusted proxy), else the peer."""
    peer = _peer(scope) or "unknown"
    if not _from_trusted_proxy(scope, trusted):
        return peer
    networks = parse_trusted(trusted)
    hops = [h.strip() for h in Headers(scope=scope).get("x-forwarded-for", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return peer
        if not any(address in net for net in networks):
            return str(address)
    return peer
