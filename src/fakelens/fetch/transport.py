"""The only way a fetch reaches the network: a yt-dlp request handler (its urllib handler,
narrowed) that

- checks the address of every connection it opens (first request, each redirect, each
  media fragment) with ``guard.refusal``, at connect time, on the address actually used;
- speaks http(s) only (no file:, data:, ftp:; no proxy from the environment);
- follows at most ``max_redirects`` redirects per request;
- stops every read past the fetch's deadline or its byte budget (pages and media
  together), so a slow or endless response cannot hold a worker or fill a disk.

What stopped a fetch is written into the shared ``Policy``: yt-dlp wraps the exception
in its own, and ``download`` reads the reason from there.

It builds on yt-dlp's urllib handler internals (``yt_dlp.networking._urllib``), which is
why yt-dlp is pinned to one release series in pyproject.toml.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from yt_dlp.networking._helper import _socket_connect, create_connection
from yt_dlp.networking._urllib import (
    HTTPHandler,
    RedirectHandler,
    UrllibRH,
)

from fakelens.fetch import guard
from fakelens.fetch.guard import SCHEMES, refused_message


class FetchStopped(Exception):
    """Raised inside yt-dlp to end a fetch; the reason is in the ``Policy``."""


@dataclass
class Policy:
    """The limits of one fetch, and what stopped it (set once, read afterwards)."""

    allow_private: bool
    max_redirects: int
    max_bytes: int  # everything read: pages and media
    deadline: float  # time.monotonic() by which the fetch must be over
    refused: str | None = None  # a refused address or scheme, in plain words
    over: str | None = None  # "bytes" or "time"
    read_bytes: int = 0
    _sockets: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _timer: threading.Timer | None = None

    def arm(self) -> None:
        """At the deadline, cut every connection of the fetch: a response that trickles
        a byte now and then blocks a read for ever, and no socket timeout sees it."""
        self._timer = threading.Timer(max(0.0, self.deadline - time.monotonic()),
                                      self._expire)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
        if time.monotonic() > self.deadline:
            self._expire()

    def _expire(self) -> None:
        self.over = self.over or "time"
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self, *, refused: str | None = None, over: str | None = None) -> FetchStopped:
        self.refused = self.refused or refused
        self.over = self.over or over
        return FetchStopped(refused or over)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise self.stop(over="time")

    def charge(self, n: int) -> None:
        self.read_bytes += n
        if self.read_bytes > self.max_bytes:
            raise self.stop(over="bytes")


class _GuardedHTTPHandler(HTTPHandler):
    """yt-dlp's HTTP handler whose connections check the address they connect to."""

    def __init__(self, policy: Policy, **kwargs):
        super().__init__(**kwargs)
        self.policy = policy

    def _connection(self, conn_class, req, *args, **kwargs):
        conn = conn_class(*args, **kwargs)
        url, host = req.full_url, req.host.rsplit(":", 1)[0].strip("[]")
        policy = self.policy

        def connect(ip_addr, timeout, source_address):
            policy.check_time()
            address = ip_addr[4][0].split("%", 1)[0]
            why = guard.refusal(address, policy.allow_private)
            if why:
                raise policy.stop(refused=refused_message(url, host, address, why))
            sock = _socket_connect(ip_addr, timeout, source_address)
            policy.track(sock)
            return sock

        conn._create_connection = functools.partial(create_connection,
                                                    _create_socket_func=connect)
        return conn

    def http_open(self, req):
        return self.do_open(functools.partial(self._connection, http.client.HTTPConnection,
                                              req), req)

    def https_open(self, req):
        return self.do_open(functools.partial(self._connection, http.client.HTTPSConnection,
                                              req), req, context=self._context)


class _LimitedRedirects(RedirectHandler):
    """yt-dlp's redirect handling, http(s) targets only, at most ``max_redirections``."""

    def __init__(self, policy: Policy):
        super().__init__()
        self.policy = policy
        self.max_redirections = policy.max_redirects

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        target = urllib.parse.urljoin(req.full_url, newurl)
        if urlsplit(target).scheme.lower() not in SCHEMES:
            raise self.policy.stop(refused=f"{req.full_url}: refused: it redirects to "
                                   f"{target}, which is not an http(s) link")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class GuardedRH(UrllibRH):
    """The request handler of a fetch (see the module's docstring)."""

    _SUPPORTED_URL_SCHEMES = SCHEMES
    _SUPPORTED_PROXY_SCHEMES = ()
    _SUPPORTED_FEATURES = ()
    RH_NAME = "fakelens-guarded"

    def __init__(self, *, policy: Policy, **kwargs):
        kwargs.pop("enable_file_urls", None)
        kwargs["proxies"] = {}
        super().__init__(**kwargs)
        self.policy = policy

    def _check_extensions(self, extensions):
        super()._check_extensions(extensions)
        extensions.pop("impersonate", None)

    def _create_instance(self, proxies, cookiejar, legacy_ssl_support=None):
        opener = urllib.request.OpenerDirector()
        for handler in (
            _GuardedHTTPHandler(self.policy, debuglevel=0, source_address=self.source_address,
                                context=self._make_sslcontext(
                                    legacy_ssl_support=legacy_ssl_support)),
            urllib.request.HTTPCookieProcessor(cookiejar),
            urllib.request.UnknownHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
            _LimitedRedirects(self.policy),
        ):
            opener.add_handler(handler)
        opener.addheaders = []
        return opener

    def _send(self, request):
        self.policy.check_time()
        response = super()._send(request)
        read = response.read
        policy = self.policy

        def metered(amt=None):
            policy.check_time()
            data = read(amt)
            policy.charge(len(data))
            return data

        response.read = metered
        return response


def handler_factory(policy: Policy):
    """What ``YoutubeDL.build_request_director`` instantiates: the guarded handler."""
    return functools.partial(GuardedRH, policy=policy)


__all__ = ["FetchStopped", "GuardedRH", "Policy", "handler_factory"]
