"""Which links may be fetched: http(s) only, and never from the server's own network.

Fetching a URL on a user's behalf lets that user make the server open connections (SSRF):
to its loopback services, its intranet, a cloud's metadata service. Every address a
fetch connects to passes ``refusal`` (the transport checks the address it actually
connects to, on every request and redirect, so a name that resolves differently the
second time gains nothing); ``check_link`` refuses the obvious cases before anything
starts, with the same words.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from fakelens.errors import LinkRefused

SCHEMES = ("http", "https")
_LINK = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# cloud instance-metadata services: refused even where private addresses are allowed
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
    "169.254.170.2",  # AWS ECS task metadata
    "fd00:ec2::254",  # AWS over IPv6
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",  # Oracle Cloud
    "168.63.129.16",  # Azure wire server
))
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_link(text: str) -> bool:
    """Whether a command-line argument is a link (``scheme://...``) rather than a path."""
    return bool(_LINK.match(text))


def check_link(url: str, allow_private: bool) -> str:
    """``url`` stripped, if its scheme is http(s), it names a host and that host resolves
    only to addresses that may be fetched; else ``LinkRefused`` saying why."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise LinkRefused(f"{url}: not a valid link ({exc})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise LinkRefused(f"{url}: only http:// and https:// links can be checked")
    if not parts.hostname:
        raise LinkRefused(f"{url}: the link names no host")
    host = parts.hostname
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    for address in resolve(host, port, url):
        why = refusal(address, allow_private)
        if why:
            raise LinkRefused(refused_message(url, host, address, why))
    return url


def resolve(host: str, port: int, url: str) -> list[IPAddress]:
    """Every address ``host`` resolves to (``LinkRefused`` when it resolves to none)."""
    from fakelens.errors import LinkUnsupported

    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise LinkUnsupported(f"{url}: the site {host} could not be found ({exc})") from None
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def refusal(address: IPAddress | str, allow_private: bool) -> str | None:
    """Why a fetch may not connect to ``address`` (plain words), or None if it may."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        return "a cloud metadata address"
    if ip.is_unspecified or ip.is_multicast:
        return "not an address a site can have"
    if ip.is_global:
        return None
    if allow_private:
        return None
    if ip.is_loopback:
        return "a loopback address (this server itself)"
    if ip.is_link_local:
        return "a link-local address"
    return "a private or reserved address"


def refused_message(url: str, host: str, address: IPAddress | str, why: str) -> str:
    shown = host if str(address) == host else f"{host} ({address})"
    return (f"{url}: refused: {shown} is {why}. The server fetches links only from public "
            "addresses (FAKELENS_FETCH_ALLOW_PRIVATE=1 allows private ones on an intranet)")
