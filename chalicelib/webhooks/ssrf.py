"""The SSRF guard: a webhook may only reach the public internet.

Checked twice: when an endpoint is registered (its URL and every address its name resolves
to) and when a delivery is sent — against the address the socket actually connected to, so
a name that re-resolves somewhere private between the two checks (DNS rebinding) is caught.
Every spelling of an address is normalised first: ``2130706433``, ``0x7f000001``,
``0177.0.0.1``, ``127.1``, ``[::ffff:127.0.0.1]`` are all 127.0.0.1.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrl(ValueError):
    """The URL is not allowed as a webhook target; ``str(exc)`` says why (safe to show the tenant)."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"the host name {host!r} does not resolve") from exc
    return sorted({str(info[4][0]) for info in infos})


def literal_address(host: str) -> Address | None:
    """The address a host spells, in any notation ``inet_aton`` accepts, or None for a name.

    Example
    -------
    >>> str(literal_address("2130706433")), str(literal_address("0x7f000001")), str(literal_address("127.1"))
    ('127.0.0.1', '127.0.0.1', '127.0.0.1')
    >>> str(literal_address("[::ffff:127.0.0.1]"))
    '::ffff:7f00:1'
    >>> literal_address("hooks.example.com") is None
    True
    """
    value = host.strip().strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        pass
    try:  # legacy IPv4 spellings: decimal, hex, octal, short forms
        return ipaddress.IPv4Address(socket.inet_aton(value))
    except (OSError, ValueError):
        return None


def refusal(address: Address, *, allow_loopback: bool = False) -> str | None:
    """Why an address must not be reached, or None when it is public.

    Example
    -------
    >>> refusal(ipaddress.ip_address("169.254.169.254"))
    'link-local address'
    >>> refusal(ipaddress.ip_address("100.64.1.1"))
    'carrier-grade NAT address'
    >>> refusal(ipaddress.ip_address("::ffff:10.0.0.1"))
    'private address'
    >>> refusal(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    True
    >>> refusal(ipaddress.ip_address("fec0::1"))
    'site-local address'
    >>> refusal(ipaddress.ip_address("93.184.216.34")) is None
    True
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(embedded, allow_loopback=allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "loopback address"
    checks = (
        (address.is_unspecified, "unspecified address"),
        (address.is_link_local, "link-local address"),
        (address.is_multicast, "multicast address"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "carrier-grade NAT address"),
        (isinstance(address, ipaddress.IPv6Address) and address in ipaddress.ip_network("fc00::/7"),
         "unique-local address"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "site-local address"),
        (address.is_private, "private address"),
        (address.is_reserved, "reserved address"),
        (not address.is_global, "non-public address"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    return None


def _with_article(phrase: str) -> str:
    """Example
    -------
    >>> _with_article("loopback address"), _with_article("private address")
    ('a loopback address', 'a private address')
    """
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def check_url(url: str, *, https_only: bool, allow_loopback: bool = False,
              resolve: Resolver = system_resolver) -> Target:
    """Parse and vet a webhook URL; raises UnsafeUrl with the reason.

    Example
    -------
    >>> check_url("https://hooks.example.com/linli", https_only=True,
    ...           resolve=lambda host, port: ["93.184.216.34"]).addresses
    ('93.184.216.34',)
    >>> check_url("https://2130706433/", https_only=True)
    Traceback (most recent call last):
    ...
    chalicelib.webhooks.ssrf.UnsafeUrl: the URL points at a loopback address (127.0.0.1)
    """
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("the URL is not valid") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or (https_only and scheme != "https"):
        raise UnsafeUrl("the URL must use https" if https_only else "the URL must use http or https")
    if parts.username or parts.password:
        raise UnsafeUrl("the URL must not carry credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrl("the URL has no host")
    port = port or (443 if scheme == "https" else 80)
    literal = literal_address(host)
    if literal is not None:
        addresses = [str(literal)]
    elif host.lower() == "localhost" or host.lower().endswith(".localhost"):
        addresses = ["127.0.0.1"]
        if not allow_loopback:
            raise UnsafeUrl("the URL points at a loopback address (localhost)")
    else:
        addresses = resolve(host, port)
        if not addresses:
            raise UnsafeUrl(f"the host name {host!r} does not resolve")
    for text in addresses:
        address = literal_address(text)
        reason = "unparseable address" if address is None else refusal(address, allow_loopback=allow_loopback)
        if reason:
            raise UnsafeUrl(f"the URL points at {_with_article(reason)} ({text})")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host_header = str(literal) if literal is not None else host
    return Target(url=url, scheme=scheme, host=host_header, port=port, path=path, addresses=tuple(addresses))


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    latency_ms: int
    peer: str


class _PinnedConnectionMixin:
    """Connects to one vetted address and checks the peer the socket really reached."""

    _pinned: str
    _allow_loopback: bool

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self._pinned, self.port), self.timeout)  # type: ignore[attr-defined]
        peer = literal_address(sock.getpeername()[0])
        reason = "unparseable address" if peer is None else refusal(peer, allow_loopback=self._allow_loopback)
        if reason:
            sock.close()
            raise UnsafeUrl(f"the connection reached {_with_article(reason)} ({peer})")
        return sock


class _HTTPConnection(_PinnedConnectionMixin, http.client.HTTPConnection):
    def connect(self) -> None:
        self.sock = self._open()


class _HTTPSConnection(_PinnedConnectionMixin, http.client.HTTPSConnection):
    def connect(self) -> None:
        sock = self._open()
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


MAX_ADDRESSES = 2


def _abort(connection: http.client.HTTPConnection, fired: threading.Event) -> None:
    fired.set()
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # unblocks a read stuck on a receiver that drips bytes
        except OSError:
            pass


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float = 15.0,
         allow_loopback: bool = False, read_limit: int = 1024) -> Response:
    """POST to a vetted target over a connection pinned to a vetted address. Redirects are not followed.

    ``timeout`` bounds the whole exchange with each address (a watchdog closes a connection that
    trickles), and at most two addresses are tried, so an attempt never takes more than 2 × timeout.
    Raises UnsafeUrl when the connected peer is not allowed, TimeoutError when the receiver is too
    slow, OSError/HTTPException when the exchange fails.
    """
    errors: list[Exception] = []
    for address in target.addresses[:MAX_ADDRESSES]:
        cls = _HTTPSConnection if target.scheme == "https" else _HTTPConnection
        kwargs = {"context": ssl.create_default_context()} if target.scheme == "https" else {}
        connection = cls(target.host, target.port, timeout=timeout, **kwargs)
        connection._pinned, connection._allow_loopback = address, allow_loopback
        started, fired = time.monotonic(), threading.Event()
        watchdog = threading.Timer(timeout, _abort, args=(connection, fired))
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read(read_limit)
            if fired.is_set():
                raise TimeoutError("the receiver took too long")
            return Response(status=answer.status, headers={k.lower(): v for k, v in answer.getheaders()},
                            body=content, latency_ms=int((time.monotonic() - started) * 1000), peer=address)
        except UnsafeUrl:
            raise
        except (OSError, http.client.HTTPException) as exc:
            errors.append(TimeoutError("the receiver took too long") if fired.is_set() else exc)
        finally:
            watchdog.cancel()
            connection.close()
    raise errors[-1] if errors else OSError("no address to connect to")
